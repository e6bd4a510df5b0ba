using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace RetailSync.Sandbox.Salesforce;

/// <summary>
/// Salesforce REST (v60+) as RetailSync uses it: sObject Collections upsert by external id, record
/// create/update, a SOQL subset with paging; array error bodies, per-record results, the
/// <c>Sforce-Limit-Info</c> header and the daily API allocation.
/// </summary>
public sealed partial class SalesforceSimulator(TimeProvider clock)
{
    public const string AccessToken = "sandbox-salesforce-token";
    private static readonly Dictionary<string, string[]> Required = new(StringComparer.Ordinal)
    {
        ["Account"] = ["Name"],
        ["Contact"] = ["LastName"],
        // An Order belongs to an Account (its AccountId is required and must name one).
        ["Order"] = ["AccountId", "EffectiveDate", "Status"],
        ["Case"] = [],
    };

    private static readonly Dictionary<string, string> Prefixes = new(StringComparer.Ordinal)
    {
        ["Account"] = "001", ["Contact"] = "003", ["Case"] = "500", ["Order"] = "801",
    };

    private readonly object gate = new();
    private readonly Dictionary<string, Dictionary<string, JsonObject>> records = new(StringComparer.Ordinal) { ["Account"] = GuestAccounts() };
    private readonly Dictionary<(string SObject, string Field), Dictionary<string, string>> indexes = [];
    private readonly Dictionary<(string SObject, string Field), Dictionary<string, List<string>>> queryIndexes = [];
    private readonly Dictionary<string, List<JsonObject>> cursors = [];
    private readonly List<(string SObject, string Field, string Message)> validationRules = [];
    private readonly HashSet<(string SObject, string Field, string Key)> racedInserts = [];
    private long sequence;

    public long ApiUsage { get; private set; }

    public long DailyAllocation { get; set; } = 100_000;

    public int QueryBatchSize { get; set; } = 2000;

    public void Reset()
    {
        lock (gate)
        {
            records.Clear();
            indexes.Clear();
            queryIndexes.Clear();
            cursors.Clear();
            validationRules.Clear();
            racedInserts.Clear();
            ApiUsage = 0;
            Sessions.Reset();
            SeedGuestAccount();
        }
    }

    /// <summary>The org's account for orders of buyers it has no contact for (what a tenant configures as its guest account).</summary>
    public const string GuestAccountId = "001SB0000000GUEST1";

    private void SeedGuestAccount() => records["Account"] = GuestAccounts();

    private static Dictionary<string, JsonObject> GuestAccounts() => new(StringComparer.Ordinal)
    {
        [GuestAccountId] = new JsonObject { ["Id"] = GuestAccountId, ["Name"] = "Web guests", ["LastModifiedDate"] = DateTimeOffset.UnixEpoch.ToString("O") },
    };

    /// <summary>Like an admin adding a validation rule: records of that object with the field empty fail.</summary>
    public void AddValidationRule(string sObject, string field, string message)
    {
        lock (gate)
        {
            validationRules.Add((sObject, field, message));
        }
    }

    /// <summary>
    /// Another client's insert of this external id is in flight: the next upsert that would create the record
    /// loses the race as on Salesforce, where the other insert commits first and ours fails per record with
    /// <c>DUPLICATE_VALUE</c> (this simulator serialises requests, so the race has to be arranged).
    /// </summary>
    public void RaceNextInsert(string sObject, string externalIdField, string key)
    {
        lock (gate)
        {
            racedInserts.Add((sObject, externalIdField, key));
        }
    }

    public void ClearValidationRules()
    {
        lock (gate)
        {
            validationRules.Clear();
        }
    }

    public object Snapshot()
    {
        lock (gate)
        {
            return new
            {
                apiUsage = ApiUsage,
                dailyAllocation = DailyAllocation,
                records = records.ToDictionary(r => r.Key, r => r.Value.Values.Select(x => JsonSerializer.Deserialize<JsonElement>(x.ToJsonString())).ToList()),
            };
        }
    }

