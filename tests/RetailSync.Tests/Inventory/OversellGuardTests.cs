using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RetailSync.Sandbox.BusinessCentral;
using RetailSync.Sandbox.Shopify;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Inventory;

/// <summary>
/// The oversell guard against the sandbox, whose ERP reports its availability (on hand less open orders) after
/// every sales order, as an ERP extension would: reservations at intake, allocation by the ERP, backorders.
/// </summary>
public sealed class OversellGuardTests : IAsyncLifetime
{
    private const string Tenant = "sandbox";
    private const string Shop = ShopifyFixtures.Shop;
    private InProcessHost host = null!;

    public async Task InitializeAsync() => host = await InProcessHost.StartEmbeddedAsync(
        "--RetailSync:Dashboard:Enabled=false",
        "--RetailSync:Sandbox:ErpReportsAvailability=true",
        "--RetailSync:Inventory:PushDelay=00:00:00.200",
        "--RetailSync:Connectors:Salesforce:RequestsPerSecond=2000",
        "--RetailSync:Connectors:BusinessCentral:RequestsPerSecond=2000",
        "--RetailSync:Outbound:RetryBaseDelay=00:00:00.100",
        "--RetailSync:Outbound:MaxDelay=00:00:01");

    public async Task DisposeAsync() => await host.DisposeAsync();

    private BusinessCentralSimulator Bc => host.App.Services.GetRequiredService<BusinessCentralSimulator>();

    private ShopifySimulator ShopifySim => host.App.Services.GetRequiredService<ShopifySimulator>();

    /// <summary>A SKU in the ERP with <paramref name="onHand"/> counted, linked to a Shopify item at location 1.</summary>
    private async Task<(string Sku, string Item)> StockedSkuAsync(int onHand)
    {
        var sku = "FLASH-" + Guid.NewGuid().ToString("N")[..6];
        var item = Random.Shared.Next(100_000, 999_999).ToString(CultureInfo.InvariantCulture);
        Bc.SeedItem(sku, "Limited sneaker", 120m, 0m);
        ShopifySim.SeedInventory(item, "1", 0);
        var product = JsonNode.Parse(ShopifyFixtures.Bytes("products_update__hookdeck-2024-10.json"))!.AsObject();
        product["variants"]![0]!["sku"] = sku;
        product["variants"]![0]!["inventory_item_id"] = long.Parse(item, CultureInfo.InvariantCulture);
        Assert.Equal(HttpStatusCode.OK, (await host.Http.SendAsync(ShopifyFixtures.Delivery("products/update", Encoding.UTF8.GetBytes(product.ToJsonString())))).StatusCode);
        (await host.Http.PostAsJsonAsync("/sandbox/erp/stock", new { sku, location = "MAIN", onHand })).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(async () => await SkuAsync(sku) is { } view && view.GetProperty("availableToSell").GetDecimal() == onHand,
            TimeSpan.FromSeconds(20), "the ERP's count on the SKU");
        return (sku, item);
    }

    private static byte[] Order(long id, string sku, int quantity) => ShopifyFixtures.OrderOfOneLine(id, sku, quantity);

    private async Task<JsonElement?> SkuAsync(string sku)
    {
        var (status, view) = await host.Http.GetApiAsync($"/api/v1/inventory/{Tenant}/{sku}");
        return status == HttpStatusCode.OK ? view : null;
    }

    private async Task<string?> StatusAsync(long id)
    {
        var (status, order) = await host.Http.GetApiAsync($"/api/v1/orders/{Shop}/{id}");
        return status == HttpStatusCode.OK ? order.GetProperty("status").GetString() : null;
    }

    private async Task<int?> ShopifyAvailableAsync(string item) =>
        (await host.Http.GetFromJsonAsync<JsonElement>("/sandbox/state")).GetProperty("shopify").GetProperty("inventoryLevels").EnumerateArray()
            .Where(l => l.GetProperty("inventoryItemId").GetString() == item && l.GetProperty("locationId").GetString() == "1")
            .Select(l => (int?)l.GetProperty("available").GetInt32()).FirstOrDefault();

    private int ErpSalesOrders(string sku) =>
        Bc.Entities("salesOrders").Count(o => o["salesOrderLines"]!.AsArray().Any(l => l!["lineObjectNumber"]?.GetValue<string>() == sku));

