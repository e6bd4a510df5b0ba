using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace RetailSync.Connectors.Shopify;

/// <summary>
/// Shopify Admin GraphQL adapter. Paces itself by the cost bucket Shopify reports in every answer
/// (<c>extensions.cost.throttleStatus</c>) so it waits instead of being THROTTLED, and still handles
/// THROTTLED (HTTP 200 or 429) by waiting for the bucket to refill.
/// </summary>
public sealed partial class ShopifyAdminClient(HttpClient http, IOptionsMonitor<ConnectorOptions> options, ShopifyTokens tokens, TimeProvider clock, ILogger<ShopifyAdminClient> logger) : IShopifyAdmin
{
    public const string SystemName = "shopify";
    private const int MutationCost = 10;
    private readonly ConcurrentDictionary<string, Bucket> buckets = new(StringComparer.OrdinalIgnoreCase);

    public async Task AddOrderTagsAsync(string shop, string orderId, IReadOnlyList<string> tags, CancellationToken cancellationToken = default) =>
        EnsureNoUserErrors(await SendAsync(shop, "mutation TagsAdd($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { node { id } userErrors { field message } } }",
            new JsonObject { ["id"] = OrderGid(orderId), ["tags"] = Array(tags) }, MutationCost, cancellationToken), "tagsAdd");

    public async Task RemoveOrderTagsAsync(string shop, string orderId, IReadOnlyList<string> tags, CancellationToken cancellationToken = default) =>
        EnsureNoUserErrors(await SendAsync(shop, "mutation TagsRemove($id: ID!, $tags: [String!]!) { tagsRemove(id: $id, tags: $tags) { node { id } userErrors { field message } } }",
            new JsonObject { ["id"] = OrderGid(orderId), ["tags"] = Array(tags) }, MutationCost, cancellationToken), "tagsRemove");

    public Task SetOrderMetafieldAsync(string shop, string orderId, string ns, string key, string value, CancellationToken cancellationToken = default) =>
        SetOrderMetafieldsAsync(shop, orderId, ns, new Dictionary<string, string> { [key] = value }, cancellationToken);

    public async Task SetOrderMetafieldsAsync(string shop, string orderId, string ns, IReadOnlyDictionary<string, string> values, CancellationToken cancellationToken = default) =>
        EnsureNoUserErrors(await SendAsync(shop, "mutation Set($metafields: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $metafields) { metafields { key namespace value } userErrors { field message code elementIndex } } }",
            new JsonObject
            {
                ["metafields"] = new JsonArray([.. values.Select(kv => (JsonNode)new JsonObject
                {
                    ["ownerId"] = OrderGid(orderId), ["namespace"] = ns, ["key"] = kv.Key, ["type"] = "single_line_text_field", ["value"] = kv.Value,
                })]),
            }, MutationCost, cancellationToken), "metafieldsSet");

    public async Task<InventorySetOutcome> SetAvailableAsync(string shop, string inventoryItemId, string locationId, int quantity, int? changeFrom,
        string idempotencyKey, string reason = "correction", CancellationToken cancellationToken = default)
    {
        // changeFromQuantity is always sent (2026-01 semantics; mandatory from 2026-04): null skips the check.
        var data = await SendAsync(shop,
            $$"""mutation Set($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) @idempotent(key: "{{idempotencyKey.Replace("\"", "", StringComparison.Ordinal)}}") { inventoryAdjustmentGroup { id } userErrors { code field message } } }""",
            new JsonObject
            {
                ["input"] = new JsonObject
                {
                    ["name"] = "available",
                    ["reason"] = reason,
                    ["referenceDocumentUri"] = $"gid://retail-sync/InventorySync/{Uri.EscapeDataString(idempotencyKey)}",
                    ["quantities"] = new JsonArray(new JsonObject
                    {
                        ["inventoryItemId"] = $"gid://shopify/InventoryItem/{inventoryItemId}",
                        ["locationId"] = $"gid://shopify/Location/{locationId}",
                        ["quantity"] = quantity,
                        ["changeFromQuantity"] = changeFrom,
                    }),
                },
            }, MutationCost, cancellationToken);
        var errors = data["inventorySetQuantities"]?["userErrors"] as JsonArray ?? [];
        if (errors.Any(e => e?["code"]?.GetValue<string>() is "CHANGE_FROM_QUANTITY_STALE" or "COMPARE_QUANTITY_STALE"))
        {
            return InventorySetOutcome.Stale;
        }

        EnsureNoUserErrors(data, "inventorySetQuantities");
        return InventorySetOutcome.Applied;
    }

