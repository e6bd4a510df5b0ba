using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace RetailSync.Sandbox.Shopify;

/// <summary>
/// The subset of Shopify's Admin GraphQL API (2026-01 profile) that RetailSync calls, with Shopify's
/// own response shapes: userErrors for business failures, extensions.cost on every answer, a leaky
/// cost bucket, THROTTLED and MAX_COST_EXCEEDED, inventory compare-and-swap and @idempotent keys.
/// Operations are recognised by their root field; anything else is answered as unsupported.
/// </summary>
public sealed partial class ShopifySimulator(TimeProvider clock)
{
    public const string AccessToken = "sandbox-shopify-token";
    public static readonly string[] Versions = ["2025-10", "2026-01", "2026-04"];
    private static readonly HashSet<string> Reasons = ["correction", "cycle_count_available", "damaged", "movement_created", "movement_updated", "movement_received", "movement_canceled", "other", "promotion", "quality_control", "received", "reservation_created", "reservation_deleted", "reservation_updated", "restock", "safety_stock", "shrinkage"];

    private readonly object gate = new();
    private readonly Dictionary<string, SimOrder> orders = [];
    private readonly Dictionary<(string Item, string Location), int> available = [];
    private readonly Dictionary<string, (string ArgsHash, JsonNode Result)> idempotency = [];
    private double bucket = -1;
    private DateTimeOffset bucketAt;

    public double MaximumAvailable { get; set; } = 2000;

    public double RestoreRate { get; set; } = 100;

    public long InventoryWrites { get; private set; }

    /// <summary>THROTTLED answers given: a client that paces itself by the cost bucket causes none.</summary>
    public long ThrottledAnswers { get; private set; }

    public void Reset()
    {
        lock (gate)
        {
            orders.Clear();
            available.Clear();
            idempotency.Clear();
            bucket = -1;
            InventoryWrites = 0;
            LowestWritten = null;
            Tokens.Reset();
        }
    }

    public void SeedOrder(string id, string? name, IEnumerable<(string LineId, string? Sku, int Quantity)>? lines = null)
    {
        lock (gate)
        {
            var order = new SimOrder(id, name ?? "#" + id, clock.GetUtcNow());
            if (orders.TryAdd(id, order) && lines is not null)
            {
                // Shopify creates the fulfillment orders itself; one per order is enough here (one location).
                var fulfillmentOrder = new SimFulfillmentOrder($"{id}1");
                foreach (var (lineId, sku, quantity) in lines)
                {
                    fulfillmentOrder.Lines.Add(new SimFulfillmentLine($"{lineId}1", lineId, sku, quantity) { Remaining = quantity });
                }

                order.FulfillmentOrders.Add(fulfillmentOrder);
            }
        }
    }

    public void SeedRefund(string orderId, JsonObject refund)
    {
        lock (gate)
        {
            if (orders.TryGetValue(orderId, out var order))
            {
                order.Refunds.Add(refund);
            }
        }
    }

    /// <summary>The lowest quantity any inventorySetQuantities ever wrote (a storefront must never be told less than zero).</summary>
    public int? LowestWritten { get; private set; }

    public void SeedInventory(string item, string location, int quantity)
    {
        lock (gate)
        {
            available[(item, location)] = quantity;
        }
    }

    public int? Available(string item, string location)
    {
        lock (gate)
        {
            return available.TryGetValue((item, location), out var q) ? q : null;
        }
    }

