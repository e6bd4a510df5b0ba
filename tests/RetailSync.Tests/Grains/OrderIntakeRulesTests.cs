using RetailSync.Intake;
using RetailSync.Orders;
using RetailSync.Refunds;
using RetailSync.Shopify;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Grains;

/// <summary>The conflict rules as pure functions, without a cluster.</summary>
public sealed class OrderIntakeRulesTests
{
    private static readonly RetailSync.Model.Order Order = ShopifyMapper.Order(ShopifyFixtures.Json("orders_create__hookdeck-2024-10.json"));

    [Fact]
    public void the_first_payload_creates_whatever_its_topic() => Assert.Equal(IntakeOutcome.Applied, OrderIntakeRules.Decide(null, Order));

    [Fact]
    public void an_equal_updated_at_applies_and_an_older_one_is_stale()
    {
        Assert.Equal(IntakeOutcome.Applied, OrderIntakeRules.Decide(Order, Order));
        Assert.Equal(IntakeOutcome.Stale, OrderIntakeRules.Decide(Order, Order with { UpdatedAt = Order.UpdatedAt.AddTicks(-1) }));
    }

    [Theory]
    [InlineData("requested", "open", IntakeOutcome.Applied)]
    [InlineData("open", "requested", IntakeOutcome.Stale)]
    [InlineData("closed", "open", IntakeOutcome.Stale)]
    [InlineData("open", "declined", IntakeOutcome.Applied)]
    public void returns_only_move_forward(string current, string incoming, IntakeOutcome expected)
    {
        var r = new RetailSync.Model.Return("1", "2", current, null, 0, []);
        Assert.Equal(expected, ReturnRules.Decide(r, r with { Status = incoming }));
    }
}
