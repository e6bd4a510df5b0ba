using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace RetailSync.Connectors.Salesforce;

/// <summary>
/// Salesforce REST adapter: sObject Collections upsert by external id (200 records a call,
/// <c>allOrNone: false</c>, a result per record), record create/update, SOQL with paging.
/// Reads <c>Sforce-Limit-Info</c>; REQUEST_LIMIT_EXCEEDED and 503 are transient, validation is permanent.
/// </summary>
public sealed partial class SalesforceClient(HttpClient http, IOptionsMonitor<ConnectorOptions> options, ILogger<SalesforceClient> logger) : ICrm
{
    public const string SystemName = "salesforce";
    public const int CollectionLimit = 200;

    /// <summary>The last <c>api-usage=N/M</c> the org reported.</summary>
    public (long Used, long Allocation)? ApiUsage { get; private set; }

    public async Task<IReadOnlyList<CrmUpsertResult>> UpsertAsync(string sObject, string externalIdField, IReadOnlyList<JsonObject> records, CancellationToken cancellationToken = default)
    {
        var results = new List<CrmUpsertResult>(records.Count);
        foreach (var chunk in records.Chunk(CollectionLimit))
        {
            var answers = await UpsertChunkAsync(sObject, externalIdField, chunk, cancellationToken);
            // Two upserts of one new external id at once (a contact's golden record and its order): the other
            // insert committed first and ours failed DUPLICATE_VALUE on the external id. Sent again, it finds
            // that record and updates it.
            var raced = Enumerable.Range(0, chunk.Length).Where(i => answers[i] is { Success: false, ErrorCode: "DUPLICATE_VALUE" }
                && answers[i].Message?.Contains(externalIdField, StringComparison.OrdinalIgnoreCase) == true).ToList();
            if (raced.Count > 0)
            {
                var again = await UpsertChunkAsync(sObject, externalIdField, [.. raced.Select(i => chunk[i])], cancellationToken);
                foreach (var (i, answer) in raced.Zip(again))
                {
                    answers[i] = answer;
                }
            }

            results.AddRange(answers);
        }

        return results;
    }

    private async Task<CrmUpsertResult[]> UpsertChunkAsync(string sObject, string externalIdField, IReadOnlyList<JsonObject> chunk, CancellationToken cancellationToken)
    {
        var payload = new JsonObject
        {
            ["allOrNone"] = false,
            ["records"] = new JsonArray([.. chunk.Select(r =>
            {
                var copy = (JsonObject)r.DeepClone();
                copy["attributes"] = new JsonObject { ["type"] = sObject };
                return (JsonNode)copy;
            })]),
        };
        using var request = new HttpRequestMessage(HttpMethod.Patch, Url($"composite/sobjects/{sObject}/{externalIdField}")) { Content = JsonContent.Create(payload) };
        var body = await SendAsync(request, cancellationToken) as JsonArray ?? [];
        return [.. body.Select(r => new CrmUpsertResult(
            r!["id"]?.GetValue<string>(),
            r["success"]!.GetValue<bool>(),
            r["created"]?.GetValue<bool>() ?? false,
            r["errors"]?.AsArray().FirstOrDefault()?["statusCode"]?.GetValue<string>(),
            r["errors"]?.AsArray().FirstOrDefault()?["message"]?.GetValue<string>()))];
    }

    public async Task<string> CreateAsync(string sObject, JsonObject fields, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url($"sobjects/{sObject}")) { Content = JsonContent.Create(fields) };
        var body = await SendAsync(request, cancellationToken);
        return body?["id"]?.GetValue<string>() ?? throw new ConnectorException(SystemName, FailureKind.Transient, null, "create answered without an id");
    }

    public async Task UpdateAsync(string sObject, string id, JsonObject fields, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, Url($"sobjects/{sObject}/{id}")) { Content = JsonContent.Create(fields) };
        await SendAsync(request, cancellationToken);
    }

    public async Task<IReadOnlyList<JsonObject>> QueryAsync(string soql, CancellationToken cancellationToken = default)
    {
        var rows = new List<JsonObject>();
        var next = Url("query?q=" + Uri.EscapeDataString(soql));
        while (next is not null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, next);
            var page = await SendAsync(request, cancellationToken) ?? new JsonObject();
            rows.AddRange((page["records"] as JsonArray ?? []).OfType<JsonObject>().Select(r => (JsonObject)r.DeepClone()));
            next = page["done"]?.GetValue<bool>() == false && page["nextRecordsUrl"]?.GetValue<string>() is { } more
                ? options.CurrentValue.Salesforce.InstanceUrl.TrimEnd('/') + more
                : null;
        }

        return rows;
    }

    private string Url(string relative)
    {
        var settings = options.CurrentValue.Salesforce;
        return string.IsNullOrEmpty(settings.InstanceUrl) ? relative : $"{settings.InstanceUrl.TrimEnd('/')}/services/data/{settings.ApiVersion}/{relative}";
    }

    private async Task<JsonNode?> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", options.CurrentValue.Salesforce.AccessToken);
        var response = await Transport.SendAsync(http, request, SystemName, cancellationToken);

        using (response)
        {
            ReadLimitInfo(response);
            var body = await Transport.ReadJsonAsync(response, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return body;
            }

            var error = (body as JsonArray)?.FirstOrDefault();
            var code = error?["errorCode"]?.GetValue<string>();
            var message = error?["message"]?.GetValue<string>() ?? body?.ToJsonString() ?? "no body";
            var status = (int)response.StatusCode;
            var kind = code is "REQUEST_LIMIT_EXCEEDED" or "UNABLE_TO_LOCK_ROW" or "SERVER_UNAVAILABLE" ? FailureKind.Transient : ConnectorException.KindOf(status);
            throw new ConnectorException(SystemName, kind, code ?? status.ToString(System.Globalization.CultureInfo.InvariantCulture), message);
        }
    }

    private void ReadLimitInfo(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Sforce-Limit-Info", out var values))
        {
            return;
        }

        var usage = values.First().Split(';')[0].Split('=');
        if (usage.Length == 2 && usage[1].Split('/') is [var used, var allocation]
            && long.TryParse(used, out var u) && long.TryParse(allocation, out var a))
        {
            ApiUsage = (u, a);
            if (a > 0 && u > a * 0.9)
            {
                LogNearLimit(logger, u, a);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Salesforce API usage {Used}/{Allocation}: over 90% of the org's daily allocation")]
    private static partial void LogNearLimit(ILogger logger, long used, long allocation);
}