    public object Snapshot()
    {
        lock (gate)
        {
            return new
            {
                orders = orders.Values.Select(o => new
                {
                    o.Id, o.Name, tags = o.Tags.Order(StringComparer.Ordinal), metafields = o.Metafields.ToDictionary(m => m.Key, m => m.Value.Value), o.UpdatedAt,
                    fulfillmentOrders = o.FulfillmentOrders.Select(f => new { f.Id, f.Status, lines = f.Lines.Select(l => new { l.Id, l.Sku, l.Total, l.Remaining }) }),
                    fulfillments = o.Fulfillments.Select(f => JsonSerializer.Deserialize<JsonElement>(f.ToJsonString())),
                }),
                inventoryLevels = available.Select(kv => new { inventoryItemId = kv.Key.Item, locationId = kv.Key.Location, available = kv.Value }),
                inventoryWrites = InventoryWrites,
                throttledAnswers = ThrottledAnswers,
                bucket = new { currentlyAvailable = Math.Floor(Refill()), MaximumAvailable, RestoreRate },
            };
        }
    }

    public async Task<IResult> HandleAsync(HttpContext http, string version)
    {
        if (!Tokens.Valid(http.Request.Headers["X-Shopify-Access-Token"].ToString()))
        {
            return Results.Json(new { errors = "[API] Invalid API key or access token (unrecognized login or wrong password)" }, statusCode: 401);
        }

        if (!Versions.Contains(version))
        {
            return Results.Json(new { errors = "Not Found" }, statusCode: 404);
        }

        JsonElement body;
        try
        {
            body = (await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted)).RootElement;
        }
        catch (JsonException)
        {
            return Results.Json(new { errors = new[] { new { message = "Parse error: body is not JSON" } } }, statusCode: 400);
        }

