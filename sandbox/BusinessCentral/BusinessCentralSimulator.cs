using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace RetailSync.Sandbox.BusinessCentral;

/// <summary>
/// Business Central API v2.0 for one company: customers, items (read-only inventory), salesOrders with
/// lines (deep insert), salesCreditMemos, OData <c>$filter eq</c>/<c>$expand</c>, weak ETags that change
/// on every write with <c>If-Match</c> required on PATCH (400 BadRequest_InvalidToken when missing,
/// 409 Request_EntityChanged when stale), JSON <c>$batch</c> of at most 100 operations, and the
/// <c>{"error":{"code","message"}}</c> envelope.
/// </summary>
public sealed partial class BusinessCentralSimulator(TimeProvider clock)
{
    public const string AccessToken = "sandbox-bc-token";

    /// <summary>The sandbox company's G/L account for written-off goods (Account lines must name an existing account).</summary>
    public const string WriteOffAccount = "8620";
    public static readonly Guid CompanyId = Guid.Parse("9f3c1a52-6d0e-4b8a-9a61-0c2f6d1e7a10");
    private static readonly string[] EntitySets = ["customers", "items", "salesOrders", "salesCreditMemos", "salesShipments"];

    private readonly object gate = new();
    private readonly Dictionary<string, Dictionary<Guid, JsonObject>> sets = EntitySets.ToDictionary(s => s, _ => new Dictionary<Guid, JsonObject>());
    private long version;
    private long documentNumber = 101000;

    /// <summary>
    /// Lookups by key fields without scanning the set (a flash sale's ERP holds tens of thousands of
    /// orders): set → field → value → ids. Kept by every write under <c>gate</c>.
    /// </summary>
    private static readonly string[] IndexedFields = ["number", "externalDocumentNumber"];
    private readonly Dictionary<string, Dictionary<string, Dictionary<string, HashSet<Guid>>>> index = [];

    private void Index(string set, Guid id, JsonObject entity, bool add)
    {
        foreach (var field in IndexedFields)
        {
            if (entity[field]?.ToString() is not { } value)
            {
                continue;
            }

            if (!index.TryGetValue(set, out var fields))
            {
                index[set] = fields = [];
            }

            if (!fields.TryGetValue(field, out var values))
            {
                fields[field] = values = new(StringComparer.Ordinal);
            }

            if (add)
            {
                (values.TryGetValue(value, out var ids) ? ids : values[value] = []).Add(id);
            }
            else if (values.TryGetValue(value, out var ids))
            {
                ids.Remove(id);
            }
        }
    }

    private void Reindex()
    {
        index.Clear();
        foreach (var (set, entities) in sets)
        {
            foreach (var (id, entity) in entities)
            {
                Index(set, id, entity, add: true);
            }
        }
    }

    private IEnumerable<JsonObject> WithValue(string set, string field, string value) =>
        IndexedFields.Contains(field)
            ? index.GetValueOrDefault(set)?.GetValueOrDefault(field)?.GetValueOrDefault(value) is { } ids ? [.. ids.Select(id => sets[set][id])] : []
            : sets[set].Values.Where(e => e[field]?.ToString() == value);

    public void Reset()
    {
        lock (gate)
        {
            foreach (var set in sets.Values)
            {
                set.Clear();
            }

            index.Clear();
            Tokens.Reset();
        }
    }

    public void SeedItem(string number, string displayName, decimal unitPrice, decimal inventory)
    {
        lock (gate)
        {
            var item = new JsonObject
            {
                ["id"] = Guid.NewGuid().ToString(), ["number"] = number, ["displayName"] = displayName, ["type"] = "Inventory",
                ["blocked"] = false, ["unitPrice"] = unitPrice, ["inventory"] = inventory,
            };
            Stamp(item);
            sets["items"][Guid.Parse(item["id"]!.GetValue<string>())] = item;
            Index("items", Guid.Parse(item["id"]!.GetValue<string>()), item, add: true);
        }
    }

