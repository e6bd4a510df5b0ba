using RetailSync.Erp;
using RetailSync.Intake;
using RetailSync.Inventory;
using RetailSync.Model;
using RetailSync.Operations;
using RetailSync.Orders;

namespace RetailSync.Tests.Orders;

/// <summary>The rules the transition table does not show: which lines count, which email, what an operator sees.</summary>
public sealed partial class OrderDeciderTests
{
    private const string OtherSku = "IPOD2008BLUE";

    /// <summary>Line 0 of <see cref="OrderHarness.Sku"/> × 2, line 1 of <see cref="OtherSku"/> × 1.</summary>
    private static Order TwoSkus(Order order) =>
        order with { Lines = [order.Lines[0] with { Quantity = 2 }, order.Lines[1] with { Sku = OtherSku, LineId = "line-blue" }] };

    [Fact]
    public void a_redacted_order_stays_redacted_when_a_later_payload_comes()
    {
        var h = new OrderHarness();
        h.Receive();
        OrderDecider.Redact(h.S, "customers/redact", h.Tick());
        Assert.True(h.S.Redacted);
        Assert.Null(h.S.Order!.Email);

        Assert.Equal(IntakeOutcome.Applied, h.Receive(h.Later(3)).Outcome);

        Assert.Null(h.S.Order!.Email);
        Assert.Equal(h.Later(3).UpdatedAt, h.S.Order.UpdatedAt);
    }

    [Fact]
    public void redaction_drops_the_timeline_entries_that_name_the_buyer_and_keeps_the_others()
    {
        var h = new OrderHarness();
        h.Receive();
        var email = h.S.Order!.Email!;
        h.S.Journal.Record(h.Tick(), "operator", $"called {email} about the parcel", null);
        var before = h.S.Journal.Timeline.Count;

        OrderDecider.Redact(h.S, "customers/redact", h.Tick());

        Assert.DoesNotContain(h.S.Journal.Timeline, e => e.Detail.Contains(email, StringComparison.OrdinalIgnoreCase));
        Assert.Equal(before, h.S.Journal.Timeline.Count); // one entry gone, the redaction itself recorded
        Assert.Equal("privacy:redacted", h.S.Journal.Timeline[^1].Kind);
    }

    [Fact]
    public void the_crm_context_is_asked_by_the_orders_email_when_its_customer_has_none()
    {
        var h = new OrderHarness(shape: o => OrderHarness.TwoLinesOfThreeUnits(o) with { Customer = o.Customer! with { Email = null }, Email = "guest@example.com" });
        h.Receive();

        Assert.Equal("\"guest@example.com\"", h.Pending("context").Command.Payload);
    }

    [Fact]
    public void only_lines_with_a_sku_and_a_quantity_are_reserved()
    {
        var mixed = new OrderHarness(shape: o => o with { Lines = [o.Lines[0] with { Sku = null }, o.Lines[1] with { Quantity = 2 }] });
        mixed.Receive();
        Assert.Equal(StockHold.Pending, mixed.S.Stock);
        Assert.Equal([(OrderHarness.Sku, 2)], OrderDecider.Reservations(mixed.Order).ToList());

        var nothing = new OrderHarness(shape: o => o with { Lines = [o.Lines[0] with { Quantity = 0 }, o.Lines[1] with { Sku = "" }] });
        nothing.Receive();
        Assert.Equal(StockHold.None, nothing.S.Stock);
        Assert.Empty(OrderDecider.Reservations(nothing.Order));

        var sameSku = new OrderHarness();
        Assert.Equal([(OrderHarness.Sku, 3)], OrderDecider.Reservations(sameSku.Order).ToList());
    }

    [Fact]
    public void one_sku_granted_while_another_is_still_short_keeps_the_order_waiting()
    {
        var h = new OrderHarness(shape: TwoSkus);
        h.Receive();
        var results = new Dictionary<string, string>(StringComparer.Ordinal) { [OrderHarness.Sku] = ReservationResult.Short, [OtherSku] = ReservationResult.Short };
        OrderDecider.StockAnswered(h.S, h.Key, results, h.Rules, h.Tick());
        Assert.Equal(OrderStatus.Backordered, h.S.Status);
        var events = h.S.Unpublished!.Count;

        var first = OrderDecider.StockReservedLater(h.S, h.Key, OtherSku, h.Rules, h.Tick());

        Assert.Equal(Persist.Now, first.Persist);
        Assert.Empty(first.Raise);
        Assert.Empty(first.Resolve);
        Assert.Equal((OrderStatus.Backordered, StockHold.Short), (h.S.Status, h.S.Stock));
        Assert.Equal(events, h.S.Unpublished.Count);

        OrderDecider.StockReservedLater(h.S, h.Key, OrderHarness.Sku, h.Rules, h.Tick());
        Assert.Equal((OrderStatus.SubmittedToErp, StockHold.Reserved), (h.S.Status, h.S.Stock));
    }

    [Fact]
    public void an_order_without_reservations_has_nothing_to_tell_its_skus()
    {
        var h = new OrderHarness(shape: o => o with { Lines = [o.Lines[0] with { Sku = null }] });
        h.Receive();
        h.Buyer();
        h.Succeed("context");
        h.Send();
        h.Succeed(OrderDecider.SubmitOrder, OrderHarness.ErpNumber, "Open");
        Assert.Equal(OrderStatus.Accepted, h.S.Status);

        Assert.Null(OrderDecider.StockNoticeDue(h.S));
    }

