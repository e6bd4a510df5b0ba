using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Orders;

/// <summary>
/// The ERP's side of the lifecycle in the embedded default: the sandbox ERP ships, backorders or holds an
/// order and its signed callback (<c>POST /webhooks/erp/bc</c>) moves the order, which tells Shopify
/// (a fulfilment with tracking, the status tag) and the CRM.
/// </summary>
[Collection(SandboxCollection.Name)]
public sealed class ErpCallbackTests(SandboxHostFixture sandbox) : IAsyncLifetime
{
    private const string Shop = ShopifyFixtures.Shop;
    private const string Fixture = "orders_create__hookdeck-2024-10.json";

    public async Task InitializeAsync()
    {
        await sandbox.ResetAsync();
        sandbox.BcSim.SeedItem("IPOD2008PINK", "iPod Nano 8GB pink", 199m, 100m);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>An accepted order (two lines of one iPod each) that Shopify's simulator knows with its fulfillment order.</summary>
    private async Task<string> AcceptedOrderAsync()
    {
        var id = Random.Shared.NextInt64(1_000_000_000, 9_000_000_000).ToString(CultureInfo.InvariantCulture);
        var body = ShopifyFixtures.OrderVariant(Fixture, long.Parse(id, CultureInfo.InvariantCulture), DateTimeOffset.UtcNow);
        var lines = JsonNode.Parse(body)!["line_items"]!.AsArray()
            .Select(l => (l!["id"]!.ToString(), (string?)l["sku"]!.GetValue<string>(), l["quantity"]!.GetValue<int>()));
        sandbox.ShopifySim.SeedOrder(id, "#" + id[..4], lines);
        Assert.Equal(HttpStatusCode.OK, (await sandbox.Http.SendAsync(ShopifyFixtures.Delivery("orders/create", body))).StatusCode);
        await WaitForAsync(id, o => Status(o) == "Accepted" && AllSynced(o), "accepted");
        return id;
    }

    private static string? Status(JsonElement order) => order.GetProperty("status").GetString();

    /// <summary>Every system synced and nothing left in the outbox (a system reads Synced after one command while the next waits).</summary>
    private static bool AllSynced(JsonElement order) =>
        order.GetProperty("systems").EnumerateObject().All(s => s.Value.GetProperty("status").GetString() == "Synced")
        && order.GetProperty("outbox").EnumerateArray().All(e => e.GetProperty("status").GetString() is "Succeeded" or "Failed");

    private async Task<JsonElement> WaitForAsync(string id, Func<JsonElement, bool> done, string what)
    {
        JsonElement last = default;
        try
        {
            await Eventually.TrueAsync(async () =>
            {
                var (status, order) = await sandbox.Http.GetApiAsync($"/api/v1/orders/{Shop}/{id}");
                last = order;
                return status == HttpStatusCode.OK && done(order);
            }, TimeSpan.FromSeconds(30), what);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}; last seen: {(last.ValueKind == JsonValueKind.Object ? last.GetRawText() : "-")}", ex);
        }

        return last;
    }