    /// <summary>
    /// The warehouse ships a sales order: the given quantities per item (or everything still open), recorded
    /// as <c>shippedQuantity</c> on its lines and as a posted, read-only <c>salesShipments</c> document.
    /// Null when the order does not exist or has nothing left to ship.
    /// </summary>
    public JsonObject? Ship(string externalDocumentNumber, IReadOnlyDictionary<string, decimal>? quantities)
    {
        lock (gate)
        {
            if (WithValue("salesOrders", "externalDocumentNumber", externalDocumentNumber).FirstOrDefault() is not { } order)
            {
                return null;
            }

            var shipped = new JsonArray();
            var wanted = quantities is null ? null : new Dictionary<string, decimal>(quantities, StringComparer.Ordinal);
            foreach (var line in (order["salesOrderLines"] as JsonArray ?? []).OfType<JsonObject>().Where(l => l["lineType"]?.ToString() == "Item"))
            {
                var sku = line["lineObjectNumber"]!.ToString();
                var open = line["quantity"]!.GetValue<decimal>() - (line["shippedQuantity"]?.GetValue<decimal>() ?? 0);
                var take = Math.Min(open, wanted is null ? open : wanted.GetValueOrDefault(sku));
                if (take <= 0)
                {
                    continue;
                }

                if (wanted is not null)
                {
                    wanted[sku] -= take;
                }

                line["shippedQuantity"] = (line["shippedQuantity"]?.GetValue<decimal>() ?? 0) + take;
                shipped.Add(new JsonObject { ["lineType"] = "Item", ["lineObjectNumber"] = sku, ["quantity"] = take });
                // The goods leave the warehouse: on hand drops by what shipped (availability does not: it was promised already).
                if (WithValue("items", "number", sku).FirstOrDefault() is { } item)
                {
                    item["inventory"] = item["inventory"]!.GetValue<decimal>() - take;
                }
            }

            if (shipped.Count == 0)
            {
                return null;
            }

            Stamp(order);
            var shipment = new JsonObject
            {
                ["id"] = Guid.NewGuid().ToString(), ["number"] = "S-SHPT" + Interlocked.Increment(ref documentNumber).ToString(CultureInfo.InvariantCulture),
                ["orderNumber"] = order["number"]!.DeepClone(), ["externalDocumentNumber"] = externalDocumentNumber,
                ["customerNumber"] = order["customerNumber"]?.DeepClone(), ["shipmentDate"] = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                ["salesShipmentLines"] = shipped,
            };
            Stamp(shipment);
            var id = Guid.Parse(shipment["id"]!.GetValue<string>());
            sets["salesShipments"][id] = shipment;
            Index("salesShipments", id, shipment, add: true);
            return (JsonObject)shipment.DeepClone();
        }
    }

    private long stockVersion;

    /// <summary>
    /// Raised (under the simulator's lock; listeners must not block) when a sales order promises stock: per item,
    /// what is still available (on hand less open order lines) and the figure's version. The sandbox's ERP
    /// extension reports these to RetailSync when <c>RetailSync:Sandbox:ErpReportsAvailability</c> is on.
    /// </summary>
    public event Action<IReadOnlyList<(string Sku, decimal Available, long Version)>>? AvailabilityChanged;

    /// <summary>On hand less what open sales order lines still have to ship: what the ERP can still promise.</summary>
    public decimal Available(string number)
    {
        lock (gate)
        {
            return AvailableLocked(number);
        }
    }

    private decimal AvailableLocked(string number)
    {
        var onHand = WithValue("items", "number", number).FirstOrDefault()?["inventory"]?.GetValue<decimal>() ?? 0;
        var promised = sets["salesOrders"].Values.SelectMany(o => (o["salesOrderLines"] as JsonArray ?? []).OfType<JsonObject>())
            .Where(l => l["lineType"]?.ToString() == "Item" && l["lineObjectNumber"]?.ToString() == number)
            .Sum(l => l["quantity"]!.GetValue<decimal>() - (l["shippedQuantity"]?.GetValue<decimal>() ?? 0));
        return onHand - promised;
    }

    /// <summary>The next version of a stock figure (stock counts and availability reports share one sequence).</summary>
    public long NextStockVersion() => Interlocked.Increment(ref stockVersion);