    public IReadOnlyList<JsonObject> Records(string sObject)
    {
        lock (gate)
        {
            return records.TryGetValue(sObject, out var r) ? [.. r.Values.Select(x => (JsonObject)x.DeepClone())] : [];
        }
    }

    /// <summary>Authenticates and counts the call against the daily allocation; null when the call may proceed.</summary>
    public IResult? Gate(HttpContext http)
    {
        if (!SessionValid(http.Request.Headers.Authorization.ToString()))
        {
            return Errors(401, "Session expired or invalid", "INVALID_SESSION_ID");
        }

        lock (gate)
        {
            ApiUsage++;
            http.Response.Headers["Sforce-Limit-Info"] = $"api-usage={ApiUsage}/{DailyAllocation}";
            return ApiUsage > DailyAllocation ? Errors(403, "TotalRequests Limit exceeded.", "REQUEST_LIMIT_EXCEEDED") : null;
        }
    }

    public static IResult Errors(int status, string message, string code, params string[] fields) =>
        Results.Json(new[] { new { message, errorCode = code, fields } }, statusCode: status);

    public async Task<IResult> CollectionsUpsertAsync(HttpContext http, string sObject, string externalIdField)
    {
        if (Gate(http) is { } refused)
        {
            return refused;
        }

        var body = await ReadAsync(http);
        if (body is not JsonObject request || request["records"] is not JsonArray list)
        {
            return Errors(400, "Json Deserialization failed on token 'null' and has failed with exception: records is required", "JSON_PARSER_ERROR");
        }

        if (list.Count > 200)
        {
            return Errors(400, "Maximum number of records allowed in a collection is 200", "EXCEEDED_ID_LIMIT");
        }

        if (!Required.ContainsKey(sObject))
        {
            return Errors(404, "The requested resource does not exist", "NOT_FOUND");
        }

        var allOrNone = request["allOrNone"]?.GetValue<bool>() ?? false;
        lock (gate)
        {
            var inputs = new List<JsonObject>();
            foreach (var node in list)
            {
                if (node is not JsonObject record || record["attributes"]?["type"]?.GetValue<string>() != sObject)
                {
                    return Errors(400, $"The attributes.type of every record must be {sObject}", "INVALID_TYPE");
                }

                if (record.ContainsKey("Id"))
                {
                    return Errors(400, "Id not allowed in upsert by external id", "INVALID_FIELD_FOR_INSERT_UPDATE", "Id");
                }

                inputs.Add(record);
            }

            var table = Table(sObject);
            var index = ExternalIndex(sObject, externalIdField);
            // Only the records this request touches are staged (copies), so allOrNone can drop them all.
            var staged = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
            var stagedByKey = new Dictionary<string, string>(StringComparer.Ordinal);
            var results = new JsonArray();
            var failed = false;
            foreach (var record in inputs)
            {
                var key = record[externalIdField]?.ToString();
                var existingId = key is null ? null : stagedByKey.TryGetValue(key, out var s) ? s : index.GetValueOrDefault(key);
                var existing = existingId is null ? null : staged.TryGetValue(existingId, out var mine) ? mine : table[existingId];
                var merged = existing is null ? new JsonObject() : (JsonObject)existing.DeepClone();
                foreach (var (field, value) in record)
                {
                    if (field != "attributes")
                    {
                        merged[field] = value?.DeepClone();
                    }
                }

                var error = key is null
                    ? ("REQUIRED_FIELD_MISSING", $"Required fields are missing: [{externalIdField}]", new[] { externalIdField })
                    : Validate(sObject, merged);
                if (error is { } e)
                {
                    failed = true;
                    results.Add(new JsonObject
                    {
                        ["id"] = null, ["success"] = false, ["created"] = false,
                        ["errors"] = new JsonArray(new JsonObject { ["statusCode"] = e.Item1, ["message"] = e.Item2, ["fields"] = new JsonArray([.. e.Item3.Select(f => (JsonNode)f)]) }),
                    });
                    continue;
                }

                if (existing is null && racedInserts.Remove((sObject, externalIdField, key!)))
                {
                    var winner = (JsonObject)merged.DeepClone();
                    var winnerId = NewId(sObject);
                    winner["Id"] = winnerId;
                    winner["LastModifiedDate"] = DateTimeOffset.UtcNow.ToString("O");
                    Reindex(sObject, winnerId, null, winner);
                    table[winnerId] = winner;
                    index[key!] = winnerId;
                    failed = true;
                    results.Add(new JsonObject
                    {
                        ["id"] = null, ["success"] = false, ["created"] = false,
                        ["errors"] = new JsonArray(new JsonObject
                        {
                            ["statusCode"] = "DUPLICATE_VALUE", ["message"] = $"duplicate value found: {externalIdField} duplicates value on record with id: {winnerId}",
                            ["fields"] = new JsonArray(externalIdField),
                        }),
                    });
                    continue;
                }

                var created = existing is null;
                var id = created ? NewId(sObject) : existing!["Id"]!.GetValue<string>();
                merged["Id"] = id;
                merged["LastModifiedDate"] = DateTimeOffset.UtcNow.ToString("O");
                staged[id] = merged;
                stagedByKey[key!] = id;
                results.Add(new JsonObject { ["id"] = id, ["success"] = true, ["errors"] = new JsonArray(), ["created"] = created });
            }

            if (allOrNone && failed)
            {
                foreach (var result in results.OfType<JsonObject>().Where(r => r["success"]!.GetValue<bool>()))
                {
                    result["success"] = false;
                    result["id"] = null;
                    result["errors"] = new JsonArray(new JsonObject { ["statusCode"] = "ALL_OR_NONE_OPERATION_ROLLED_BACK", ["message"] = "Record rolled back because not all records were valid and the request was using AllOrNone header", ["fields"] = new JsonArray() });
                }
            }
            else
            {
                foreach (var (id, r) in staged)
                {
                    Reindex(sObject, id, table.GetValueOrDefault(id), r);
                    table[id] = r;
                }

                foreach (var (key, id) in stagedByKey)
                {
                    index[key] = id;
                }
            }

            return Results.Text(results.ToJsonString(), "application/json", statusCode: 200);
        }
    }

