using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace RetailSync.Connectors.Salesforce;

/// <summary>
/// Salesforce REST adapter: sObject Collections upsert by external id (200 records a call,
/// <c>allOrNone: false</c>, a result per record), record create/update, SOQL with paging.
/// Reads <c>Sforce-Limit-Info</c>; REQUEST_LIMIT_EXCEEDED and 503 are transient, validation is permanent.
/// </summary>
public sealed partial class SalesforceClient(HttpClient http, IOptionsMonitor<ConnectorOptions> options, SalesforceSession session, ILogger<SalesforceClient> logger) : ICrm
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
        var guests = options.CurrentValue.Salesforce.GuestAccountId;
        var payload = new JsonObject
        {
            ["allOrNone"] = false,
            ["records"] = new JsonArray([.. chunk.Select(r =>
            {
                var copy = (JsonObject)r.DeepClone();
                copy["attributes"] = new JsonObject { ["type"] = sObject };
                // An order of a buyer the CRM does not know goes under the tenant's guest account; without one Salesforce refuses it.
                if (sObject == "Order" && copy["AccountId"] is null && guests.Length > 0)
                {
                    copy["AccountId"] = guests;
                }

                return (JsonNode)copy;
            })]),
        };
        var body = await SendAsync(HttpMethod.Patch, $"composite/sobjects/{sObject}/{externalIdField}", payload, cancellationToken) as JsonArray ?? [];
        return [.. body.Select(r => new CrmUpsertResult(
            r!["id"]?.GetValue<string>(),
            r["success"]!.GetValue<bool>(),
            r["created"]?.GetValue<bool>() ?? false,
            r["errors"]?.AsArray().FirstOrDefault()?["statusCode"]?.GetValue<string>(),
            r["errors"]?.AsArray().FirstOrDefault()?["message"]?.GetValue<string>()))];
    }

    public async Task<string> CreateAsync(string sObject, JsonObject fields, CancellationToken cancellationToken = default)
    {
        var body = await SendAsync(HttpMethod.Post, $"sobjects/{sObject}", fields, cancellationToken);
        return body?["id"]?.GetValue<string>() ?? throw new ConnectorException(SystemName, FailureKind.Transient, null, "create answered without an id");
    }

    public async Task UpdateAsync(string sObject, string id, JsonObject fields, CancellationToken cancellationToken = default)
    {
        await SendAsync(HttpMethod.Patch, $"sobjects/{sObject}/{id}", fields, cancellationToken);
    }

    public async Task<IReadOnlyList<JsonObject>> QueryAsync(string soql, CancellationToken cancellationToken = default)
    {
        var rows = new List<JsonObject>();
        string? next = "query?q=" + Uri.EscapeDataString(soql);
        while (next is not null)
        {
            var page = await SendAsync(HttpMethod.Get, next, null, cancellationToken) ?? new JsonObject();
            rows.AddRange((page["records"] as JsonArray ?? []).OfType<JsonObject>().Select(r => (JsonObject)r.DeepClone()));
            // nextRecordsUrl is a path on the instance (/services/data/vNN.0/query/...).
            next = page["done"]?.GetValue<bool>() == false && page["nextRecordsUrl"]?.GetValue<string>() is { } more ? more : null;
        }

        return rows;
    }

    /// <summary>A path under the REST API (<c>sobjects/...</c>), or one on the instance itself (<c>/services/...</c>).</summary>
    private string Url(SalesforceSession.Grant grant, string path)
    {
        if (string.IsNullOrEmpty(grant.InstanceUrl))
        {
            return path;
        }

        var instance = grant.InstanceUrl.TrimEnd('/');
        return path.StartsWith('/') ? instance + path : $"{instance}/services/data/{options.CurrentValue.Salesforce.ApiVersion}/{path}";
    }

    /// <summary>
    /// One call; an expired session (<c>401 INVALID_SESSION_ID</c>) with a connected app gets a new token and is sent once
    /// more, and if the org still refuses it the failure is transient: the command waits and tries again, it does not end.
    /// </summary>
    private async Task<JsonNode?> SendAsync(HttpMethod method, string path, JsonNode? content, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var grant = await session.CurrentAsync(cancellationToken);
            using var request = new HttpRequestMessage(method, Url(grant, path)) { Content = content is null ? null : JsonContent.Create(content) };
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", grant.AccessToken);
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
                var renewable = status == 401 && session.CanRenew;
                if (renewable && attempt == 1)
                {
                    await session.RenewAsync(grant, cancellationToken);
                    continue;
                }

                var kind = renewable || code is "REQUEST_LIMIT_EXCEEDED" or "UNABLE_TO_LOCK_ROW" or "SERVER_UNAVAILABLE" ? FailureKind.Transient : ConnectorException.KindOf(status);
                throw new ConnectorException(SystemName, kind, code ?? status.ToString(System.Globalization.CultureInfo.InvariantCulture), message);
            }
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