    private async Task<JsonElement> ShipAsync(string id, int? quantity, string trackingNumber)
    {
        var response = await sandbox.Http.PostAsJsonAsync("/sandbox/erp/ship", new
        {
            orderId = id, trackingCompany = "UPS", trackingNumber,
            lines = quantity is null ? null : new[] { new { sku = "IPOD2008PINK", quantity = (decimal)quantity } },
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(200, answer.GetProperty("callback").GetProperty("status").GetInt32());
        return answer;
    }

    private async Task<JsonElement> ShopifyOrderAsync(string id) =>
        (await sandbox.Http.GetFromJsonAsync<JsonElement>("/sandbox/state")).GetProperty("shopify").GetProperty("orders").EnumerateArray()
            .Single(o => o.GetProperty("id").GetString() == id);

    [Fact]
    public async Task a_partial_then_a_full_shipment_fulfil_the_order_in_shopify_with_tracking_and_tell_the_crm()
    {
        var id = await AcceptedOrderAsync();

        await ShipAsync(id, 1, "1Z-FIRST");
        await WaitForAsync(id, o => Status(o) == "PartiallyFulfilled" && AllSynced(o), "partially fulfilled everywhere");
        var shopify = await ShopifyOrderAsync(id);
        var first = Assert.Single(shopify.GetProperty("fulfillments").EnumerateArray());
        Assert.Contains("1Z-FIRST", first.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(1, shopify.GetProperty("fulfillmentOrders")[0].GetProperty("lines").EnumerateArray().Sum(l => l.GetProperty("remaining").GetInt32()));

        await ShipAsync(id, null, "1Z-SECOND");
        var order = await WaitForAsync(id, o => Status(o) == "Fulfilled" && AllSynced(o), "fulfilled everywhere");

        shopify = await ShopifyOrderAsync(id);
        Assert.Equal(2, shopify.GetProperty("fulfillments").GetArrayLength());
        Assert.Equal(0, shopify.GetProperty("fulfillmentOrders")[0].GetProperty("lines").EnumerateArray().Sum(l => l.GetProperty("remaining").GetInt32()));
        Assert.Contains("retailsync:fulfilled", shopify.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.DoesNotContain("retailsync:accepted", shopify.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("Fulfilled", Assert.Single(sandbox.SalesforceSim.Records("Order"), o => o["Shopify_Order_Id__c"]!.GetValue<string>() == id)["RetailSync_Status__c"]!.GetValue<string>());
        var kinds = order.GetProperty("timeline").EnumerateArray().Select(e => e.GetProperty("kind").GetString()).ToList();
        Assert.Equal(2, kinds.Count(k => k == "erp:bc/order.shipped"));
        Assert.Equal(2, kinds.Count(k => k == "shopify:fulfill"));
        Assert.Equal(2, sandbox.BcSim.Entities("salesShipments").Count(s => s["externalDocumentNumber"]!.GetValue<string>() == id));
    }

    [Fact]
    public async Task a_cancellation_after_shipment_is_raised_for_operations_and_the_erp_order_stays()
    {
        var id = await AcceptedOrderAsync();
        await ShipAsync(id, null, "1Z-ALL");
        await WaitForAsync(id, o => Status(o) == "Fulfilled" && AllSynced(o), "fulfilled");

        var cancelled = JsonNode.Parse(ShopifyFixtures.OrderVariant("orders_cancelled__hookdeck-2024-10.json", long.Parse(id, CultureInfo.InvariantCulture), DateTimeOffset.UtcNow.AddMinutes(1), cancelled: true))!;
        cancelled["cancelled_at"] = DateTimeOffset.UtcNow.ToString("O");
        Assert.Equal(HttpStatusCode.OK, (await sandbox.Http.SendAsync(ShopifyFixtures.Delivery("orders/cancelled", Encoding.UTF8.GetBytes(cancelled.ToJsonString())))).StatusCode);

        await Eventually.TrueAsync(async () =>
        {
            var (_, exceptions) = await sandbox.Http.GetApiAsync("/api/v1/ops/exceptions");
            return exceptions.GetProperty("items").EnumerateArray().Any(e => e.GetProperty("id").GetString() == $"order:cancelAfterShipment:{Shop}:{id}");
        }, TimeSpan.FromSeconds(30), "cancel-after-shipment exception raised");
        var order = await WaitForAsync(id, _ => true, "order");
        Assert.Equal("Fulfilled", Status(order));
        Assert.Single(sandbox.BcSim.Entities("salesOrders"), o => o["externalDocumentNumber"]!.GetValue<string>() == id);
    }

    [Fact]
    public async Task an_erp_backorder_and_its_release_move_the_order_and_are_told_to_shopify()
    {
        var id = await AcceptedOrderAsync();

        var backorder = await sandbox.Http.PostAsJsonAsync("/sandbox/erp/events", new { type = "order.backordered", orderId = id, reason = "no stock in WH1" });
        Assert.Equal(HttpStatusCode.OK, backorder.StatusCode);
        var order = await WaitForAsync(id, o => Status(o) == "Backordered" && AllSynced(o), "backordered everywhere");
        Assert.Contains(order.GetProperty("timeline").EnumerateArray(), e => e.GetProperty("detail").GetString()!.Contains("no stock in WH1", StringComparison.Ordinal));
        Assert.Contains("retailsync:backordered", (await ShopifyOrderAsync(id)).GetProperty("tags").EnumerateArray().Select(t => t.GetString()));

        await sandbox.Http.PostAsJsonAsync("/sandbox/erp/events", new { type = "order.released", orderId = id });
        await WaitForAsync(id, o => Status(o) == "Accepted" && AllSynced(o), "accepted again");
        Assert.Contains("retailsync:accepted", (await ShopifyOrderAsync(id)).GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
    }

    private static HttpRequestMessage Callback(string json, string secret = "sandbox-erp-secret", string connector = "bc") =>
        ShopifyFixtures.SignedCallback($"/webhooks/erp/{connector}", Encoding.UTF8.GetBytes(json), secret);

    [Fact]
    public async Task erp_callbacks_are_verified_deduplicated_and_refused_with_problem_details_when_wrong()
    {
        var id = await AcceptedOrderAsync();
        var hold = $$"""{"eventId":"hold-{{id}}","type":"order.onHold","orderId":"{{id}}","reason":"credit review"}""";

        var first = await sandbox.Http.SendAsync(Callback(hold));
        Assert.Equal("accepted", (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        var again = await sandbox.Http.SendAsync(Callback(hold));
        Assert.Equal("duplicate", (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());

        async Task Refused(HttpRequestMessage request, HttpStatusCode expected)
        {
            var response = await sandbox.Http.SendAsync(request);
            Assert.Equal(expected, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        await Refused(Callback(hold.Replace("hold-", "other-", StringComparison.Ordinal), secret: "wrong"), HttpStatusCode.Unauthorized);
        await Refused(Callback("""{"eventId":"x","type":"order.teleported","orderId":"1"}"""), HttpStatusCode.BadRequest);
        await Refused(Callback("""{"eventId":"x","type":"order.shipped","orderId":"1"}"""), HttpStatusCode.BadRequest);
        await Refused(Callback("{not json"), HttpStatusCode.BadRequest);
        await Refused(Callback("""{"eventId":"x","type":"order.onHold","orderId":"404404"}"""), HttpStatusCode.NotFound);
        await Refused(Callback(hold, connector: "sap"), HttpStatusCode.Unauthorized);

        // Connector names are case-insensitive; the event is the same whichever spelling the ERP uses.
        var shouted = await sandbox.Http.SendAsync(Callback(hold, connector: "BC"));
        Assert.Equal("duplicate", (await shouted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());

        var order = await WaitForAsync(id, o => Status(o) == "OnHold", "on hold once");
        Assert.Single(order.GetProperty("timeline").EnumerateArray(), e => e.GetProperty("kind").GetString() == "erp:bc/order.onHold");
    }

    [Fact]
    public async Task the_sandbox_erp_posts_its_callbacks_to_its_own_address_whatever_host_the_caller_names()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/sandbox/erp/events")
        {
            Content = JsonContent.Create(new { type = "order.released", orderId = "1" }),
        };
        request.Headers.Host = "attacker.example:9";

        var response = await sandbox.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var url = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("callback").GetProperty("url").GetString()!;
        Assert.StartsWith(sandbox.Http.BaseAddress!.GetLeftPart(UriPartial.Authority) + "/webhooks/erp/", url, StringComparison.Ordinal);
    }
}