    public async Task<IResult> CreateAsync(HttpContext http, string sObject)
    {
        if (Gate(http) is { } refused)
        {
            return refused;
        }

        if (!Required.ContainsKey(sObject))
        {
            return Errors(404, "The requested resource does not exist", "NOT_FOUND");
        }

        if (await ReadAsync(http) is not JsonObject record)
        {
            return Errors(400, "Json Deserialization failed", "JSON_PARSER_ERROR");
        }

        lock (gate)
        {
            if (Validate(sObject, record) is { } e)
            {
                return Errors(400, e.Item2, e.Item1, e.Item3);
            }

            var id = NewId(sObject);
            record["Id"] = id;
            record["LastModifiedDate"] = DateTimeOffset.UtcNow.ToString("O");
            if (sObject == "Case")
            {
                record["CaseNumber"] = sequence.ToString("D8", System.Globalization.CultureInfo.InvariantCulture);
            }

            Reindex(sObject, id, null, record);
            Table(sObject)[id] = record;
            Changed(sObject);
            return Results.Json(new { id, success = true, errors = Array.Empty<object>() }, statusCode: 201);
        }
    }

    public async Task<IResult> UpdateAsync(HttpContext http, string sObject, string id)
    {
        if (Gate(http) is { } refused)
        {
            return refused;
        }

        if (await ReadAsync(http) is not JsonObject changes)
        {
            return Errors(400, "Json Deserialization failed", "JSON_PARSER_ERROR");
        }

        lock (gate)
        {
            if (!Table(sObject).TryGetValue(id, out var record))
            {
                return Errors(404, "The requested resource does not exist", "NOT_FOUND");
            }

            var merged = (JsonObject)record.DeepClone();
            foreach (var (field, value) in changes)
            {
                merged[field] = value?.DeepClone();
            }

            if (Validate(sObject, merged) is { } e)
            {
                return Errors(400, e.Item2, e.Item1, e.Item3);
            }

            merged["LastModifiedDate"] = DateTimeOffset.UtcNow.ToString("O");
            Reindex(sObject, id, record, merged);
            Table(sObject)[id] = merged;
            Changed(sObject);
            return Results.StatusCode(204);
        }
    }