    [Fact]
    public void a_shipment_is_complete_only_when_every_shippable_sku_is_shipped_in_full()
    {
        var h = new OrderHarness(shape: TwoSkus);
        h.Accepted();

        h.Erp(ErpOrderEventTypes.Shipped, new ErpShipment("SH-A", null, null, [new ErpShipmentLine(OrderHarness.Sku, 1), new ErpShipmentLine(OrderHarness.Sku, 1)]));
        Assert.Equal(OrderStatus.PartiallyFulfilled, h.S.Status);
        Assert.Equal(2, h.S.Shipped[OrderHarness.Sku]);
        Assert.Equal("{\"shop\":\"sandbox.myshopify.com\",\"orderId\":\"1001\",\"trackingCompany\":null,\"trackingNumber\":null,\"quantitiesBySku\":{\"IPOD2008PINK\":2}}",
            h.Pending("fulfill").Command.Payload);

        h.Erp(ErpOrderEventTypes.Shipped, new ErpShipment("SH-B", null, null, [new ErpShipmentLine(OtherSku, 1)]));
        Assert.Equal(OrderStatus.Fulfilled, h.S.Status);
    }

    [Fact]
    public void a_line_that_needs_no_shipping_is_not_waited_for()
    {
        var h = new OrderHarness(shape: o => OrderHarness.TwoLinesOfThreeUnits(o) with
        {
            Lines = [.. OrderHarness.TwoLinesOfThreeUnits(o).Lines, o.Lines[0] with { LineId = "gift-card", Sku = "GIFT-CARD", RequiresShipping = false }],
        });
        h.Accepted();

        h.Ship(3);

        Assert.Equal(OrderStatus.Fulfilled, h.S.Status);
    }

    [Fact]
    public void a_fulfilment_with_the_same_update_time_is_applied_and_an_older_one_is_not()
    {
        var h = new OrderHarness().Accepted();
        var at = h.Tick();
        Fulfillment Version(DateTimeOffset updated, string status) =>
            new("F-1", h.OrderId, status, "DHL", ["TRK-2"], [], [new FulfillmentLine(h.Order.Lines[0].LineId, OrderHarness.Sku, 1)], null, at, updated);

        Assert.Equal(IntakeOutcome.Applied, OrderDecider.Fulfillment(h.S, h.Delivery("fulfillments/create"), Version(at, "pending")).Outcome);
        Assert.Equal(IntakeOutcome.Applied, OrderDecider.Fulfillment(h.S, h.Delivery("fulfillments/update"), Version(at, "success")).Outcome);
        Assert.Equal("success", Assert.Single(h.S.Fulfillments).Status);
        Assert.Equal(IntakeOutcome.Stale, OrderDecider.Fulfillment(h.S, h.Delivery("fulfillments/update"), Version(at.AddSeconds(-1), "cancelled")).Outcome);
        Assert.Equal("success", Assert.Single(h.S.Fulfillments).Status);
    }

    [Fact]
    public void a_success_after_transient_errors_clears_the_systems_error()
    {
        var h = new OrderHarness().Submitted();
        var submit = h.Pending(Submit);

        OrderDecider.CommandEnded(h.S, h.Key, new CommandView(submit.Key, submit.Command, CommandStatus.Succeeded, 3, "503 from the ERP", "created", null,
            OrderHarness.ErpNumber, "Open"), h.Tick());

        Assert.Null(h.S.Systems[SystemNames.Erp].Error);
        Assert.Equal("Synced", h.S.Systems[SystemNames.Erp].Status);
    }

    [Fact]
    public void sendable_lists_each_ready_command_once()
    {
        var h = new OrderHarness().Accepted();

        var (ready, wakeAt) = h.Send();

        Assert.Null(wakeAt);
        Assert.Equal([$"shopify:syncStatus:{OrderHarness.Shop}:{h.OrderId}:2:Accepted", $"crm:upsert:{OrderHarness.Shop}:{h.OrderId}:2:Accepted"],
            ready.Select(e => e.Key).ToList());
    }

    [Fact]
    public void the_answer_to_an_oversell_retry_names_the_oversell()
    {
        var h = new OrderHarness(rules: new OrderRules(TimeSpan.FromSeconds(5), OversellActions.Exception));
        h.Receive();
        h.Stock(ReservationResult.Short);

        var answer = h.Retry(h.OversellKey).Answer!;

        Assert.Equal(("inventory", "oversell", "", (string?)null), (answer.Command.System, answer.Command.Operation, answer.Command.Payload, answer.Command.CorrelationId));
    }

    [Fact]
    public void the_view_shows_the_order_as_stored_and_nothing_for_an_order_never_received()
    {
        Assert.Null(OrderDecider.View(new OrderState(), OrderHarness.Shop, "404"));

        var h = new OrderHarness().Accepted();
        var view = OrderDecider.View(h.S, OrderHarness.Shop, h.OrderId)!;

        Assert.Equal((OrderHarness.Shop, h.OrderId, OrderStatus.Accepted, OrderHarness.Golden, OrderHarness.Golden), (view.Shop, view.OrderId, view.Status, view.GoldenCustomerId, view.ErpCustomerNumber));
        Assert.Equal(h.S.Journal.Timeline, view.Timeline);
        Assert.Equal(["Succeeded", "Succeeded", "Planned", "Planned"], view.Outbox.Select(o => o.Status).ToList());
        Assert.Equal((OrderDecider.SubmitOrder, "erp"), (view.Outbox[1].Operation, view.Outbox[1].System));
        Assert.Equal("SO-1001", view.Systems[SystemNames.Erp].ExternalId);
        Assert.False(view.Redacted);
    }
}