    public async Task<bool> SetAvailableManyAsync(string shop, IReadOnlyList<InventoryLevelSet> levels, string idempotencyKey, CancellationToken cancellationToken = default)
    {
        var data = await SendAsync(shop,
            $$"""mutation Set($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) @idempotent(key: "{{idempotencyKey.Replace("\"", "", StringComparison.Ordinal)}}") { inventoryAdjustmentGroup { id } userErrors { code field message } } }""",
            new JsonObject
            {
                ["input"] = new JsonObject
                {
                    ["name"] = "available",
                    ["reason"] = "correction",
                    ["referenceDocumentUri"] = $"gid://retail-sync/InventorySync/{Uri.EscapeDataString(idempotencyKey)}",
                    ["quantities"] = new JsonArray([.. levels.Select(l => (JsonNode)new JsonObject
                    {
                        ["inventoryItemId"] = $"gid://shopify/InventoryItem/{l.InventoryItemId}",
                        ["locationId"] = $"gid://shopify/Location/{l.LocationId}",
                        ["quantity"] = l.Quantity,
                        ["changeFromQuantity"] = l.ChangeFrom,
                    })]),
                },
            }, MutationCost, cancellationToken);
        var errors = data["inventorySetQuantities"]?["userErrors"] as JsonArray ?? [];
        if (errors.Count == 0)
        {
            return true;
        }

        if (errors.All(e => e?["code"]?.GetValue<string>() is "CHANGE_FROM_QUANTITY_STALE" or "COMPARE_QUANTITY_STALE"))
        {
            return false;
        }

        EnsureNoUserErrors(data, "inventorySetQuantities");
        return false;
    }

    public async Task<string> CreateFulfillmentAsync(string shop, string orderId, string? trackingCompany, string? trackingNumber,
        IReadOnlyDictionary<string, int>? quantitiesBySku = null, CancellationToken cancellationToken = default)
    {
        // Fulfillment orders are Shopify's; read them to learn which line items remain.
        var data = await SendAsync(shop,
            "query FulfillmentOrders($id: ID!) { order(id: $id) { fulfillmentOrders(first: 10) { nodes { id status lineItems(first: 100) { nodes { id remainingQuantity lineItem { sku } } } } } } }",
            new JsonObject { ["id"] = OrderGid(orderId) }, 22, cancellationToken);
        var open = (data["order"]?["fulfillmentOrders"]?["nodes"] as JsonArray ?? [])
            .Where(f => f!["status"]!.GetValue<string>() is "OPEN" or "IN_PROGRESS").ToList();
        var wanted = quantitiesBySku?.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        var groups = new JsonArray();
        foreach (var fulfillmentOrder in open)
        {
            var lines = new JsonArray();
            foreach (var line in fulfillmentOrder!["lineItems"]!["nodes"]!.AsArray())
            {
                var remaining = line!["remainingQuantity"]!.GetValue<int>();
                var sku = line["lineItem"]?["sku"]?.GetValue<string>() ?? "";
                var quantity = wanted is null ? remaining : Math.Min(remaining, wanted.GetValueOrDefault(sku));
                if (quantity > 0)
                {
                    lines.Add(new JsonObject { ["id"] = line["id"]!.GetValue<string>(), ["quantity"] = quantity });
                    if (wanted is not null)
                    {
                        wanted[sku] -= quantity;
                    }
                }
            }

            if (lines.Count > 0)
            {
                groups.Add(new JsonObject { ["fulfillmentOrderId"] = fulfillmentOrder["id"]!.GetValue<string>(), ["fulfillmentOrderLineItems"] = lines });
            }
        }

        if (groups.Count == 0)
        {
            throw new ConnectorException(SystemName, FailureKind.Permanent, "NOTHING_TO_FULFILL", $"order {orderId} has no open fulfillment order lines for this shipment");
        }

        var fulfillment = new JsonObject { ["lineItemsByFulfillmentOrder"] = groups, ["notifyCustomer"] = true };
        if (trackingNumber is not null)
        {
            fulfillment["trackingInfo"] = new JsonObject { ["company"] = trackingCompany, ["number"] = trackingNumber };
        }

        var created = await SendAsync(shop,
            "mutation Fulfil($fulfillment: FulfillmentInput!) { fulfillmentCreate(fulfillment: $fulfillment) { fulfillment { id status } userErrors { field message } } }",
            new JsonObject { ["fulfillment"] = fulfillment }, MutationCost, cancellationToken);
        EnsureNoUserErrors(created, "fulfillmentCreate");
        return created["fulfillmentCreate"]!["fulfillment"]!["id"]!.GetValue<string>().Split('/')[^1];
    }