    /// <summary>A stock count in the warehouse: the item's inventory becomes <paramref name="onHand"/>; returns the figure's version.</summary>
    public long? SetInventory(string number, decimal onHand)
    {
        lock (gate)
        {
            if (WithValue("items", "number", number).FirstOrDefault() is not { } item)
            {
                return null;
            }

            item["inventory"] = onHand;
            Stamp(item);
            return Interlocked.Increment(ref stockVersion);
        }
    }

    public object Snapshot()
    {
        lock (gate)
        {
            return sets.ToDictionary(s => s.Key, s => s.Value.Values.Select(x => JsonSerializer.Deserialize<JsonElement>(x.ToJsonString())).ToList());
        }
    }

    public IReadOnlyList<JsonObject> Entities(string set)
    {
        lock (gate)
        {
            return [.. sets[set].Values.Select(x => (JsonObject)x.DeepClone())];
        }
    }

    public static IResult Error(int status, string code, string message) =>
        Results.Json(new { error = new { code, message = $"{message}  CorrelationId:  {Guid.NewGuid()}." } }, statusCode: status);

    public IResult? Authenticate(HttpContext http) =>
        TokenValid(http.Request.Headers.Authorization.ToString())
            ? null
            : Error(401, "Authentication_InvalidCredentials", "The server has rejected the client credentials.");

    /// <summary>One request against a company-relative path, as sent directly or inside a $batch.</summary>
    public (int Status, JsonNode? Body) Execute(string method, string path, string query, string? ifMatch, JsonNode? body)
    {
        var match = EntityPath().Match(path);
        if (!match.Success || !Guid.TryParse(match.Groups["company"].Value, out var company))
        {
            return Fail(404, "BadRequest_ResourceNotFound", $"Resource not found for the segment '{path.Split('/').LastOrDefault()}'.");
        }

        if (company != CompanyId)
        {
            return Fail(404, "Internal_CompanyNotFound", "The company does not exist.");
        }

        var set = match.Groups["set"].Value;
        if (!sets.ContainsKey(set))
        {
            return Fail(404, "BadRequest_ResourceNotFound", $"Resource not found for the segment '{set}'.");
        }

        if (set == "salesShipments" && method != "GET")
        {
            // Posted shipments are created by shipping in the ERP, never through the API.
            return Fail(405, "BadRequest_MethodNotAllowed", $"'{method}' requests for '{set}' are not supported.");
        }

        Guid? key = match.Groups["key"].Success ? Guid.Parse(match.Groups["key"].Value) : null;
        lock (gate)
        {
            return (method, key) switch
            {
                ("GET", null) => (200, List(set, query)),
                ("GET", { } id) => sets[set].TryGetValue(id, out var e) ? (200, Expand(set, e, query)) : NotFound(set),
                ("POST", null) => Create(set, body as JsonObject),
                ("PATCH", { } id) => Update(set, id, ifMatch, body as JsonObject),
                ("DELETE", { } id) => Delete(set, id, ifMatch),
                _ => Fail(405, "BadRequest_MethodNotAllowed", $"'{method}' requests for '{set}' are not supported."),
            };
        }
    }

    public (int Status, JsonNode Body) Batch(JsonNode? body, bool snapshot)
    {
        if (body?["requests"] is not JsonArray requests)
        {
            return (400, Fail(400, "BadRequest", "The batch request must contain 'requests'.").Item2!);
        }

        if (requests.Count > 100)
        {
            return (400, Fail(400, "BadRequest", "The batch request has more than the maximum of 100 operations.").Item2!);
        }

        lock (gate)
        {
            var before = snapshot ? sets.ToDictionary(s => s.Key, s => s.Value.ToDictionary(e => e.Key, e => (JsonObject)e.Value.DeepClone())) : null;
            var responses = new JsonArray();
            var failed = false;
            foreach (var request in requests.OfType<JsonObject>())
            {
                var url = request["url"]!.GetValue<string>();
                var (path, query) = url.Contains('?', StringComparison.Ordinal) ? (url[..url.IndexOf('?', StringComparison.Ordinal)], url[url.IndexOf('?', StringComparison.Ordinal)..]) : (url, "");
                var ifMatch = request["headers"]?["If-Match"]?.GetValue<string>();
                var (status, result) = Execute(request["method"]!.GetValue<string>(), "/" + path.TrimStart('/'), query, ifMatch, request["body"]?.DeepClone());
                failed |= status >= 400;
                responses.Add(new JsonObject
                {
                    ["id"] = request["id"]?.DeepClone(),
                    ["status"] = status,
                    ["headers"] = new JsonObject { ["content-type"] = "application/json; odata.metadata=minimal", ["odata-version"] = "4.0" },
                    ["body"] = result,
                });
            }

            if (snapshot && failed)
            {
                foreach (var (name, entities) in before!)
                {
                    sets[name].Clear();
                    foreach (var (id, entity) in entities)
                    {
                        sets[name][id] = entity;
                    }
                }

                Reindex();
            }

            return (200, new JsonObject { ["responses"] = responses });
        }
    }

