using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using RetailSync.Connectors;
using RetailSync.Connectors.Shopify;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Connectors;

[Collection(SandboxCollection.Name)]
public sealed class ShopifyAdapterTests(SandboxHostFixture sandbox) : IAsyncLifetime
{
    private const string Shop = "sandbox.myshopify.com";

    public Task InitializeAsync() => sandbox.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task each_shops_token_comes_from_the_client_credentials_grant_and_a_refused_one_is_replaced_once()
    {
        var tokens = sandbox.Host.App.Services.GetRequiredService<ShopifyTokens>();
        sandbox.ShopifySim.SeedOrder("5551000", "#1000");
        await sandbox.Shopify.AddOrderTagsAsync(Shop, "5551000", ["first"]);
        var granted = tokens.Granted;
        var issued = sandbox.ShopifySim.Tokens.Issued;
        Assert.True(issued >= 1, "the call went with a granted token");

        // The token stops working before its day is out (the app's secret was rotated): eight calls see it refused.
        sandbox.ShopifySim.Tokens.ExpireAll();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => sandbox.Shopify.AddOrderTagsAsync(Shop, "5551000", [$"tag-{i}"])));

        Assert.Equal(granted + 1, tokens.Granted);
        Assert.Equal(issued + 1, sandbox.ShopifySim.Tokens.Issued);
    }

    [Fact]
    public async Task a_token_is_renewed_before_its_lifetime_ends_without_waiting_for_a_refusal()
    {
        var options = sandbox.Host.App.Services.GetRequiredService<IOptionsMonitor<ConnectorOptions>>();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var tokens = new ShopifyTokens(new HttpClient(), options, clock);
        sandbox.ShopifySim.Tokens.Lifetime = TimeSpan.FromSeconds(20);

        var first = await tokens.TokenAsync(Shop, null, CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(17));
        Assert.Equal(first, await tokens.TokenAsync(Shop, null, CancellationToken.None));
        clock.Advance(TimeSpan.FromSeconds(1.5));
        Assert.NotEqual(first, await tokens.TokenAsync(Shop, null, CancellationToken.None));
        Assert.Equal(2, tokens.Granted);
    }

    [Fact]
    public async Task a_wrong_client_secret_is_refused_by_the_token_endpoint_with_its_reason()
    {
        var right = sandbox.Host.App.Services.GetRequiredService<IOptionsMonitor<ConnectorOptions>>().CurrentValue.Shopify;
        var options = new ConnectorOptions { Shopify = { Endpoint = right.Endpoint, ClientId = right.ClientId, ClientSecret = "not-the-secret" } };
        var tokens = new ShopifyTokens(new HttpClient(), new StaticOptions<ConnectorOptions>(options), TimeProvider.System);

        var refused = await Assert.ThrowsAsync<ConnectorException>(() => tokens.TokenAsync(Shop, null, CancellationToken.None));
        Assert.Equal("invalid_client", refused.VendorCode);
        Assert.Equal(FailureKind.Permanent, refused.Kind);
    }

    [Fact]
    public async Task tags_are_added_and_removed_without_touching_the_merchants_tags()
    {
        sandbox.ShopifySim.SeedOrder("5551234", "#1001");
        await sandbox.Shopify.AddOrderTagsAsync(Shop, "5551234", ["vip-by-merchant"]);
        await sandbox.Shopify.AddOrderTagsAsync(Shop, "5551234", ["retailsync:erp-pending"]);
        await sandbox.Shopify.AddOrderTagsAsync(Shop, "5551234", ["retailsync:erp-accepted"]);
        await sandbox.Shopify.RemoveOrderTagsAsync(Shop, "5551234", ["retailsync:erp-pending"]);
        await sandbox.Shopify.SetOrderMetafieldAsync(Shop, "5551234", "retail_sync", "erp_order_no", "S-ORD101005");

        var page = await sandbox.Shopify.ListOrdersUpdatedSinceAsync(Shop, DateTimeOffset.UtcNow.AddHours(-1), null);
        var order = Assert.Single(page.Orders);
        Assert.Equal<string>(["retailsync:erp-accepted", "vip-by-merchant"], order.Tags);
    }

    [Fact]
    public async Task inventory_is_set_only_from_the_expected_quantity_and_an_idempotency_key_is_applied_once()
    {
        sandbox.ShopifySim.SeedInventory("30322695", "124656943", 5);
        Assert.Equal(InventorySetOutcome.Stale, await sandbox.Shopify.SetAvailableAsync(Shop, "30322695", "124656943", 12, changeFrom: 4, "k-stale"));
        Assert.Equal(5, sandbox.ShopifySim.Available("30322695", "124656943"));

        Assert.Equal(InventorySetOutcome.Applied, await sandbox.Shopify.SetAvailableAsync(Shop, "30322695", "124656943", 12, changeFrom: 5, "k-1"));
        Assert.Equal(InventorySetOutcome.Applied, await sandbox.Shopify.SetAvailableAsync(Shop, "30322695", "124656943", 12, changeFrom: 5, "k-1"));
        Assert.Equal(12, sandbox.ShopifySim.Available("30322695", "124656943"));
        Assert.Equal(1, sandbox.ShopifySim.InventoryWrites);
    }

    [Fact]
    public async Task many_levels_go_in_one_mutation_and_one_stale_compare_value_applies_none_of_them()
    {
        sandbox.ShopifySim.SeedInventory("700001", "1", 5);
        sandbox.ShopifySim.SeedInventory("700002", "1", 7);
        var writes = sandbox.ShopifySim.InventoryWrites;

        Assert.True(await sandbox.Shopify.SetAvailableManyAsync(Shop, [new("700001", "1", 4, 5), new("700002", "1", 9, 7)], "batch-1"));
        Assert.Equal(writes + 1, sandbox.ShopifySim.InventoryWrites);
        Assert.Equal((4, 9), (await sandbox.Shopify.GetAvailableAsync(Shop, "700001", "1"), await sandbox.Shopify.GetAvailableAsync(Shop, "700002", "1")));

        // The second item's compare value is stale (someone changed it in the admin): Shopify applies nothing.
        Assert.False(await sandbox.Shopify.SetAvailableManyAsync(Shop, [new("700001", "1", 3, 4), new("700002", "1", 8, 1)], "batch-2"));
        Assert.Equal((4, 9), (await sandbox.Shopify.GetAvailableAsync(Shop, "700001", "1"), await sandbox.Shopify.GetAvailableAsync(Shop, "700002", "1")));
    }

    [Fact]
    public async Task a_validation_error_is_permanent_with_shopifys_code()
    {
        var ex = await Assert.ThrowsAsync<ConnectorException>(() =>
            sandbox.Shopify.SetAvailableAsync(Shop, "404", "124656943", 1, changeFrom: null, "k-missing"));
        Assert.Equal(FailureKind.Permanent, ex.Kind);
        Assert.Equal("ITEM_NOT_STOCKED_AT_LOCATION", ex.VendorCode);
    }

    [Fact]
    public async Task a_shipment_fulfils_the_open_fulfillment_order_lines_with_tracking_and_over_fulfilment_is_refused()
    {
        sandbox.ShopifySim.SeedOrder("8001", "#8001", [("11", "SKU-A", 2), ("12", "SKU-B", 1)]);
        var partial = await sandbox.Shopify.CreateFulfillmentAsync(Shop, "8001", "UPS", "1Z999AA10123456784", new Dictionary<string, int> { ["SKU-A"] = 1 });
        var rest = await sandbox.Shopify.CreateFulfillmentAsync(Shop, "8001", "UPS", "1Z999AA10123456785");
        Assert.NotEqual(partial, rest);

        var state = await sandbox.Http.GetFromJsonAsync<System.Text.Json.JsonElement>("/sandbox/state");
        var order = state.GetProperty("shopify").GetProperty("orders").EnumerateArray().Single(o => o.GetProperty("id").GetString() == "8001");
        Assert.Equal("CLOSED", order.GetProperty("fulfillmentOrders")[0].GetProperty("status").GetString());
        Assert.Equal(2, order.GetProperty("fulfillments").GetArrayLength());
        Assert.Equal("1Z999AA10123456784", order.GetProperty("fulfillments")[0].GetProperty("trackingInfo")[0].GetProperty("number").GetString());

        var nothingLeft = await Assert.ThrowsAsync<ConnectorException>(() => sandbox.Shopify.CreateFulfillmentAsync(Shop, "8001", null, null));
        Assert.Equal(FailureKind.Permanent, nothingLeft.Kind);
    }

    [Fact]
    public async Task refunds_are_read_with_their_lines_and_money()
    {
        sandbox.ShopifySim.SeedOrder("8101", "#8101");
        (await sandbox.Http.PostAsJsonAsync("/sandbox/shopify/orders/8101/refunds", new
        {
            id = "gid://shopify/Refund/890088186047892319", legacyResourceId = "890088186047892319", createdAt = "2026-01-02T10:00:00Z",
            totalRefundedSet = new { shopMoney = new { amount = "89.99", currencyCode = "USD" } },
            refundLineItems = new { nodes = new[] { new { quantity = 1, restockType = "RETURN", lineItem = new { sku = "SKU2006-001" } } } },
        })).EnsureSuccessStatusCode();

        var refund = Assert.Single(await sandbox.Shopify.GetRefundsAsync(Shop, "8101"));
        Assert.Equal(("890088186047892319", 89.99m, "USD"), (refund.RefundId, refund.Amount, refund.Currency));
        Assert.Equal(new ShopifyRefundLine("SKU2006-001", 1, "RETURN"), Assert.Single(refund.Lines));
    }

    [Fact]
    public async Task orders_updated_since_are_paged_in_update_order()
    {
        for (var i = 1; i <= 5; i++)
        {
            sandbox.ShopifySim.SeedOrder($"900{i}", $"#{i}");
        }

        var seen = new List<string>();
        string? after = null;
        do
        {
            var page = await sandbox.Shopify.ListOrdersUpdatedSinceAsync(Shop, DateTimeOffset.UtcNow.AddHours(-1), after, first: 2);
            seen.AddRange(page.Orders.Select(o => o.OrderId));
            after = page.HasNextPage ? page.EndCursor : null;
        }
        while (after is not null);

        Assert.Equal<string>(["9001", "9002", "9003", "9004", "9005"], seen);
    }

    [Fact]
    public async Task the_adapter_paces_itself_by_the_cost_bucket_instead_of_being_throttled()
    {
        sandbox.ShopifySim.MaximumAvailable = 30;
        sandbox.ShopifySim.RestoreRate = 50;
        try
        {
            sandbox.ShopifySim.SeedOrder("7001", null);
            for (var i = 0; i < 10; i++)
            {
                await sandbox.Shopify.AddOrderTagsAsync(Shop, "7001", [$"t{i}"]);
            }

            // Ten mutations cost 100 points against a bucket of 30 refilling at 50/s: the adapter must
            // have waited, and the only THROTTLED answer allowed is before it first saw the bucket.
            Assert.True(sandbox.ShopifySim.ThrottledAnswers <= 1, $"throttled {sandbox.ShopifySim.ThrottledAnswers} times");
            var state = await sandbox.Http.GetFromJsonAsync<System.Text.Json.JsonElement>("/sandbox/state");
            Assert.Equal(10, state.GetProperty("shopify").GetProperty("orders")[0].GetProperty("tags").GetArrayLength());
        }
        finally
        {
            sandbox.ShopifySim.MaximumAvailable = 2000;
            sandbox.ShopifySim.RestoreRate = 100;
        }
    }
}
