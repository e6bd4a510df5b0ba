using RetailSync.Catalog;
using RetailSync.Intake;
using RetailSync.Orders;
using RetailSync.Refunds;
using RetailSync.Shopify;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Grains;

/// <summary>The intake grains on a shared two-silo TestingHost cluster with in-memory storage.</summary>
[Collection(ClusterCollection.Name)]
public sealed class IntakeGrainTests(ClusterFixture fixture)
{
    private static ShopifyDelivery Delivery(string topic, string eventId) =>
        new("grains.myshopify.com", "t", topic, eventId, "w-" + eventId, DateTimeOffset.UtcNow, "2026-01", false, DateTimeOffset.UtcNow);

    private static string Key(string id) => EntityKeys.ForShop("grains.myshopify.com", id);

    [Fact]
    public async Task an_order_event_is_applied_once_and_an_older_one_is_stale()
    {
        var order = ShopifyMapper.Order(ShopifyFixtures.Json("orders_create__hookdeck-2024-10.json")) with { OrderId = "g-1" };
        var grain = fixture.Client.GetGrain<IOrderGrain>(Key("g-1"));

        Assert.Equal(IntakeOutcome.Applied, await grain.ReceiveOrderAsync(Delivery("orders/create", "e1"), order));
        Assert.Equal(IntakeOutcome.Duplicate, await grain.ReceiveOrderAsync(Delivery("orders/create", "e1"), order));
        Assert.Equal(IntakeOutcome.Stale, await grain.ReceiveOrderAsync(Delivery("orders/updated", "e0"), order with { UpdatedAt = order.UpdatedAt.AddMinutes(-1) }));
        Assert.Equal(IntakeOutcome.Applied, await grain.ReceiveOrderAsync(Delivery("orders/paid", "e2"), order with { FinancialStatus = "paid", UpdatedAt = order.UpdatedAt.AddMinutes(1) }));

        var view = await grain.GetAsync();
        Assert.Equal("paid", view!.Order.FinancialStatus);
        Assert.Equal(["e1", "e0", "e2"], view.Timeline.Where(t => t.Kind.StartsWith("shopify:", StringComparison.Ordinal) && t.Kind.Contains('/', StringComparison.Ordinal)).Select(t => t.CorrelationId));
    }

    [Fact]
    public async Task a_redacted_order_keeps_amounts_and_loses_the_buyer()
    {
        var order = ShopifyMapper.Order(ShopifyFixtures.Json("orders_create__hookdeck-2024-10.json")) with { OrderId = "g-2" };
        var grain = fixture.Client.GetGrain<IOrderGrain>(Key("g-2"));
        await grain.ReceiveOrderAsync(Delivery("orders/create", "r1"), order);
        await grain.RedactAsync("test");

        var view = await grain.GetAsync();
        Assert.True(view!.Redacted);
        Assert.Null(view.Order.Email);
        Assert.Null(view.Order.Customer);
        Assert.Null(view.Order.ShippingAddress?.Line1);
        Assert.Equal(order.Total, view.Order.Total);
    }

    [Fact]
    public async Task a_return_never_moves_backwards_and_keeps_lines_a_later_payload_omits()
    {
        var requested = ShopifyMapper.Return(ShopifyFixtures.Json("returns_request__hookdeck-2024-10.json"));
        var approved = ShopifyMapper.Return(ShopifyFixtures.Json("returns_approve__gadget-docs-2026-01.json"));
        var grain = fixture.Client.GetGrain<IRefundGrain>(EntityKeys.ReturnKey("grains.myshopify.com", requested.ReturnId));

        Assert.Equal(IntakeOutcome.Applied, await grain.ReceiveReturnAsync(Delivery("returns/approve", "ra"), approved));
        Assert.Equal(IntakeOutcome.Stale, await grain.ReceiveReturnAsync(Delivery("returns/request", "rr"), requested));
        var view = await grain.GetAsync();
        Assert.Equal("open", view!.Return!.Status);
    }

    [Fact]
    public async Task inventory_levels_are_kept_per_location_and_older_levels_are_stale()
    {
        var grain = fixture.Client.GetGrain<IShopifyInventoryItemGrain>(Key("item-1"));
        var now = DateTimeOffset.UtcNow;
        await grain.ReceiveLevelAsync(Delivery("inventory_levels/update", "l1"), new RetailSync.Model.InventoryLevel("item-1", "A", 5, now));
        await grain.ReceiveLevelAsync(Delivery("inventory_levels/update", "l2"), new RetailSync.Model.InventoryLevel("item-1", "B", 7, now));
        Assert.Equal(IntakeOutcome.Stale, await grain.ReceiveLevelAsync(Delivery("inventory_levels/update", "l3"), new RetailSync.Model.InventoryLevel("item-1", "A", 1, now.AddSeconds(-1))));

        var view = await grain.GetAsync();
        Assert.Equal(new Dictionary<string, int?> { ["A"] = 5, ["B"] = 7 }, view.Levels.ToDictionary(l => l.LocationId, l => l.Available));
    }
}