    private JsonObject List(string set, string query)
    {
        var values = sets[set].Values.AsEnumerable();
        var filter = FilterEq().Match(Uri.UnescapeDataString(query));
        if (filter.Success)
        {
            values = WithValue(set, filter.Groups["field"].Value, filter.Groups["value"].Value);
        }

        var top = TopOption().Match(query);
        if (top.Success)
        {
            values = values.Take(int.Parse(top.Groups[1].Value, CultureInfo.InvariantCulture));
        }

        return new JsonObject
        {
            ["@odata.context"] = $"https://api.businesscentral.dynamics.com/v2.0/sandbox/api/v2.0/$metadata#companies({CompanyId})/{set}",
            ["value"] = new JsonArray([.. values.Select(e => (JsonNode)Expand(set, e, query))]),
        };
    }

    private static JsonObject Expand(string set, JsonObject entity, string query)
    {
        var copy = (JsonObject)entity.DeepClone();
        var lines = LinesOf(set);
        if (lines is not null && !Uri.UnescapeDataString(query).Contains("$expand=" + lines, StringComparison.Ordinal))
        {
            copy.Remove(lines);
        }

        return copy;
    }

    /// <summary>
    /// The lengths of the table fields behind the API's text properties (Customer: <c>No.</c> Code[20], <c>Name</c>
    /// Text[100], <c>E-Mail</c> Text[80], <c>Phone No.</c> Text[30], <c>Address</c> Text[100], <c>City</c> Text[30],
    /// <c>Post Code</c> Code[20], <c>Country/Region Code</c> Code[10]; a sales document's <c>External Document No.</c>
    /// Code[35]): Business Central refuses a longer value rather than cut it.
    /// </summary>
    private static readonly Dictionary<string, Dictionary<string, int>> MaxLengths = new(StringComparer.Ordinal)
    {
        ["customers"] = new(StringComparer.Ordinal)
        {
            ["number"] = 20, ["displayName"] = 100, ["email"] = 80, ["phoneNumber"] = 30, ["addressLine1"] = 100,
            ["city"] = 30, ["postalCode"] = 20, ["country"] = 10,
        },
        ["salesOrders"] = new(StringComparer.Ordinal) { ["externalDocumentNumber"] = 35, ["customerNumber"] = 20 },
        ["salesCreditMemos"] = new(StringComparer.Ordinal) { ["externalDocumentNumber"] = 35, ["customerNumber"] = 20 },
    };

    private static (int, JsonNode?)? TooLong(string set, JsonObject body)
    {
        if (!MaxLengths.TryGetValue(set, out var lengths))
        {
            return null;
        }

        foreach (var (field, max) in lengths)
        {
            if (body[field] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > max)
            {
                return Fail(400, "Application_StringExceededLength",
                    $"The length of the string is {text.Length}, but it must be less than or equal to {max} characters. Value: {text}");
            }
        }

        return null;
    }

    private static string? LinesOf(string set) => set switch
    {
        "salesOrders" => "salesOrderLines",
        "salesCreditMemos" => "salesCreditMemoLines",
        _ => null,
    };