    public IResult Query(HttpContext http, string? soql)
    {
        if (Gate(http) is { } refused)
        {
            return refused;
        }

        var match = Soql().Match(soql ?? "");
        if (!match.Success)
        {
            return Errors(400, "unexpected token: " + (soql ?? "").Split(' ').FirstOrDefault(), "MALFORMED_QUERY");
        }

        var fields = match.Groups["fields"].Value.Split(',', StringSplitOptions.TrimEntries);
        var sObject = match.Groups["object"].Value;
        lock (gate)
        {
            if (!Required.ContainsKey(sObject))
            {
                return Errors(400, $"sObject type '{sObject}' is not supported.", "INVALID_TYPE");
            }

            var table = Table(sObject);
            var rows = table.Values.AsEnumerable();
            if (match.Groups["field"].Success)
            {
                // Salesforce compares text case-insensitively in WHERE clauses (the index's keys do).
                var field = match.Groups["field"].Value;
                var values = match.Groups["list"].Success
                    ? SoqlString().Matches(match.Groups["list"].Value).Select(m => Unescape(m.Groups[1].Value)).Distinct(StringComparer.OrdinalIgnoreCase)
                    : [Unescape(match.Groups["value"].Value)];
                var index = QueryIndex(sObject, field);
                rows = values.SelectMany(v => index.TryGetValue(v, out var ids) ? ids : []).Distinct().Select(id => table[id]);
            }

            var selected = rows.Select(r =>
            {
                var row = new JsonObject { ["attributes"] = new JsonObject { ["type"] = sObject, ["url"] = $"/services/data/v62.0/sobjects/{sObject}/{r["Id"]}" } };
                foreach (var f in fields)
                {
                    row[f] = r[f]?.DeepClone();
                }

                return row;
            }).ToList();
            return Page(selected);
        }
    }

    public IResult More(HttpContext http, string locator)
    {
        if (Gate(http) is { } refused)
        {
            return refused;
        }

        lock (gate)
        {
            return cursors.Remove(locator, out var rest) ? Page(rest) : Errors(400, "invalid query locator", "INVALID_QUERY_LOCATOR");
        }
    }

    private IResult Page(List<JsonObject> rows)
    {
        var batch = rows.Take(QueryBatchSize).ToList();
        var response = new JsonObject { ["totalSize"] = rows.Count, ["done"] = rows.Count <= QueryBatchSize };
        if (rows.Count > QueryBatchSize)
        {
            var locator = $"01g{++sequence:D12}-{QueryBatchSize}";
            cursors[locator] = rows.Skip(QueryBatchSize).ToList();
            response["nextRecordsUrl"] = $"/services/data/v62.0/query/{locator}";
        }

        response["records"] = new JsonArray([.. batch]);
        return Results.Text(response.ToJsonString(), "application/json");
    }