    public async Task<int?> GetAvailableAsync(string shop, string inventoryItemId, string locationId, CancellationToken cancellationToken = default)
    {
        var data = await SendAsync(shop,
            "query Level($id: ID!, $location: ID!) { inventoryItem(id: $id) { inventoryLevel(locationId: $location) { quantities(names: [\"available\"]) { name quantity } } } }",
            new JsonObject { ["id"] = $"gid://shopify/InventoryItem/{inventoryItemId}", ["location"] = $"gid://shopify/Location/{locationId}" }, 2, cancellationToken);
        return data["inventoryItem"]?["inventoryLevel"]?["quantities"] is JsonArray quantities
            && quantities.FirstOrDefault(q => q?["name"]?.GetValue<string>() == "available") is { } available
                ? available["quantity"]!.GetValue<int>()
                : null;
    }

    public async Task<IReadOnlyList<ShopifyRefundSummary>> GetRefundsAsync(string shop, string orderId, CancellationToken cancellationToken = default)
    {
        var data = await SendAsync(shop,
            "query Refunds($id: ID!) { order(id: $id) { refunds { id legacyResourceId createdAt totalRefundedSet { shopMoney { amount currencyCode } } refundLineItems(first: 100) { nodes { quantity restockType lineItem { sku } } } } } }",
            new JsonObject { ["id"] = OrderGid(orderId) }, 12, cancellationToken);
        return [.. (data["order"]?["refunds"] as JsonArray ?? []).Select(r => new ShopifyRefundSummary(
            r!["legacyResourceId"]?.ToString() ?? r["id"]!.GetValue<string>().Split('/')[^1],
            DateTimeOffset.Parse(r["createdAt"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture),
            decimal.Parse(r["totalRefundedSet"]!["shopMoney"]!["amount"]!.ToString(), System.Globalization.CultureInfo.InvariantCulture),
            r["totalRefundedSet"]!["shopMoney"]!["currencyCode"]!.GetValue<string>(),
            [.. (r["refundLineItems"]?["nodes"] as JsonArray ?? []).Select(l => new ShopifyRefundLine(
                l!["lineItem"]?["sku"]?.GetValue<string>(), l["quantity"]!.GetValue<int>(), l["restockType"]?.GetValue<string>() ?? "NO_RESTOCK"))]))];
    }

    public async Task<OrdersPage> ListOrdersUpdatedSinceAsync(string shop, DateTimeOffset since, string? after, int first = 100, CancellationToken cancellationToken = default)
    {
        var data = await SendAsync(shop,
            "query Orders($first: Int!, $after: String, $query: String) { orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) { edges { cursor node { id legacyResourceId name updatedAt tags } } pageInfo { hasNextPage endCursor } } }",
            new JsonObject { ["first"] = first, ["after"] = after, ["query"] = $"updated_at:>'{since.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}'" },
            2 + first, cancellationToken);
        var orders = data["orders"]!;
        var list = (orders["edges"] as JsonArray ?? []).Select(e => e!["node"]!).Select(n => new ShopifyOrderSummary(
            n["legacyResourceId"]?.ToString() ?? n["id"]!.GetValue<string>().Split('/')[^1],
            n["name"]?.GetValue<string>(),
            DateTimeOffset.Parse(n["updatedAt"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture),
            [.. (n["tags"] as JsonArray ?? []).Select(t => t!.GetValue<string>())])).ToList();
        return new OrdersPage(list, orders["pageInfo"]!["hasNextPage"]!.GetValue<bool>(), orders["pageInfo"]!["endCursor"]?.GetValue<string>());
    }

    private async Task<JsonObject> SendAsync(string shop, string query, JsonObject variables, int expectedCost, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue.Shopify;
        var url = $"{settings.Endpoint.Replace("{shop}", shop, StringComparison.Ordinal).TrimEnd('/')}/admin/api/{settings.ApiVersion}/graphql.json";
        var bucket = buckets.GetOrAdd(shop, _ => new Bucket());
        string? failedToken = null;
        for (var attempt = 1; ; attempt++)
        {
            var wait = bucket.WaitFor(expectedCost, clock.GetUtcNow());
            if (wait > TimeSpan.Zero)
            {
                LogPacing(logger, shop, wait.TotalMilliseconds);
                await Task.Delay(wait, clock, cancellationToken);
            }

            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(new JsonObject { ["query"] = query, ["variables"] = variables.DeepClone() }) };
            var token = await tokens.TokenAsync(shop, failedToken, cancellationToken);
            request.Headers.TryAddWithoutValidation("X-Shopify-Access-Token", token);
            using var response = await Transport.SendAsync(http, request, SystemName, cancellationToken);
            if ((int)response.StatusCode == 401 && tokens.CanRenew)
            {
                // A token Shopify no longer takes (revoked, or expired early): one new one, then the call is transient.
                if (failedToken is null)
                {
                    failedToken = token;
                    continue;
                }

                throw new ConnectorException(SystemName, FailureKind.Transient, "401", $"Shopify refused a token just granted for {shop}");
            }

            var body = await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken) ?? [];
            bucket.Observe(body["extensions"]?["cost"], expectedCost, clock.GetUtcNow());
            var errors = body["errors"] as JsonArray;
            var throttled = (int)response.StatusCode == 429 || errors?.Any(e => e?["extensions"]?["code"]?.GetValue<string>() == "THROTTLED") == true;
            if (throttled && attempt < 6)
            {
                bucket.Drain(clock.GetUtcNow());
                continue;
            }

            if (!response.IsSuccessStatusCode || throttled)
            {
                var status = (int)response.StatusCode;
                throw new ConnectorException(SystemName, throttled ? FailureKind.Transient : ConnectorException.KindOf(status), throttled ? "THROTTLED" : status.ToString(System.Globalization.CultureInfo.InvariantCulture), body.ToJsonString());
            }

            if (errors is { Count: > 0 })
            {
                var first = errors[0]!;
                throw new ConnectorException(SystemName, FailureKind.Permanent, first["extensions"]?["code"]?.GetValue<string>(), first["message"]?.GetValue<string>() ?? first.ToJsonString());
            }

            return body["data"] as JsonObject ?? throw new ConnectorException(SystemName, FailureKind.Transient, null, "answer without data");
        }
    }