        var query = body.TryGetProperty("query", out var q) ? q.GetString() ?? "" : "";
        var variables = body.TryGetProperty("variables", out var v) && v.ValueKind == JsonValueKind.Object ? v : default;
        lock (gate)
        {
            return Execute(query, variables);
        }
    }

    private IResult Execute(string query, JsonElement variables)
    {
        var operation = RootField().Match(query) is { Success: true } m ? m.Groups[1].Value : "";
        var first = variables.ValueKind == JsonValueKind.Object && variables.TryGetProperty("first", out var f) && f.ValueKind == JsonValueKind.Number ? f.GetInt32() : 0;
        if (first > 250)
        {
            return Answer(null, [Error("The first argument must be at most 250. Use bulk operations to fetch more.", "ARGUMENT_OUT_OF_RANGE")], 0, 0);
        }

        var requested = operation == "orders" ? 2 + first : 10;
        if (requested > 1000)
        {
            return Answer(null, [Error($"Query cost is {requested}, which exceeds the single query max cost limit (1000).", "MAX_COST_EXCEEDED")], requested, null);
        }

        var current = Refill();
        if (current < requested)
        {
            ThrottledAnswers++;
            return Answer(null, [Error("Throttled", "THROTTLED")], requested, null);
        }

        bucket = current - requested;
        var key = Idempotent().Match(query) is { Success: true } k ? k.Groups[1].Value : null;
        JsonNode data = operation switch
        {
            "tagsAdd" => Tags(variables, add: true),
            "tagsRemove" => Tags(variables, add: false),
            "metafieldsSet" => MetafieldsSet(variables),
            "inventorySetQuantities" => WithIdempotency(key, variables, () => InventorySetQuantities(variables)),
            "orders" => Orders(variables, first),
            "order" => Order(variables),
            "inventoryItem" => InventoryItem(variables),
            "fulfillmentCreate" => FulfillmentCreate(variables),
            _ => new JsonObject(),
        };
        if (operation is not ("tagsAdd" or "tagsRemove" or "metafieldsSet" or "inventorySetQuantities" or "orders" or "order" or "inventoryItem" or "fulfillmentCreate"))
        {
            return Answer(null, [Error($"Field '{operation}' is not supported by the RetailSync sandbox.", "undefinedField")], requested, requested);
        }

        var actual = operation == "orders" ? 2 + ((JsonArray)data["orders"]!["edges"]!).Count : requested;
        bucket = Math.Min(MaximumAvailable, bucket + (requested - actual));
        return Answer(data, null, requested, actual);
    }

    private double Refill()
    {
        var now = clock.GetUtcNow();
        if (bucket < 0)
        {
            bucket = MaximumAvailable;
        }
        else
        {
            bucket = Math.Min(MaximumAvailable, bucket + (now - bucketAt).TotalSeconds * RestoreRate);
        }

        bucketAt = now;
        return bucket;
    }

    private IResult Answer(JsonNode? data, JsonNode[]? errors, int requested, int? actual)
    {
        var response = new JsonObject();
        if (data is not null)
        {
            response["data"] = data;
        }

        if (errors is not null)
        {
            response["errors"] = new JsonArray(errors);
        }

        response["extensions"] = new JsonObject
        {
            ["cost"] = new JsonObject
            {
                ["requestedQueryCost"] = requested,
                ["actualQueryCost"] = actual,
                ["throttleStatus"] = new JsonObject
                {
                    ["maximumAvailable"] = MaximumAvailable,
                    ["currentlyAvailable"] = (int)Math.Floor(bucket < 0 ? MaximumAvailable : bucket),
                    ["restoreRate"] = RestoreRate,
                },
            },
        };
        return Results.Text(response.ToJsonString(), "application/json", statusCode: 200);
    }

    private static JsonObject Error(string message, string code) =>
        new() { ["message"] = message, ["extensions"] = new JsonObject { ["code"] = code, ["documentation"] = "https://shopify.dev/api/usage/rate-limits" } };

    private static JsonObject UserError(string message, string? code, params string[] field)
    {
        var error = new JsonObject { ["field"] = new JsonArray([.. field.Select(x => (JsonNode)x)]), ["message"] = message };
        if (code is not null)
        {
            error["code"] = code;
        }

        return error;
    }

    private JsonNode WithIdempotency(string? key, JsonElement variables, Func<JsonObject> run)
    {
        if (key is null)
        {
            return run();
        }

        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(variables.GetRawText())));
        if (idempotency.TryGetValue(key, out var seen))
        {
            return seen.ArgsHash == hash
                ? seen.Result.DeepClone()
                : new JsonObject
                {
                    ["inventorySetQuantities"] = new JsonObject
                    {
                        ["inventoryAdjustmentGroup"] = null,
                        ["userErrors"] = new JsonArray(UserError("The same idempotency key was used with different parameters.", "IDEMPOTENCY_KEY_PARAMETER_MISMATCH")),
                    },
                };
        }

        var result = run();
        idempotency[key] = (hash, result.DeepClone());
        return result;
    }

    private JsonObject Tags(JsonElement variables, bool add)
    {
        var field = add ? "tagsAdd" : "tagsRemove";
        var gid = variables.GetProperty("id").GetString() ?? "";
        var tags = variables.GetProperty("tags") switch
        {
            { ValueKind: JsonValueKind.String } s => s.GetString()!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
            var a => a.EnumerateArray().Select(t => t.GetString()!.Trim()).ToArray(),
        };
        if (!gid.StartsWith("gid://shopify/Order/", StringComparison.Ordinal) || !orders.TryGetValue(Tail(gid), out var order))
        {
            return new JsonObject { [field] = new JsonObject { ["node"] = null, ["userErrors"] = new JsonArray(UserError("Resource not found", null, "id")) } };
        }

        foreach (var tag in tags)
        {
            if (add)
            {
                order.Tags.Add(tag);
            }
            else
            {
                order.Tags.Remove(tag);
            }
        }

        order.UpdatedAt = clock.GetUtcNow();
        return new JsonObject { [field] = new JsonObject { ["node"] = new JsonObject { ["id"] = gid }, ["userErrors"] = new JsonArray() } };
    }

    private JsonObject MetafieldsSet(JsonElement variables)
    {
        var inputs = variables.GetProperty("metafields").EnumerateArray().ToList();
        var errors = new JsonArray();
        if (inputs.Count > 25)
        {
            errors.Add(UserError("Exceeded the maximum metafields input limit of 25.", "LESS_THAN_OR_EQUAL_TO", "metafields"));
        }

        for (var i = 0; i < inputs.Count && errors.Count == 0; i++)
        {
            var input = inputs[i];
            var owner = input.GetProperty("ownerId").GetString() ?? "";
            if (!orders.TryGetValue(Tail(owner), out var order))
            {
                errors.Add(ElementError(i, "Owner does not exist.", "INVALID", "ownerId"));
                continue;
            }

            var name = $"{input.GetProperty("namespace").GetString()}.{input.GetProperty("key").GetString()}";
            if (input.TryGetProperty("compareDigest", out var digest))
            {
                var exists = order.Metafields.TryGetValue(name, out var existing);
                var stale = digest.ValueKind == JsonValueKind.Null ? exists : !exists || existing!.Digest != digest.GetString();
                if (stale)
                {
                    errors.Add(ElementError(i, "The resource has been updated since it was loaded. Try again with an updated `compareDigest` value.", "STALE_OBJECT", "compareDigest"));
                }
            }
        }

        if (errors.Count > 0)
        {
            return new JsonObject { ["metafieldsSet"] = new JsonObject { ["metafields"] = null, ["userErrors"] = errors } };
        }

        var written = new JsonArray();
        foreach (var input in inputs)
        {
            var order = orders[Tail(input.GetProperty("ownerId").GetString()!)];
            var name = $"{input.GetProperty("namespace").GetString()}.{input.GetProperty("key").GetString()}";
            var value = input.GetProperty("value").GetString() ?? "";
            var metafield = new SimMetafield(value, Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(value))).ToLowerInvariant());
            order.Metafields[name] = metafield;
            order.UpdatedAt = clock.GetUtcNow();
            written.Add(new JsonObject { ["key"] = input.GetProperty("key").GetString(), ["namespace"] = input.GetProperty("namespace").GetString(), ["value"] = value, ["compareDigest"] = metafield.Digest });
        }

        return new JsonObject { ["metafieldsSet"] = new JsonObject { ["metafields"] = written, ["userErrors"] = new JsonArray() } };
    }

    private static JsonObject ElementError(int index, string message, string code, string field)
    {
        var error = UserError(message, code, "metafields", index.ToString(System.Globalization.CultureInfo.InvariantCulture), field);
        error["elementIndex"] = index;
        return error;
    }

    private JsonObject InventorySetQuantities(JsonElement variables)
    {
        var input = variables.GetProperty("input");
        var name = input.GetProperty("name").GetString();
        var reason = input.GetProperty("reason").GetString() ?? "";
        var ignoreCompare = input.TryGetProperty("ignoreCompareQuantity", out var ic) && ic.ValueKind == JsonValueKind.True;
        var quantities = input.GetProperty("quantities").EnumerateArray().ToList();
        var errors = new JsonArray();
        if (name is not ("available" or "on_hand"))
        {
            errors.Add(UserError("The quantity name must be either 'available' or 'on_hand'.", "INVALID_NAME", "input", "name"));
        }

        if (!Reasons.Contains(reason))
        {
            errors.Add(UserError("The specified reason is invalid.", "INVALID_REASON", "input", "reason"));
        }

        var seen = new HashSet<(string, string)>();
        for (var i = 0; i < quantities.Count; i++)
        {
            var item = quantities[i];
            var pair = (Tail(item.GetProperty("inventoryItemId").GetString()!), Tail(item.GetProperty("locationId").GetString()!));
            var index = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!seen.Add(pair))
            {
                errors.Add(UserError("The combination of inventoryItemId and locationId must be unique.", "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR", "input", "quantities", index));
                continue;
            }

            if (!available.TryGetValue(pair, out var current))
            {
                errors.Add(UserError("The specified inventory item is not stocked at the location.", "ITEM_NOT_STOCKED_AT_LOCATION", "input", "quantities", index, "locationId"));
                continue;
            }

            if (item.TryGetProperty("changeFromQuantity", out var changeFrom))
            {
                if (changeFrom.ValueKind == JsonValueKind.Number && changeFrom.GetInt32() != current)
                {
                    errors.Add(UserError("The changeFromQuantity value does not match persisted value.", "CHANGE_FROM_QUANTITY_STALE", "input", "quantities", index, "changeFromQuantity"));
                }
            }
            else if (!ignoreCompare)
            {
                if (!item.TryGetProperty("compareQuantity", out var compare) || compare.ValueKind != JsonValueKind.Number)
                {
                    errors.Add(UserError("The compareQuantity argument must be given to each quantity or ignored using ignoreCompareQuantity.", "COMPARE_QUANTITY_REQUIRED", "input", "quantities", index, "compareQuantity"));
                }
                else if (compare.GetInt32() != current)
                {
                    errors.Add(UserError("The compareQuantity value does not match persisted value.", "COMPARE_QUANTITY_STALE", "input", "quantities", index, "compareQuantity"));
                }
            }
        }

        if (errors.Count > 0)
        {
            return new JsonObject { ["inventorySetQuantities"] = new JsonObject { ["inventoryAdjustmentGroup"] = null, ["userErrors"] = errors } };
        }

        var changes = new JsonArray();
        foreach (var item in quantities)
        {
            var pair = (Tail(item.GetProperty("inventoryItemId").GetString()!), Tail(item.GetProperty("locationId").GetString()!));
            var target = item.GetProperty("quantity").GetInt32();
            changes.Add(new JsonObject { ["name"] = name, ["delta"] = target - available[pair], ["quantityAfterChange"] = target });
            available[pair] = target;
            LowestWritten = Math.Min(LowestWritten ?? target, target);
        }

        InventoryWrites++;
        return new JsonObject
        {
            ["inventorySetQuantities"] = new JsonObject
            {
                ["inventoryAdjustmentGroup"] = new JsonObject
                {
                    ["id"] = $"gid://shopify/InventoryAdjustmentGroup/{InventoryWrites}",
                    ["reason"] = reason,
                    ["referenceDocumentUri"] = input.TryGetProperty("referenceDocumentUri", out var r) ? r.GetString() : null,
                    ["changes"] = changes,
                },
                ["userErrors"] = new JsonArray(),
            },
        };
    }

    private JsonObject Orders(JsonElement variables, int first)
    {
        var since = variables.TryGetProperty("query", out var q) && UpdatedSince().Match(q.GetString() ?? "") is { Success: true } m
            ? DateTimeOffset.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)
            : DateTimeOffset.MinValue;
        var after = variables.TryGetProperty("after", out var a) && a.ValueKind == JsonValueKind.String
            ? Encoding.UTF8.GetString(Convert.FromBase64String(a.GetString()!)).Split('|')
            : null;
        var ordered = orders.Values.Where(o => o.UpdatedAt > since).OrderBy(o => o.UpdatedAt).ThenBy(o => o.Id, StringComparer.Ordinal).ToList();
        if (after is not null)
        {
            var afterTime = DateTimeOffset.Parse(after[0], System.Globalization.CultureInfo.InvariantCulture);
            ordered = ordered.Where(o => o.UpdatedAt > afterTime || (o.UpdatedAt == afterTime && string.CompareOrdinal(o.Id, after[1]) > 0)).ToList();
        }

        var page = ordered.Take(Math.Max(first, 1)).ToList();
        string Cursor(SimOrder o) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{o.UpdatedAt:O}|{o.Id}"));
        return new JsonObject
        {
            ["orders"] = new JsonObject
            {
                ["edges"] = new JsonArray([.. page.Select(o => (JsonNode)new JsonObject
                {
                    ["cursor"] = Cursor(o),
                    ["node"] = new JsonObject
                    {
                        ["id"] = $"gid://shopify/Order/{o.Id}",
                        ["legacyResourceId"] = o.Id,
                        ["name"] = o.Name,
                        ["updatedAt"] = o.UpdatedAt.ToString("O"),
                        ["tags"] = new JsonArray([.. o.Tags.Order(StringComparer.Ordinal).Select(t => (JsonNode)t)]),
                    },
                })]),
                ["pageInfo"] = new JsonObject
                {
                    ["hasNextPage"] = ordered.Count > page.Count,
                    ["hasPreviousPage"] = after is not null,
                    ["startCursor"] = page.Count > 0 ? Cursor(page[0]) : null,
                    ["endCursor"] = page.Count > 0 ? Cursor(page[^1]) : null,
                },
            },
        };
    }

    /// <summary><c>inventoryItem(id) { inventoryLevel(locationId) { quantities(names: ["available"]) } }</c>: null level when not stocked there.</summary>
    private JsonObject InventoryItem(JsonElement variables)
    {
        var pair = (Tail(variables.GetProperty("id").GetString() ?? ""), Tail(variables.GetProperty("location").GetString() ?? ""));
        return new JsonObject
        {
            ["inventoryItem"] = new JsonObject
            {
                ["inventoryLevel"] = available.TryGetValue(pair, out var quantity)
                    ? new JsonObject { ["quantities"] = new JsonArray(new JsonObject { ["name"] = "available", ["quantity"] = quantity }) }
                    : null,
            },
        };
    }

    private JsonObject Order(JsonElement variables)
    {
        if (!orders.TryGetValue(Tail(variables.GetProperty("id").GetString() ?? ""), out var order))
        {
            return new JsonObject { ["order"] = null };
        }

        return new JsonObject
        {
            ["order"] = new JsonObject
            {
                ["id"] = $"gid://shopify/Order/{order.Id}",
                ["fulfillmentOrders"] = new JsonObject
                {
                    ["nodes"] = new JsonArray([.. order.FulfillmentOrders.Select(f => (JsonNode)new JsonObject
                    {
                        ["id"] = $"gid://shopify/FulfillmentOrder/{f.Id}",
                        ["status"] = f.Status,
                        ["lineItems"] = new JsonObject
                        {
                            ["nodes"] = new JsonArray([.. f.Lines.Select(l => (JsonNode)new JsonObject
                            {
                                ["id"] = $"gid://shopify/FulfillmentOrderLineItem/{l.Id}",
                                ["totalQuantity"] = l.Total,
                                ["remainingQuantity"] = l.Remaining,
                                ["lineItem"] = new JsonObject { ["id"] = $"gid://shopify/LineItem/{l.LineId}", ["sku"] = l.Sku },
                            })]),
                        },
                    })]),
                },
                ["refunds"] = new JsonArray([.. order.Refunds.Select(r => r.DeepClone())]),
            },
        };
    }

    private JsonObject FulfillmentCreate(JsonElement variables)
    {
        var input = variables.GetProperty("fulfillment");
        JsonObject Refuse(string message) => new() { ["fulfillmentCreate"] = new JsonObject { ["fulfillment"] = null, ["userErrors"] = new JsonArray(UserError(message, null, "fulfillment")) } };
        var requests = input.GetProperty("lineItemsByFulfillmentOrder").EnumerateArray().ToList();
        var owners = requests.Select(r => orders.Values.FirstOrDefault(o => o.FulfillmentOrders.Any(f => f.Id == Tail(r.GetProperty("fulfillmentOrderId").GetString()!)))).ToList();
        if (owners.Count == 0 || owners.Any(o => o is null) || owners.Distinct().Count() > 1)
        {
            return Refuse("All fulfillment orders must exist and belong to the same order.");
        }

        var order = owners[0]!;
        var plan = new List<(SimFulfillmentLine Line, int Quantity)>();
        foreach (var request in requests)
        {
            var fulfillmentOrder = order.FulfillmentOrders.Single(f => f.Id == Tail(request.GetProperty("fulfillmentOrderId").GetString()!));
            if (fulfillmentOrder.Status is not ("OPEN" or "IN_PROGRESS"))
            {
                return Refuse($"Fulfillment order {fulfillmentOrder.Id} is {fulfillmentOrder.Status} and cannot be fulfilled.");
            }

            if (request.TryGetProperty("fulfillmentOrderLineItems", out var lines) && lines.ValueKind == JsonValueKind.Array)
            {
                foreach (var line in lines.EnumerateArray())
                {
                    var target = fulfillmentOrder.Lines.FirstOrDefault(l => l.Id == Tail(line.GetProperty("id").GetString()!));
                    var quantity = line.GetProperty("quantity").GetInt32();
                    if (target is null || quantity > target.Remaining || quantity <= 0)
                    {
                        return Refuse("Invalid fulfillment order line item quantity requested.");
                    }

                    plan.Add((target, quantity));
                }
            }
            else
            {
                plan.AddRange(fulfillmentOrder.Lines.Where(l => l.Remaining > 0).Select(l => (l, l.Remaining)));
            }
        }

        foreach (var (line, quantity) in plan)
        {
            line.Remaining -= quantity;
        }

        foreach (var fulfillmentOrder in order.FulfillmentOrders)
        {
            fulfillmentOrder.Status = fulfillmentOrder.Lines.All(l => l.Remaining == 0) ? "CLOSED" : fulfillmentOrder.Lines.Any(l => l.Remaining < l.Total) ? "IN_PROGRESS" : fulfillmentOrder.Status;
        }

        var tracking = input.TryGetProperty("trackingInfo", out var t) && t.ValueKind == JsonValueKind.Object ? t : default;
        var fulfillment = new JsonObject
        {
            ["id"] = $"gid://shopify/Fulfillment/{order.Id}{order.Fulfillments.Count + 1}",
            ["status"] = "SUCCESS",
            ["trackingInfo"] = new JsonArray(new JsonObject
            {
                ["company"] = tracking.ValueKind == JsonValueKind.Object && tracking.TryGetProperty("company", out var c) ? c.GetString() : null,
                ["number"] = tracking.ValueKind == JsonValueKind.Object && tracking.TryGetProperty("number", out var n) ? n.GetString() : null,
            }),
        };
        order.Fulfillments.Add(fulfillment);
        order.UpdatedAt = clock.GetUtcNow();
        return new JsonObject { ["fulfillmentCreate"] = new JsonObject { ["fulfillment"] = fulfillment.DeepClone(), ["userErrors"] = new JsonArray() } };
    }

    private static string Tail(string gid) => gid.Split('?')[0][(gid.Split('?')[0].LastIndexOf('/') + 1)..];

    [GeneratedRegex(@"^\s*(?:mutation|query)?\s*\w*\s*(?:\([^)]*\))?\s*\{\s*(\w+)", RegexOptions.Singleline)]
    private static partial Regex RootField();

    [GeneratedRegex(@"@idempotent\s*\(\s*key:\s*""([^""]+)""\s*\)")]
    private static partial Regex Idempotent();

    [GeneratedRegex(@"updated_at:>'([^']+)'")]
    private static partial Regex UpdatedSince();

    private sealed class SimOrder(string id, string name, DateTimeOffset updatedAt)
    {
        public string Id { get; } = id;
        public string Name { get; } = name;
        public HashSet<string> Tags { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, SimMetafield> Metafields { get; } = new(StringComparer.Ordinal);
        public DateTimeOffset UpdatedAt { get; set; } = updatedAt;
        public List<SimFulfillmentOrder> FulfillmentOrders { get; } = [];
        public List<JsonObject> Fulfillments { get; } = [];
        public List<JsonObject> Refunds { get; } = [];
    }

    private sealed class SimFulfillmentOrder(string id)
    {
        public string Id { get; } = id;
        public string Status { get; set; } = "OPEN";
        public List<SimFulfillmentLine> Lines { get; } = [];
    }

    private sealed record SimFulfillmentLine(string Id, string LineId, string? Sku, int Total)
    {
        public int Remaining { get; set; }
    }

    private sealed record SimMetafield(string Value, string Digest);
}