    private (int, JsonNode?) Create(string set, JsonObject? body)
    {
        if (body is null)
        {
            return Fail(400, "BadRequest", "The request body is not valid JSON.");
        }

        if (set == "items")
        {
            return Fail(400, "BadRequest_InvalidOperation", "Items are maintained in the ERP; the sandbox seeds them.");
        }

        if (TooLong(set, body) is { } tooLong)
        {
            return tooLong;
        }

        foreach (var readOnly in new[] { "id", "number", "totalAmountIncludingTax", "totalAmountExcludingTax", "totalTaxAmount", "lastModifiedDateTime", "status" })
        {
            if (body.ContainsKey(readOnly) && !(set == "customers" && readOnly == "number"))
            {
                return Fail(400, "BadRequest_InvalidOperation", $"The property '{readOnly}' is read-only.");
            }
        }

        var entity = (JsonObject)body.DeepClone();
        entity["id"] = Guid.NewGuid().ToString();
        if (set == "customers")
        {
            if (string.IsNullOrEmpty(entity["displayName"]?.ToString()))
            {
                return Fail(400, "Application_FieldValidationException", "displayName must have a value in Customer.");
            }

            entity["number"] ??= "C" + Interlocked.Increment(ref documentNumber).ToString(CultureInfo.InvariantCulture);
            if (WithValue("customers", "number", entity["number"]!.ToString()).Any())
            {
                return Fail(409, "Internal_EntityWithSameKeyExists", $"The record in table Customer already exists. Identification fields and values: No.='{entity["number"]}'");
            }

            entity["blocked"] ??= " ";
            entity["creditLimit"] ??= 0;
        }
        else
        {
            var customer = FindCustomer(entity);
            if (customer is null)
            {
                return Fail(400, "Application_DialogException", "A customerNumber or a customerID must be provided.");
            }

            entity["customerId"] = customer["id"]!.DeepClone();
            entity["customerNumber"] = customer["number"]!.DeepClone();
            entity["customerName"] = customer["displayName"]?.DeepClone();
            entity["number"] = (set == "salesOrders" ? "S-ORD" : "S-CR") + Interlocked.Increment(ref documentNumber).ToString(CultureInfo.InvariantCulture);
            entity["status"] = set == "salesOrders" ? "Open" : "Draft";
            var linesName = LinesOf(set)!;
            var lines = new JsonArray();
            var sequence = 10000;
            foreach (var line in (entity[linesName] as JsonArray ?? []).OfType<JsonObject>())
            {
                var number = line["lineObjectNumber"]?.ToString();
                var item = number is null ? null : WithValue("items", "number", number).FirstOrDefault();
                if (line["lineType"]?.ToString() == "Account" && line["lineObjectNumber"]?.ToString() != WriteOffAccount)
                {
                    return Fail(400, "Application_FieldValidationException", $"The field No. of table Sales Line contains a value ({number}) that cannot be found in the related table (G/L Account).");
                }

                if (line["lineType"]?.ToString() == "Item" && item is null)
                {
                    return Fail(400, "Application_FieldValidationException", $"The field No. of table Sales Line contains a value ({number}) that cannot be found in the related table (Item).");
                }

                var copy = (JsonObject)line.DeepClone();
                copy["id"] = Guid.NewGuid().ToString();
                copy["documentId"] = entity["id"]!.DeepClone();
                copy["sequence"] = sequence;
                sequence += 10000;
                copy["unitPrice"] ??= item?["unitPrice"]?.DeepClone();
                copy["amountIncludingTax"] = (copy["quantity"]?.GetValue<decimal>() ?? 0) * (copy["unitPrice"]?.GetValue<decimal>() ?? 0);
                lines.Add(copy);
            }

            entity[linesName] = lines;
            entity["totalAmountIncludingTax"] = lines.Sum(l => l!["amountIncludingTax"]!.GetValue<decimal>());
        }

        Stamp(entity);
        sets[set][Guid.Parse(entity["id"]!.GetValue<string>())] = entity;
        Index(set, Guid.Parse(entity["id"]!.GetValue<string>()), entity, add: true);
        if (set == "salesOrders" && AvailabilityChanged is { } listeners)
        {
            var items = (entity["salesOrderLines"] as JsonArray ?? []).OfType<JsonObject>().Where(l => l["lineType"]?.ToString() == "Item")
                .Select(l => l["lineObjectNumber"]!.ToString()).Distinct(StringComparer.Ordinal);
            listeners([.. items.Select(sku => (sku, AvailableLocked(sku), Interlocked.Increment(ref stockVersion)))]);
        }

        return (201, Expand(set, entity, "$expand=" + LinesOf(set)));
    }

