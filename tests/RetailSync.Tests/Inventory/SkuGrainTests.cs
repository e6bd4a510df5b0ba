using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Inventory;

/// <summary>ERP stock truth per SKU in the embedded default: the sandbox ERP counts stock and calls back.</summary>
[Collection(SandboxCollection.Name)]
public sealed class SkuGrainTests(SandboxHostFixture sandbox) : IAsyncLifetime
{
    private const string Tenant = "sandbox";

    public async Task InitializeAsync()
    {
        await sandbox.ResetAsync();
        sandbox.BcSim.SeedItem("IPOD2008PINK", "iPod Nano 8GB pink", 199m, 100m);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<JsonElement> StockAsync(string sku, decimal onHand, string location = "MAIN")
    {
        var response = await sandbox.Http.PostAsJsonAsync("/sandbox/erp/stock", new { sku, location, onHand });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(200, answer.GetProperty("callback").GetProperty("status").GetInt32());
        return answer;
    }

    private static HttpRequestMessage Callback(string json) =>
        ShopifyFixtures.SignedCallback("/webhooks/erp/bc", Encoding.UTF8.GetBytes(json), "sandbox-erp-secret");

    [Fact]
    public async Task an_older_erp_figure_arriving_late_is_recorded_not_applied()
    {
        // A SKU of its own: the grains outlive the sandbox's reset, and other tests order IPOD2008PINK.
        var skuId = "LATE-" + Guid.NewGuid().ToString("N")[..6];
        sandbox.BcSim.SeedItem(skuId, "Late figure", 10m, 0m);
        var first = (await StockAsync(skuId, 10)).GetProperty("version").GetInt64();
        await StockAsync(skuId, 7);
        await StockAsync(skuId, 3, location: "EAST");

        // The first count's callback is delivered again, late (and once more, as a duplicate).
        var late = $$"""{"eventId":"late-{{first}}","type":"stock.changed","sku":"{{skuId}}","location":"MAIN","onHand":10,"version":{{first}}}""";
        Assert.Equal("stale", (await (await sandbox.Http.SendAsync(Callback(late))).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("effect").GetString());
        Assert.Equal("duplicate", (await (await sandbox.Http.SendAsync(Callback(late))).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await sandbox.Http.SendAsync(Callback($$"""{"eventId":"x","type":"stock.changed","sku":"{{skuId}}"}"""))).StatusCode);

        var (status, sku) = await sandbox.Http.GetApiAsync($"/api/v1/inventory/{Tenant}/{skuId}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(10m, sku.GetProperty("onHand").GetDecimal());
        var main = sku.GetProperty("locations").EnumerateArray().Single(l => l.GetProperty("location").GetString() == "MAIN");
        Assert.Equal(7m, main.GetProperty("onHand").GetDecimal());
        Assert.Contains(sku.GetProperty("timeline").EnumerateArray(), e => e.GetProperty("detail").GetString()!.Contains("is not newer", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.NotFound, (await sandbox.Http.GetApiAsync($"/api/v1/inventory/{Tenant}/NO-SUCH-SKU")).Status);
    }

    /// <summary>A new SKU the sandbox ERP knows, linked by products/update to a new Shopify inventory item stocked at location 1.</summary>
    private async Task<(string Sku, string Item)> LinkedSkuAsync(string prefix, string name)
    {
        var sku = prefix + "-" + Guid.NewGuid().ToString("N")[..6];
        var item = Random.Shared.Next(100_000, 999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);
        sandbox.BcSim.SeedItem(sku, name, 10m, 0m);
        sandbox.ShopifySim.SeedInventory(item, "1", 0);
        var product = System.Text.Json.Nodes.JsonNode.Parse(ShopifyFixtures.Bytes("products_update__hookdeck-2024-10.json"))!.AsObject();
        product["variants"]![0]!["sku"] = sku;
        product["variants"]![0]!["inventory_item_id"] = long.Parse(item, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(HttpStatusCode.OK, (await sandbox.Http.SendAsync(ShopifyFixtures.Delivery("products/update", Encoding.UTF8.GetBytes(product.ToJsonString())))).StatusCode);
        return (sku, item);
    }

    private async Task<int?> ShopifyAvailableAsync(string item, string location) =>
        (await sandbox.Http.GetFromJsonAsync<JsonElement>("/sandbox/state")).GetProperty("shopify").GetProperty("inventoryLevels").EnumerateArray()
            .Where(l => l.GetProperty("inventoryItemId").GetString() == item && l.GetProperty("locationId").GetString() == location)
            .Select(l => (int?)l.GetProperty("available").GetInt32()).FirstOrDefault();

    [Fact]
    public async Task erp_stock_reaches_shopify_coalesced_and_overrides_a_value_changed_in_shopify()
    {
        var (sku, item) = await LinkedSkuAsync("PUSH", "Pushed item");

        await StockAsync(sku, 42);
        await Eventually.TrueAsync(async () => await ShopifyAvailableAsync(item, "1") == 42, TimeSpan.FromSeconds(30), "Shopify shows the ERP's 42");

        // A burst: 100 counts in a row end as the last one in Shopify, in a few writes, not 100.
        var (_, before) = await sandbox.Http.GetApiAsync($"/api/v1/inventory/{Tenant}/{sku}");
        for (var n = 100; n < 200; n++)
        {
            await StockAsync(sku, n);
        }

        await Eventually.TrueAsync(async () => await ShopifyAvailableAsync(item, "1") == 199, TimeSpan.FromSeconds(30), "Shopify shows the last count");
        var (_, after) = await sandbox.Http.GetApiAsync($"/api/v1/inventory/{Tenant}/{sku}");
        var writes = after.GetProperty("writes").GetInt32() - before.GetProperty("writes").GetInt32();
        Assert.InRange(writes, 1, 20);

        // Someone sets the level in Shopify's admin: the next ERP figure is written over it (the ERP decides stock).
        sandbox.ShopifySim.SeedInventory(item, "1", 5);
        await StockAsync(sku, 250);
        await Eventually.TrueAsync(async () => await ShopifyAvailableAsync(item, "1") == 250, TimeSpan.FromSeconds(30), "the ERP's figure overrides");
        var (_, view) = await sandbox.Http.GetApiAsync($"/api/v1/inventory/{Tenant}/{sku}");
        Assert.Contains(view.GetProperty("timeline").EnumerateArray(), e => e.GetProperty("detail").GetString()!.Contains("changed in Shopify", StringComparison.Ordinal));
        Assert.Equal(250, Assert.Single(view.GetProperty("pushed").EnumerateArray()).GetProperty("available").GetInt32());
        var (_, kpis) = await sandbox.Http.GetApiAsync("/api/v1/kpis");
        Assert.True(kpis.GetProperty("inventoryFreshnessP50Ms").GetDouble() > 0);
    }

    [Fact]
    public async Task shopify_echoes_of_our_writes_are_ignored_and_a_change_made_in_shopify_is_recorded_and_put_back()
    {
        var (sku, item) = await LinkedSkuAsync("ECHO", "Echoed item");
        await StockAsync(sku, 30);
        await Eventually.TrueAsync(async () => await ShopifyAvailableAsync(item, "1") == 30, TimeSpan.FromSeconds(30), "Shopify shows 30");

        byte[] Level(int available, DateTimeOffset at)
        {
            var level = System.Text.Json.Nodes.JsonNode.Parse(ShopifyFixtures.Bytes("inventory_levels_update__hookdeck-2024-10.json"))!.AsObject();
            level["inventory_item_id"] = long.Parse(item, System.Globalization.CultureInfo.InvariantCulture);
            level["location_id"] = 1;
            level["available"] = available;
            level["updated_at"] = at.ToString("yyyy-MM-ddTHH:mm:sszzz", System.Globalization.CultureInfo.InvariantCulture);
            return Encoding.UTF8.GetBytes(level.ToJsonString());
        }

        // Shopify tells us of our own write: an echo, nothing to do.
        await sandbox.Http.SendAsync(ShopifyFixtures.Delivery("inventory_levels/update", Level(30, DateTimeOffset.UtcNow)));
        var (_, view) = await sandbox.Http.GetApiAsync($"/api/v1/inventory/{Tenant}/{sku}");
        Assert.Equal(1, view.GetProperty("echoes").GetInt32());
        var writes = view.GetProperty("writes").GetInt32();

        // A merchant sets 3 in Shopify's admin: recorded, and the ERP's 30 is written back.
        sandbox.ShopifySim.SeedInventory(item, "1", 3);
        await sandbox.Http.SendAsync(ShopifyFixtures.Delivery("inventory_levels/update", Level(3, DateTimeOffset.UtcNow.AddSeconds(1))));
        await Eventually.TrueAsync(async () => await ShopifyAvailableAsync(item, "1") == 30, TimeSpan.FromSeconds(30), "the ERP's 30 is back in Shopify");
        (_, view) = await sandbox.Http.GetApiAsync($"/api/v1/inventory/{Tenant}/{sku}");
        Assert.Contains(view.GetProperty("timeline").EnumerateArray(), e => e.GetProperty("detail").GetString()!.Contains("3 set in Shopify", StringComparison.Ordinal));
        Assert.Equal(writes + 1, view.GetProperty("writes").GetInt32());
    }

    [Fact]
    public async Task the_drift_check_finds_a_level_shopify_lost_and_writes_the_erps_figure_back()
    {
        var (sku, item) = await LinkedSkuAsync("DRIFT", "Drifting item");
        await StockAsync(sku, 40);
        await Eventually.TrueAsync(async () => await ShopifyAvailableAsync(item, "1") == 40, TimeSpan.FromSeconds(30), "Shopify shows 40");

        // Shopify's level changes with no webhook reaching us (a lost delivery, an app's bulk edit).
        sandbox.ShopifySim.SeedInventory(item, "1", 13);
        var report = await sandbox.Host.Grains.GetGrain<RetailSync.Inventory.IDriftCheckGrain>(Tenant).CheckAsync();

        var repair = Assert.Single(report.Repaired, r => r.Sku == sku);
        Assert.Equal((13, 40), (repair.Found, repair.Expected));
        await Eventually.TrueAsync(async () => await ShopifyAvailableAsync(item, "1") == 40, TimeSpan.FromSeconds(30), "the ERP's 40 written back");
        var (status, last) = await sandbox.Http.GetApiAsync($"/api/v1/inventory/{Tenant}/drift");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains(last.GetProperty("repaired").EnumerateArray(), r => r.GetProperty("sku").GetString() == sku);
        Assert.Empty((await sandbox.Host.Grains.GetGrain<RetailSync.Inventory.IDriftCheckGrain>(Tenant).CheckAsync()).Repaired.Where(r => r.Sku == sku));
    }
}