    private (string, string, string[])? Validate(string sObject, JsonObject record)
    {
        foreach (var field in Required[sObject])
        {
            if (string.IsNullOrEmpty(record[field]?.ToString()))
            {
                return ("REQUIRED_FIELD_MISSING", $"Required fields are missing: [{field}]", [field]);
            }
        }

        if (sObject == "Order" && record["AccountId"]?.ToString() is { } account
            && !(records.TryGetValue("Account", out var accounts) && accounts.ContainsKey(account)))
        {
            return ("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", ["AccountId"]);
        }

        foreach (var (obj, field, message) in validationRules)
        {
            if (obj == sObject && string.IsNullOrEmpty(record[field]?.ToString()))
            {
                return ("FIELD_CUSTOM_VALIDATION_EXCEPTION", message, [field]);
            }
        }

        return null;
    }

    /// <summary>
    /// External id value → record id for one field of one table, built on first use and kept by upserts; any
    /// other write to the table drops it (rare in the sandbox), so a scan of the table happens once, not per record.
    /// </summary>
    private Dictionary<string, string> ExternalIndex(string sObject, string field)
    {
        if (!indexes.TryGetValue((sObject, field), out var index))
        {
            index = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (id, record) in Table(sObject))
            {
                if (record[field]?.ToString() is { } value)
                {
                    index.TryAdd(value, id);
                }
            }

            indexes[(sObject, field)] = index;
        }

        return index;
    }

    /// <summary>
    /// Field value (case-insensitive, as SOQL compares) → record ids, for the fields queries filter on: built on
    /// the first query and kept by every write. Without it
    /// every query scanned the table, and in long runs the simulator, not RetailSync, used most of the CPU.
    /// </summary>
    private Dictionary<string, List<string>> QueryIndex(string sObject, string field)
    {
        if (!queryIndexes.TryGetValue((sObject, field), out var index))
        {
            index = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
            foreach (var (id, record) in Table(sObject))
            {
                if (record[field]?.ToString() is { } value)
                {
                    (index.TryGetValue(value, out var ids) ? ids : index[value] = []).Add(id);
                }
            }

            queryIndexes[(sObject, field)] = index;
        }

        return index;
    }

    /// <summary>Keeps the query indexes of a table right when an upsert replaces one of its records.</summary>
    private void Reindex(string sObject, string id, JsonObject? before, JsonObject after)
    {
        foreach (var ((table, field), index) in queryIndexes)
        {
            if (table != sObject)
            {
                continue;
            }

            var old = before?[field]?.ToString();
            var now = after[field]?.ToString();
            if (string.Equals(old, now, StringComparison.OrdinalIgnoreCase) && (old is null) == (now is null))
            {
                continue;
            }

            if (old is not null && index.TryGetValue(old, out var oldIds))
            {
                oldIds.Remove(id);
            }

            if (now is not null)
            {
                (index.TryGetValue(now, out var ids) ? ids : index[now] = []).Add(id);
            }
        }
    }

    private void Changed(string sObject)
    {
        foreach (var key in indexes.Keys.Where(k => k.SObject == sObject).ToList())
        {
            indexes.Remove(key);
        }

    }

    private Dictionary<string, JsonObject> Table(string sObject)
    {
        if (!records.TryGetValue(sObject, out var table))
        {
            records[sObject] = table = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        }

        return table;
    }

    private string NewId(string sObject) => $"{Prefixes[sObject]}Sb{++sequence:D10}";

    private static async Task<JsonNode?> ReadAsync(HttpContext http)
    {
        try
        {
            return await JsonNode.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"^\s*SELECT\s+(?<fields>[\w\s,.]+?)\s+FROM\s+(?<object>\w+)(?:\s+WHERE\s+(?<field>\w+)\s*(?:=\s*'(?<value>(?:[^'\\]|\\.)*)'|IN\s*\((?<list>\s*'(?:[^'\\]|\\.)*'\s*(?:,\s*'(?:[^'\\]|\\.)*'\s*)*)\)))?\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex Soql();

    [GeneratedRegex(@"'((?:[^'\\]|\\.)*)'")]
    private static partial Regex SoqlString();

    /// <summary>A SOQL string literal's value: backslash escapes undone.</summary>
    private static string Unescape(string literal) => Regex.Replace(literal, @"\\(.)", "$1");
}