    private JsonObject? FindCustomer(JsonObject document)
    {
        if (document["customerId"]?.ToString() is { } id && Guid.TryParse(id, out var guid) && sets["customers"].TryGetValue(guid, out var byId))
        {
            return byId;
        }

        return document["customerNumber"]?.ToString() is { } number
            ? WithValue("customers", "number", number).FirstOrDefault()
            : null;
    }

    private (int, JsonNode?) Update(string set, Guid id, string? ifMatch, JsonObject? body)
    {
        if (!sets[set].TryGetValue(id, out var entity))
        {
            return NotFound(set);
        }

        if (string.IsNullOrEmpty(ifMatch))
        {
            return Fail(400, "BadRequest_InvalidToken", "Could not validate the client concurrency token required by the service. Please provide a valid token in the client request.");
        }

        if (ifMatch != "*" && ifMatch != entity["@odata.etag"]!.GetValue<string>())
        {
            return Fail(409, "Request_EntityChanged", "Another user has already changed the record.");
        }

        foreach (var (field, _) in body ?? [])
        {
            if (field is "id" or "number" or "inventory" or "totalAmountIncludingTax" or "lastModifiedDateTime")
            {
                return Fail(400, "BadRequest_InvalidOperation", $"The property '{field}' is read-only.");
            }
        }

        if (body is not null && TooLong(set, body) is { } tooLong)
        {
            return tooLong;
        }

        Index(set, id, entity, add: false);
        foreach (var (field, value) in body ?? [])
        {
            entity[field] = value?.DeepClone();
        }

        Index(set, id, entity, add: true);

        Stamp(entity);
        return (200, Expand(set, entity, ""));
    }

    private (int, JsonNode?) Delete(string set, Guid id, string? ifMatch)
    {
        if (!sets[set].TryGetValue(id, out var entity))
        {
            return NotFound(set);
        }

        if (!string.IsNullOrEmpty(ifMatch) && ifMatch != "*" && ifMatch != entity["@odata.etag"]!.GetValue<string>())
        {
            return Fail(409, "Request_EntityChanged", "Another user has already changed the record.");
        }

        if (set == "salesOrders" && (entity["salesOrderLines"] as JsonArray ?? []).Any(l => l?["shippedQuantity"]?.GetValue<decimal>() > 0))
        {
            return Fail(400, "Application_DialogException", $"You cannot delete sales order {entity["number"]} because it has been shipped.");
        }

        Index(set, id, entity, add: false);
        sets[set].Remove(id);
        return (204, null);
    }

    private void Stamp(JsonObject entity)
    {
        var v = Interlocked.Increment(ref version);
        entity["@odata.etag"] = $"W/\"JzE5O{Convert.ToBase64String(Encoding.UTF8.GetBytes(v.ToString(CultureInfo.InvariantCulture) + ";"))}Jyc=\"";
        entity["lastModifiedDateTime"] = DateTimeOffset.UtcNow.ToString("O");
    }

    private static (int, JsonNode?) NotFound(string set) =>
        Fail(404, "Internal_RecordNotFound", $"The {set} does not exist. Identification fields and values: Id.");

    private static (int, JsonNode?) Fail(int status, string code, string message) =>
        (status, new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = $"{message}  CorrelationId:  {Guid.NewGuid()}." } });

    [GeneratedRegex(@"^/companies\((?<company>[0-9a-fA-F-]{36})\)/(?<set>\w+)(?:\((?<key>[0-9a-fA-F-]{36})\))?/?$")]
    private static partial Regex EntityPath();

    [GeneratedRegex(@"\$filter=(?<field>\w+) eq '(?<value>[^']*)'")]
    private static partial Regex FilterEq();

    [GeneratedRegex(@"\$top=(\d+)")]
    private static partial Regex TopOption();
}