    [Fact]
    public async Task a_flash_sale_of_200_units_to_1000_buyers_accepts_exactly_200_and_backorders_the_rest()
    {
        var (sku, item) = await StockedSkuAsync(200);
        var first = Random.Shared.NextInt64(1_000_000_000, 8_000_000_000);
        var ids = Enumerable.Range(0, 1000).Select(i => first + i).ToList();
        (await host.Http.PostAsJsonAsync("/sandbox/shopify/orders/range", new { firstId = first, count = ids.Count })).EnsureSuccessStatusCode();

        // All at once (50 connections' worth in flight): the SKU grain decides in the order the reservations reach it.
        using var gate = new SemaphoreSlim(50);
        await Task.WhenAll(ids.Select(async id =>
        {
            await gate.WaitAsync();
            try
            {
                var response = await host.Http.SendAsync(ShopifyFixtures.Delivery("orders/create", Order(id, sku, 1), eventId: "flash-" + id));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
            finally
            {
                gate.Release();
            }
        }));

        var statuses = new Dictionary<long, string?>();
        await Eventually.TrueAsync(async () =>
        {
            foreach (var id in ids.Where(id => statuses.GetValueOrDefault(id) is not ("Accepted" or "Backordered")))
            {
                statuses[id] = await StatusAsync(id);
            }

            return statuses.Values.All(s => s is "Accepted" or "Backordered");
        }, TimeSpan.FromSeconds(90), "every order accepted or backordered");

        Assert.Equal(200, statuses.Values.Count(s => s == "Accepted"));
        Assert.Equal(800, statuses.Values.Count(s => s == "Backordered"));
        Assert.Equal(200, ErpSalesOrders(sku));

        // The ERP has promised everything; Shopify shows the same, and was never told less than zero.
        Assert.Equal(0m, Bc.Available(sku));
        try
        {
            await Eventually.TrueAsync(async () => await ShopifyAvailableAsync(item) == 0, TimeSpan.FromSeconds(20), "Shopify at the ERP's level");
        }
        catch (TimeoutException ex)
        {
            var v = (await SkuAsync(sku))!.Value;
            var shopifySteps = v.GetProperty("timeline").EnumerateArray().Where(e => e.GetProperty("kind").GetString()!.StartsWith("shopify", StringComparison.Ordinal) || e.GetProperty("kind").GetString() == "allocated").TakeLast(6).Select(e => e.GetRawText());
            throw new TimeoutException($"{ex.Message}: Shopify shows {await ShopifyAvailableAsync(item)}; pushed {v.GetProperty("pushed").GetRawText()}, writes {v.GetProperty("writes")}, reservations {v.GetProperty("reservations").GetArrayLength()}; {string.Join(" | ", shopifySteps)}", ex);
        }

        Assert.True(ShopifySim.LowestWritten >= 0, $"Shopify was told {ShopifySim.LowestWritten}");
        var view = (await SkuAsync(sku))!.Value;
        Assert.Equal(800, view.GetProperty("backorders").GetArrayLength());
        Assert.True(view.GetProperty("availableToSell").GetDecimal() <= 0);
        var held = ids.First(id => statuses[id] == "Backordered");
        var (_, order) = await host.Http.GetApiAsync($"/api/v1/orders/{Shop}/{held}");
        Assert.Contains(order.GetProperty("timeline").EnumerateArray(), e => e.GetProperty("detail").GetString()!.Contains("not enough available to sell", StringComparison.Ordinal));
        Assert.Equal(JsonValueKind.Null, order.GetProperty("systems").GetProperty("erp").GetProperty("externalId").ValueKind);
    }

    [Fact]
    public async Task a_reservation_holds_until_the_erp_counts_the_order_and_new_stock_goes_to_the_waiting_order_first()
    {
        var (sku, item) = await StockedSkuAsync(2);
        var (a, b, c) = (Random.Shared.NextInt64(1_000_000_000, 8_000_000_000), Random.Shared.NextInt64(1_000_000_000, 8_000_000_000), Random.Shared.NextInt64(1_000_000_000, 8_000_000_000));
        foreach (var id in new[] { a, b, c })
        {
            ShopifySim.SeedOrder(id.ToString(CultureInfo.InvariantCulture), "#" + id);
        }

        await host.Http.SendAsync(ShopifyFixtures.Delivery("orders/create", Order(a, sku, 2)));
        await Eventually.TrueAsync(async () => await StatusAsync(a) == "Accepted", TimeSpan.FromSeconds(20), "A accepted");
        // The ERP's availability report after A's sales order counts A: the reservation ends, nothing is left to sell.
        await Eventually.TrueAsync(async () => (await SkuAsync(sku))!.Value.GetProperty("reservations").GetArrayLength() == 0, TimeSpan.FromSeconds(20), "A's reservation counted by the ERP");
        Assert.Equal(0m, (await SkuAsync(sku))!.Value.GetProperty("availableToSell").GetDecimal());

        await host.Http.SendAsync(ShopifyFixtures.Delivery("orders/create", Order(b, sku, 1)));
        await host.Http.SendAsync(ShopifyFixtures.Delivery("orders/create", Order(c, sku, 1)));
        await Eventually.TrueAsync(async () => await StatusAsync(b) == "Backordered" && await StatusAsync(c) == "Backordered", TimeSpan.FromSeconds(20), "B and C backordered");
        Assert.Equal(1, ErpSalesOrders(sku));

        // One more unit is counted: B came first and gets it; C still waits.
        (await host.Http.PostAsJsonAsync("/sandbox/erp/stock", new { sku, location = "MAIN", onHand = 3 })).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(async () => await StatusAsync(b) == "Accepted", TimeSpan.FromSeconds(20), "B accepted");
        Assert.Equal("Backordered", await StatusAsync(c));
        Assert.Equal(2, ErpSalesOrders(sku));

        // C is cancelled while it waits: it never reaches the ERP and leaves the queue.
        var cancelled = JsonNode.Parse(Order(c, sku, 1))!.AsObject();
        cancelled["cancelled_at"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture);
        cancelled["updated_at"] = DateTimeOffset.UtcNow.AddSeconds(1).ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture);
        await host.Http.SendAsync(ShopifyFixtures.Delivery("orders/cancelled", Encoding.UTF8.GetBytes(cancelled.ToJsonString())));
        await Eventually.TrueAsync(async () => await StatusAsync(c) == "Cancelled", TimeSpan.FromSeconds(20), "C cancelled");
        await Eventually.TrueAsync(async () => (await SkuAsync(sku))!.Value.GetProperty("backorders").GetArrayLength() == 0, TimeSpan.FromSeconds(20), "queue empty");
        Assert.Equal(2, ErpSalesOrders(sku));
        await Eventually.TrueAsync(async () => await ShopifyAvailableAsync(item) == 0, TimeSpan.FromSeconds(20), "Shopify at the ERP's level");
    }
}