    private static void EnsureNoUserErrors(JsonObject data, string mutation)
    {
        if (data[mutation]?["userErrors"] is JsonArray { Count: > 0 } errors)
        {
            var first = errors[0]!;
            throw new ConnectorException(SystemName, FailureKind.Permanent, first["code"]?.GetValue<string>() ?? "USER_ERROR", first["message"]?.GetValue<string>() ?? first.ToJsonString());
        }
    }

    private static string OrderGid(string orderId) => $"gid://shopify/Order/{orderId}";

    private static JsonArray Array(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode)v)]);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Shopify {Shop}: waiting {Milliseconds} ms for the cost bucket to refill")]
    private static partial void LogPacing(ILogger logger, string shop, double milliseconds);

    /// <summary>What we last learned of a shop's cost bucket, refilled by time at its restore rate.</summary>
    private sealed class Bucket
    {
        private readonly object gate = new();
        private double available = double.NaN;
        private double restoreRate = 50;
        private double maximum = 1000;
        private DateTimeOffset at;

        /// <summary>Cost of calls reserved here and not answered yet: Shopify's figure does not count them all yet.</summary>
        private double inFlight;

        /// <summary>
        /// An answer to a call that reserved <paramref name="reserved"/>: Shopify's bucket as it reports it, less
        /// what the other calls still in flight will take (concurrent calls must not all spend the same points).
        /// </summary>
        public void Observe(JsonNode? cost, int reserved, DateTimeOffset now)
        {
            lock (gate)
            {
                inFlight = Math.Max(0, inFlight - reserved);
                if (cost?["throttleStatus"] is not JsonObject status)
                {
                    return;
                }

                restoreRate = status["restoreRate"]!.GetValue<double>();
                maximum = status["maximumAvailable"]!.GetValue<double>();
                var reported = status["currentlyAvailable"]!.GetValue<double>() - inFlight;
                // Answers arrive out of order: an older one must not raise the estimate above what newer ones left.
                var estimate = double.IsNaN(available) ? reported : Math.Min(maximum, available + (now - at).TotalSeconds * restoreRate);
                available = Math.Min(estimate, reported);
                at = now;
            }
        }

        public void Drain(DateTimeOffset now)
        {
            lock (gate)
            {
                available = 0;
                at = now;
            }
        }

        public TimeSpan WaitFor(int cost, DateTimeOffset now)
        {
            lock (gate)
            {
                inFlight += cost;
                if (double.IsNaN(available))
                {
                    return TimeSpan.Zero;
                }

                var estimate = Math.Min(maximum, available + (now - at).TotalSeconds * restoreRate);
                if (estimate >= cost)
                {
                    available = estimate - cost;
                    at = now;
                    return TimeSpan.Zero;
                }

                var wait = TimeSpan.FromSeconds((cost - estimate) / restoreRate);
                available = 0;
                at = now + wait;
                return wait;
            }
        }
    }
}
