using System.Text.Json;
using RetailSync.Connectors;
using RetailSync.Erp;
using RetailSync.Intake;
using RetailSync.Inventory;
using RetailSync.Operations;
using RetailSync.Orders;

namespace RetailSync.Tests.Orders;

/// <summary>
/// The order's rules without a cluster: <see cref="OrderDecider"/> driven with the inputs the grain hands it, in the
/// order it hands them, at plain times. Every legal transition is reached through real inputs, not through the table.
/// </summary>
public sealed partial class OrderDeciderTests
{
    private const string Submit = OrderDecider.SubmitOrder;

    /// <summary>How an order gets into a status, the input that fires the trigger, and the commands that input plans.</summary>
    private sealed record Scenario(Func<OrderHarness> Arrange, Func<OrderHarness, OrderDecision> Act, (string System, string Operation)[] Plans, int Events = 1);

    private static readonly (string, string)[] Told = [("shopify", "syncStatus"), ("crm", "upsert")];
    private static readonly (string, string)[] ShippedAndTold = [("shopify", "fulfill"), ("shopify", "syncStatus"), ("crm", "upsert")];
    private static readonly (string, string)[] CancelledInErpAndTold = [("erp", "cancelOrder"), ("shopify", "syncStatus"), ("crm", "upsert")];

    private static OrderDecision CancelThroughErp(OrderHarness h)
    {
        var cancelled = h.CancelInShopify();
        Assert.Equal(IntakeOutcome.Applied, cancelled.Outcome);
        Assert.Equal(CancelState.Requested, h.S.Cancel);
        return h.Succeed("cancelOrder");
    }

    private static readonly Dictionary<(OrderStatus From, OrderTrigger Trigger), Scenario> Scenarios = new()
    {
        [(OrderStatus.Received, OrderTrigger.SubmitToErp)] = new(() => new OrderHarness(), h => h.Receive(), [("crm", "context"), ("erp", Submit)], Events: 2),

        [(OrderStatus.SubmittedToErp, OrderTrigger.ErpAccepted)] = new(() => new OrderHarness().Submitted(), h => h.Succeed(Submit, OrderHarness.ErpNumber, "Open"), Told),
        [(OrderStatus.SubmittedToErp, OrderTrigger.ErpBackordered)] = new(() => new OrderHarness().Submitted(), h => h.Erp(ErpOrderEventTypes.Backordered), Told),
        [(OrderStatus.SubmittedToErp, OrderTrigger.ErpRejected)] = new(() => new OrderHarness().Submitted(), h => h.Fail(Submit), Told),
        [(OrderStatus.SubmittedToErp, OrderTrigger.ErpOnHold)] = new(() => new OrderHarness().Submitted(), h => h.Succeed(Submit, OrderHarness.ErpNumber, ErpStatuses.OnHold), Told),
        [(OrderStatus.SubmittedToErp, OrderTrigger.StockShort)] = new(() => Received(), h => h.Stock(ReservationResult.Short), Told),
        // Cancelled while the submission waits for stock: never sent, so nothing to cancel in the ERP.
        [(OrderStatus.SubmittedToErp, OrderTrigger.Cancel)] = new(() => Received(), h => h.CancelInShopify(), Told),

        [(OrderStatus.OnHold, OrderTrigger.ErpAccepted)] = new(() => new OrderHarness().OnHold(), h => h.Erp(ErpOrderEventTypes.Released, reason: "credit approved"), Told),
        [(OrderStatus.OnHold, OrderTrigger.ErpRejected)] = new(() => new OrderHarness().OnHold(), h => h.Erp(ErpOrderEventTypes.Rejected), Told),
        [(OrderStatus.OnHold, OrderTrigger.Cancel)] = new(() => new OrderHarness().OnHold(), CancelThroughErp, CancelledInErpAndTold),

        [(OrderStatus.Backordered, OrderTrigger.ErpAccepted)] = new(() => new OrderHarness().BackorderedByErp(), h => h.Erp(ErpOrderEventTypes.Released), Told),
        [(OrderStatus.Backordered, OrderTrigger.StockReserved)] = new(() => new OrderHarness().WaitingForStock(), h => h.StockLater(), []),
        [(OrderStatus.Backordered, OrderTrigger.ShippedPartially)] = new(() => new OrderHarness().BackorderedByErp(), h => h.Ship(1), ShippedAndTold),
        [(OrderStatus.Backordered, OrderTrigger.ShippedFully)] = new(() => new OrderHarness().BackorderedByErp(), h => h.Ship(3), ShippedAndTold),
        [(OrderStatus.Backordered, OrderTrigger.Cancel)] = new(() => new OrderHarness().WaitingForStock(), h => h.CancelInShopify(), Told),

        [(OrderStatus.Accepted, OrderTrigger.ErpBackordered)] = new(() => new OrderHarness().Accepted(), h => h.Erp(ErpOrderEventTypes.Backordered), Told),
        [(OrderStatus.Accepted, OrderTrigger.ErpOnHold)] = new(() => new OrderHarness().Accepted(), h => h.Erp(ErpOrderEventTypes.OnHold, reason: "credit review"), Told),
        [(OrderStatus.Accepted, OrderTrigger.ShippedPartially)] = new(() => new OrderHarness().Accepted(), h => h.Ship(1), ShippedAndTold),
        [(OrderStatus.Accepted, OrderTrigger.ShippedFully)] = new(() => new OrderHarness().Accepted(), h => h.Ship(3), ShippedAndTold),
        [(OrderStatus.Accepted, OrderTrigger.Cancel)] = new(() => new OrderHarness().Accepted(), CancelThroughErp, CancelledInErpAndTold),
        [(OrderStatus.Accepted, OrderTrigger.Refund)] = new(() => new OrderHarness().Accepted(), h => h.RefundAll(), Told),

        [(OrderStatus.PartiallyFulfilled, OrderTrigger.ShippedPartially)] = new(() => new OrderHarness().PartiallyFulfilled(), h => h.Ship(1), ShippedAndTold),
        [(OrderStatus.PartiallyFulfilled, OrderTrigger.ShippedFully)] = new(() => new OrderHarness().PartiallyFulfilled(), h => h.Ship(2), ShippedAndTold),
        [(OrderStatus.PartiallyFulfilled, OrderTrigger.Refund)] = new(() => new OrderHarness().PartiallyFulfilled(), h => h.RefundAll(), Told),

        [(OrderStatus.Fulfilled, OrderTrigger.Refund)] = new(() => new OrderHarness().Fulfilled(), h => h.RefundAll(), Told),
        [(OrderStatus.Cancelled, OrderTrigger.Refund)] = new(() => new OrderHarness().Cancelled(), h => h.RefundAll(), Told),

        // An operator fixed the cause and replayed the refused submission from the exception queue.
        [(OrderStatus.Rejected, OrderTrigger.ErpAccepted)] = new(() => new OrderHarness().Rejected(), h =>
        {
            var (retry, _) = h.Retry(h.SubmitKey);
            Assert.Equal(Persist.Now, retry.Persist);
            Assert.Contains(h.Send().Ready, e => e.Key == h.SubmitKey);
            return h.Succeed(Submit, OrderHarness.ErpNumber, "Open");
        }, Told),
        [(OrderStatus.Rejected, OrderTrigger.Cancel)] = new(() => new OrderHarness().Rejected(), CancelThroughErp, CancelledInErpAndTold),
    };

    /// <summary>
    /// Legal transitions no input can fire: none, since the table lost Received → Cancelled (the payload that creates an
    /// order moves it to SubmittedToErp in the same decision, see
    /// <see cref="a_first_payload_that_is_cancelled_already_goes_through_submitted_to_cancelled"/>).
    /// </summary>
    private static readonly HashSet<(OrderStatus, OrderTrigger)> Unreachable = [];

    private static OrderHarness Received()
    {
        var h = new OrderHarness();
        h.Receive();
        Assert.Equal(StockHold.Pending, h.S.Stock);
        return h;
    }

    public static TheoryData<OrderStatus, OrderTrigger, OrderStatus> LegalTransitions()
    {
        var data = new TheoryData<OrderStatus, OrderTrigger, OrderStatus>();
        foreach (var (from, trigger, to) in OrderStateMachine.Legal.Where(t => !Unreachable.Contains((t.From, t.Trigger))).OrderBy(t => t.From).ThenBy(t => t.Trigger))
        {
            data.Add(from, trigger, to);
        }

        return data;
    }

    [Fact]
    public void every_legal_transition_has_a_scenario_driven_by_real_inputs()
    {
        var legal = OrderStateMachine.Legal.Select(t => (t.From, t.Trigger)).ToHashSet();
        Assert.Empty(legal.Except(Scenarios.Keys).Except(Unreachable));
        // Nor a scenario (or an unreachable entry) for a transition the table no longer has.
        Assert.Empty(Scenarios.Keys.Concat(Unreachable).Except(legal));
        Assert.Empty(Scenarios.Keys.Intersect(Unreachable));
    }

    [Theory]
    [MemberData(nameof(LegalTransitions))]
    public void each_transition_is_fired_by_its_input_with_its_event_and_commands(OrderStatus from, OrderTrigger trigger, OrderStatus to)
    {
        var scenario = Scenarios[(from, trigger)];
        var h = scenario.Arrange();
        Assert.Equal(from, h.S.Status);
        var changesBefore = h.S.StatusChanges;
        var eventsBefore = h.S.Unpublished?.Count ?? 0;
        var plannedBefore = h.S.Outbox.Entries.ToList();
        var actStarted = h.Now;

        var decision = scenario.Act(h);

        Assert.Equal(to, h.S.Status);
        Assert.Equal(IntakeOutcome.Applied, decision.Outcome);
        Assert.Equal(Persist.Now, decision.Persist);
        Assert.Empty(decision.Raise);

        // The event: From → To, the order's next sequence, dated now and measured from the intake.
        var events = (h.S.Unpublished ?? []).Skip(eventsBefore).ToList();
        var changes = events.OfType<OrderStatusChanged>().ToList();
        Assert.Equal(scenario.Events, changes.Count);
        var change = changes[^1];
        Assert.Equal(from, change.From);
        Assert.Equal(to, change.To);
        Assert.Equal(changesBefore + 1, change.Sequence);
        Assert.Equal(h.S.StatusChanges, change.Sequence);
        Assert.Equal(h.Key, change.Order);
        Assert.Equal(OrderHarness.Tenant, change.Tenant);
        Assert.Equal(h.Now, change.At);
        // Measured from the first delivery (the order's intake), whatever came after it.
        Assert.Equal(OrderHarness.Start.AddSeconds(1), h.S.ReceivedAt);
        Assert.Equal(h.Now - h.S.ReceivedAt!.Value, change.SinceReceived);
        Assert.True(change.SinceReceived > TimeSpan.Zero || from == OrderStatus.Received);

        // Accepted (from anywhere) is the ERP's booking, counted by the latency KPI; nothing else is.
        var accepted = events.OfType<OrderAccepted>().ToList();
        if (to == OrderStatus.Accepted)
        {
            var booking = Assert.Single(accepted);
            Assert.Equal(OrderHarness.ErpNumber, booking.ErpNumber);
            Assert.Equal(change.SinceReceived, booking.SinceReceived);
        }
        else
        {
            Assert.Empty(accepted);
        }

        // The commands the input planned, exactly; Shopify and the CRM are told keyed by this change.
        var planned = h.S.Outbox.Entries.Except(plannedBefore).ToList();
        Assert.Equal(scenario.Plans.Order().ToList(), planned.Select(e => (e.Command.System, e.Command.Operation)).Order().ToList());
        Assert.All(planned.Where(e => e.Command.Operation is "syncStatus" or "upsert"), e => Assert.EndsWith($":{h.S.StatusChanges}:{to}", e.Key));
        // Planned by the act; what the firing input told, at its time.
        Assert.All(planned, e => Assert.True(e.PlannedAt > actStarted, $"{e.Key} planned at {e.PlannedAt:O}"));
        Assert.All(planned.Where(e => e.Command.Operation is "syncStatus" or "upsert" or "fulfill"), e => Assert.Equal(h.Now, e.PlannedAt));
        if (planned.FirstOrDefault(e => e.Command.Operation == "syncStatus") is { } sync)
        {
            var payload = JsonSerializer.Deserialize<ShopifySyncStatus>(sync.Command.Payload, OutboundExecutor.Json)!;
            Assert.Equal(["retailsync:" + to.ToString().ToLowerInvariant()], payload.AddTags);
            Assert.Equal(to.ToString(), payload.Metafields["sync_status"]);
        }

        if (planned.FirstOrDefault(e => e.Command.Operation == "upsert") is { } upsert)
        {
            var payload = JsonSerializer.Deserialize<CrmUpsert>(upsert.Command.Payload, OutboundExecutor.Json)!;
            Assert.Equal(to.ToString(), payload.Record["RetailSync_Status__c"]!.GetValue<string>());
            Assert.Equal(h.OrderId, payload.Record["Shopify_Order_Id__c"]!.GetValue<string>());
        }
    }

    // The way in: creation, submission and the waits.

    [Fact]
    public void a_new_order_is_recorded_and_its_submission_planned_to_wait_for_stock_buyer_and_crm_context()
    {
        var h = new OrderHarness();
        var decision = h.Receive();

        Assert.Equal(IntakeOutcome.Applied, decision.Outcome);
        Assert.Equal(Persist.Now, decision.Persist);
        Assert.Equal(OrderStatus.SubmittedToErp, h.S.Status);
        Assert.Equal(1, h.S.StatusChanges);
        Assert.Equal([(null, OrderStatus.Received, 0), (OrderStatus.Received, OrderStatus.SubmittedToErp, 1)],
            h.StatusEvents.Select(e => ((OrderStatus?)e.From, e.To, e.Sequence)).ToList());
        Assert.Equal(TimeSpan.Zero, h.StatusEvents[0].SinceReceived);
        Assert.Equal(h.Now, h.S.ReceivedAt);
        Assert.Equal(OrderHarness.Shop, h.S.Shop);
        Assert.Equal(OrderHarness.Tenant, h.S.Tenant);
        Assert.Equal(StockHold.Pending, h.S.Stock);
        Assert.Equal(BuyerState.Pending, h.S.Buyer);
        Assert.Equal(h.OrderId, h.S.Systems[SystemNames.Shopify].ExternalId);
        Assert.Equal(h.Now, h.S.Systems[SystemNames.Shopify].LastSyncedAt);
        Assert.Equal("Pending", h.S.Systems[SystemNames.Crm].Status);
        Assert.Equal("Pending", h.S.Systems[SystemNames.Erp].Status);

        Assert.Equal([$"crm:context:{OrderHarness.Shop}:{h.OrderId}", h.SubmitKey], h.S.Outbox.Entries.Select(e => e.Key).ToList());
        Assert.Equal("\"john@example.com\"", h.Pending("context").Command.Payload);
        var submission = JsonSerializer.Deserialize<ErpOrderSubmission>(h.Pending(Submit).Command.Payload, OutboundExecutor.Json)!;
        Assert.Equal("SH-VJE7EVZ0LM6", submission.Customer.Number);
        Assert.Equal(h.OrderId, submission.Order.ExternalDocumentNumber);
        Assert.Equal([2m, 1m], submission.Order.Lines.Select(l => l.Quantity).ToList());
        Assert.All(h.S.Outbox.Entries, e => Assert.Equal("event-1", e.Command.CorrelationId));
    }

    [Fact]
    public void an_order_without_a_buyer_nor_a_sku_line_goes_to_the_erp_at_once()
    {
        var h = new OrderHarness(shape: o => o with { Customer = null, Email = null, Lines = [o.Lines[0] with { Sku = null }] });
        h.Receive();

        Assert.Equal(BuyerState.Absent, h.S.Buyer);
        Assert.Equal(StockHold.None, h.S.Stock);
        Assert.Equal([("erp", Submit)], h.S.Outbox.Entries.Select(e => (e.Command.System, e.Command.Operation)).ToList());
        Assert.Contains(h.S.Journal.Timeline, e => e.Kind == "identity" && e.Detail.Contains("left unattached", StringComparison.Ordinal));
        var (ready, wakeAt) = h.Send();
        Assert.Equal([h.SubmitKey], ready.Select(e => e.Key).ToList());
        Assert.Null(wakeAt);
        var submission = JsonSerializer.Deserialize<ErpOrderSubmission>(ready[0].Command.Payload, OutboundExecutor.Json)!;
        Assert.Equal("WEB-SANDBOX", submission.Customer.Number);
    }

    [Fact]
    public void a_first_payload_that_is_cancelled_already_goes_through_submitted_to_cancelled()
    {
        var h = new OrderHarness(shape: o => OrderHarness.TwoLinesOfThreeUnits(o) with { CancelledAt = OrderHarness.Start, CancelReason = "fraud" });
        h.Receive();

        Assert.Equal(OrderStatus.Cancelled, h.S.Status);
        Assert.Equal(CancelState.Requested, h.S.Cancel);
        Assert.Equal([(null, OrderStatus.Received, 0), (OrderStatus.Received, OrderStatus.SubmittedToErp, 1), (OrderStatus.SubmittedToErp, OrderStatus.Cancelled, 2)],
            h.StatusEvents.Select(e => ((OrderStatus?)e.From, e.To, e.Sequence)).ToList());
        // The submission waited for stock: removed, never sent; no cancellation for the ERP either.
        Assert.Null(OrderDecider.Submission(h.S));
        Assert.Equal([("crm", "context"), ("shopify", "syncStatus"), ("crm", "upsert")],
            h.S.Outbox.Entries.Select(e => (e.Command.System, e.Command.Operation)).ToList());
    }

    [Fact]
    public void a_cancellation_after_the_submission_was_sent_is_carried_out_by_the_erp()
    {
        var h = new OrderHarness().Submitted();
        var before = h.S.Outbox.Entries.Count;
        h.CancelInShopify();

        Assert.Equal(OrderStatus.SubmittedToErp, h.S.Status);
        Assert.Equal(CancelState.Requested, h.S.Cancel);
        Assert.Equal(before + 1, h.S.Outbox.Entries.Count);
        var cancel = h.Pending("cancelOrder");
        Assert.Equal($"erp:cancelOrder:{OrderHarness.Shop}:{h.OrderId}", cancel.Key);
        Assert.Equal($"\"{h.OrderId}\"", cancel.Command.Payload);
        // The ERP gets its commands in order: the submission in flight first, the cancellation after it.
        Assert.DoesNotContain(h.Send().Ready, e => e.Key == cancel.Key);

        // A later payload, still cancelled, asks nothing again.
        h.Receive(h.Later(9, cancelled: true), h.Delivery("orders/updated"));
        Assert.Equal(before + 1, h.S.Outbox.Entries.Count);
    }

    [Fact]
    public void a_cancellation_after_shipment_is_for_operations_not_the_erp()
    {
        var h = new OrderHarness().Fulfilled();
        var before = h.S.Outbox.Entries.Count;
        var decision = h.CancelInShopify();

        Assert.Equal(IntakeOutcome.Applied, decision.Outcome);
        Assert.Equal(OrderStatus.Fulfilled, h.S.Status);
        Assert.Equal(CancelState.AfterShipment, h.S.Cancel);
        Assert.Equal(before, h.S.Outbox.Entries.Count);
        var raised = OrderDecider.CancelAfterShipment(h.S, h.Now);
        Assert.Equal($"order:cancelAfterShipment:{OrderHarness.Shop}:{h.OrderId}", raised.Id);
        Assert.Equal("SHIPPED", raised.VendorCode);
        Assert.Equal($"order:{OrderHarness.Shop}:{h.OrderId}", raised.OwnerKey);
        Assert.Contains("(Fulfilled)", raised.VendorMessage, StringComparison.Ordinal);
    }

    // Re-deliveries and older payloads.

    [Fact]
    public void a_redelivery_with_the_same_webhook_id_is_a_duplicate_and_plans_nothing_twice()
    {
        var h = new OrderHarness();
        var first = h.Receive(delivery: new ShopifyDelivery(OrderHarness.Shop, OrderHarness.Tenant, "orders/create", null, "wh-1", null, "2024-10", false, h.Now));
        Assert.Equal(IntakeOutcome.Applied, first.Outcome);
        var planned = h.S.Outbox.Entries.Count;
        var events = h.S.Unpublished!.Count;
        var timeline = h.S.Journal.Timeline.Count;

        var again = h.Receive(delivery: new ShopifyDelivery(OrderHarness.Shop, OrderHarness.Tenant, "orders/create", null, "wh-1", null, "2024-10", false, h.Now));

        Assert.Equal(IntakeOutcome.Duplicate, again.Outcome);
        Assert.Equal(Persist.Nothing, again.Persist);
        Assert.Equal(2, planned);
        Assert.Equal(planned, h.S.Outbox.Entries.Count);
        Assert.Equal(events, h.S.Unpublished.Count);
        Assert.Equal(timeline, h.S.Journal.Timeline.Count);
        Assert.Equal(1, h.S.StatusChanges);
    }

    [Fact]
    public void a_redelivered_event_id_is_a_duplicate_for_every_kind_of_delivery()
    {
        var h = new OrderHarness().Accepted();
        var cancel = h.Delivery("orders/cancelled", eventId: "e-cancel");
        h.Receive(h.Later(5, cancelled: true), cancel);
        var planned = h.S.Outbox.Entries.Count;

        var order = h.Receive(h.Later(6, cancelled: true), cancel with { WebhookId = "another-webhook" });
        var erp = h.Erp(ErpOrderEventTypes.OnHold, eventId: "e-hold");
        var erpAgain = h.Erp(ErpOrderEventTypes.OnHold, eventId: "e-hold");
        var fulfillment = Fulfillment("F-1", h.Now);
        var shopifyFulfillment = OrderDecider.Fulfillment(h.S, h.Delivery("fulfillments/create", "e-f"), fulfillment);
        var shopifyFulfillmentAgain = OrderDecider.Fulfillment(h.S, h.Delivery("fulfillments/create", "e-f"), fulfillment);

        Assert.Equal((IntakeOutcome.Duplicate, Persist.Nothing), (order.Outcome, order.Persist));
        Assert.Equal((IntakeOutcome.Applied, Persist.Now), (erp.Outcome, erp.Persist));
        Assert.Equal((IntakeOutcome.Duplicate, Persist.Nothing), (erpAgain.Outcome, erpAgain.Persist));
        Assert.Equal((IntakeOutcome.Applied, Persist.Now), (shopifyFulfillment.Outcome, shopifyFulfillment.Persist));
        Assert.Equal((IntakeOutcome.Duplicate, Persist.Nothing), (shopifyFulfillmentAgain.Outcome, shopifyFulfillmentAgain.Persist));
        Assert.Single(h.S.Fulfillments);
        Assert.Equal(OrderStatus.OnHold, h.S.Status);
        // The one OnHold change told Shopify and the CRM once.
        Assert.Equal(planned + 2, h.S.Outbox.Entries.Count);
    }

    [Fact]
    public void an_older_payload_than_applied_is_recorded_as_stale_and_changes_nothing()
    {
        var h = new OrderHarness();
        h.Receive(h.Later(10));
        var applied = h.S.Order!;
        var planned = h.S.Outbox.Entries.Count;
        var events = h.S.Unpublished!.Count;

        // Older, and cancelled: a stale payload cancels nothing either.
        var older = h.Receive(h.Later(5, cancelled: true), h.Delivery("orders/cancelled"));

        Assert.Equal(IntakeOutcome.Stale, older.Outcome);
        Assert.Equal(Persist.Now, older.Persist);
        Assert.Same(applied, h.S.Order);
        Assert.Equal(CancelState.None, h.S.Cancel);
        Assert.Equal(OrderStatus.SubmittedToErp, h.S.Status);
        Assert.Equal(planned, h.S.Outbox.Entries.Count);
        Assert.Equal(events, h.S.Unpublished.Count);
        var entry = h.S.Journal.Timeline[^1];
        Assert.Equal("shopify:orders/cancelled", entry.Kind);
        Assert.StartsWith("stale: ", entry.Detail, StringComparison.Ordinal);
        Assert.Contains("is older than applied", entry.Detail, StringComparison.Ordinal);
        // Recorded as seen: its re-delivery is a duplicate.
        Assert.Contains(entry.CorrelationId!, h.S.Journal.RecentEvents);
    }

    [Fact]
    public void a_payload_as_recent_as_the_applied_one_is_applied()
    {
        var h = new OrderHarness();
        h.Receive(h.Later(10));

        var same = h.Receive(h.Later(10, cancelled: true), h.Delivery("orders/cancelled"));

        Assert.Equal(IntakeOutcome.Applied, same.Outcome);
        Assert.Equal(OrderStatus.Cancelled, h.S.Status);
        Assert.NotNull(h.S.Order!.CancelledAt);
    }

    [Fact]
    public void an_older_fulfillment_update_is_stale_and_a_newer_one_replaces_it()
    {
        var h = new OrderHarness().Accepted();
        OrderDecider.Fulfillment(h.S, h.Delivery("fulfillments/create"), Fulfillment("F-1", h.Now, "pending"));

        var older = OrderDecider.Fulfillment(h.S, h.Delivery("fulfillments/update"), Fulfillment("F-1", h.Now.AddSeconds(-1), "cancelled"));
        Assert.Equal(IntakeOutcome.Stale, older.Outcome);
        Assert.Equal(Persist.Now, older.Persist);
        Assert.Equal("pending", Assert.Single(h.S.Fulfillments).Status);

        var newer = OrderDecider.Fulfillment(h.S, h.Delivery("fulfillments/update"), Fulfillment("F-1", h.Now.AddSeconds(1), "success"));
        Assert.Equal(IntakeOutcome.Applied, newer.Outcome);
        Assert.Equal("success", Assert.Single(h.S.Fulfillments).Status);
        // Shopify's fulfilments are recorded; the ERP moves the order.
        Assert.Equal(OrderStatus.Accepted, h.S.Status);
    }

    // The oversell guard.

    [Fact]
    public void all_stock_reserved_changes_nothing_else_and_is_stored_later()
    {
        var h = new OrderHarness();
        h.Receive();
        var planned = h.S.Outbox.Entries.Count;

        var decision = h.Stock(ReservationResult.Reserved);

        Assert.Equal(Persist.Later, decision.Persist);
        Assert.Empty(decision.Raise);
        Assert.Equal(StockHold.Reserved, h.S.Stock);
        Assert.Equal(ReservationResult.Reserved, h.S.StockBySku[OrderHarness.Sku]);
        Assert.Equal(OrderStatus.SubmittedToErp, h.S.Status);
        Assert.Equal(planned, h.S.Outbox.Entries.Count);
        Assert.Equal($"reserved {OrderHarness.Sku}", h.S.Journal.Timeline[^1].Detail);

        // A second answer (the step asked twice) finds nothing pending.
        var again = h.Stock(ReservationResult.Short);
        Assert.Equal(Persist.Nothing, again.Persist);
        Assert.Equal(StockHold.Reserved, h.S.Stock);
    }

    [Fact]
    public void untracked_skus_let_the_submission_go()
    {
        var h = new OrderHarness();
        h.Receive();
        var decision = h.Stock(ReservationResult.Untracked);

        Assert.Equal(Persist.Later, decision.Persist);
        Assert.Equal(StockHold.Reserved, h.S.Stock);
        Assert.Equal("no SKU of the order has an ERP figure yet: nothing to reserve", h.S.Journal.Timeline[^1].Detail);
    }

    [Fact]
    public void short_stock_with_backorder_holds_the_order_backordered_until_the_sku_reserves_it()
    {
        var h = new OrderHarness();
        h.Receive();
        h.Buyer();
        h.Succeed("context");

        var decision = h.Stock(ReservationResult.Short);

        Assert.Equal(Persist.Now, decision.Persist);
        Assert.Empty(decision.Raise);
        Assert.Equal(OrderStatus.Backordered, h.S.Status);
        Assert.Equal(StockHold.Short, h.S.Stock);
        var (ready, wakeAt) = h.Send();
        Assert.DoesNotContain(ready, e => e.Key == h.SubmitKey);
        Assert.Null(wakeAt);

        // Another SKU's grant does not concern it; this SKU's does.
        Assert.Equal(Persist.Nothing, OrderDecider.StockReservedLater(h.S, h.Key, "OTHER-SKU", h.Rules, h.Tick()).Persist);
        var granted = h.StockLater();
        Assert.Equal(Persist.Now, granted.Persist);
        Assert.Equal(OrderStatus.SubmittedToErp, h.S.Status);
        Assert.Equal(StockHold.Reserved, h.S.Stock);
        Assert.Equal((OrderStatus.Backordered, OrderStatus.SubmittedToErp), (h.StatusEvents[^1].From, h.StatusEvents[^1].To));
        Assert.Equal([h.SubmitKey], h.Send().Ready.Where(e => e.Command.System == "erp").Select(e => e.Key).ToList());
        // The grant comes once: a repeat changes nothing.
        Assert.Equal(Persist.Nothing, h.StockLater().Persist);
    }

    [Fact]
    public void short_stock_with_exception_raises_an_oversell_for_operations_and_keeps_the_status()
    {
        var h = new OrderHarness(rules: new OrderRules(TimeSpan.FromSeconds(5), OversellActions.Exception));
        h.Receive();
        h.Buyer();
        h.Succeed("context");
        var planned = h.S.Outbox.Entries.Count;
        var events = h.S.Unpublished!.Count;

        var decision = h.Stock(ReservationResult.Short);

        Assert.Equal(Persist.Now, decision.Persist);
        var raised = Assert.Single(decision.Raise);
        Assert.Equal(h.OversellKey, raised.Id);
        Assert.Equal(("inventory", "oversell", OrderHarness.Sku, "OVERSELL"), (raised.System, raised.Operation, raised.Payload, raised.VendorCode));
        Assert.Equal($"order:{OrderHarness.Shop}:{h.OrderId}", raised.OwnerKey);
        Assert.Equal((h.Now, "Open"), (raised.RaisedAt, raised.Status));
        Assert.Contains($"not enough available to sell of {OrderHarness.Sku}", raised.VendorMessage, StringComparison.Ordinal);
        Assert.Equal(OrderStatus.SubmittedToErp, h.S.Status);
        Assert.Equal(StockHold.Short, h.S.Stock);
        Assert.Equal(planned, h.S.Outbox.Entries.Count);
        Assert.Equal(events, h.S.Unpublished.Count);
        Assert.DoesNotContain(h.Send().Ready, e => e.Key == h.SubmitKey);

        // The operator's retry sends it anyway, and resolves the exception.
        var (retry, answer) = h.Retry(h.OversellKey);
        Assert.Equal(Persist.Now, retry.Persist);
        Assert.Equal([(h.OversellKey, "an operator submitted the order anyway")], retry.Resolve);
        Assert.Equal(CommandStatus.Succeeded, answer!.Status);
        Assert.Equal(h.OversellKey, answer.Key);
        Assert.Equal(StockHold.Override, h.S.Stock);
        Assert.Contains(h.Send().Ready, e => e.Key == h.SubmitKey);

        // A second retry finds nothing to do.
        var (again, none) = h.Retry(h.OversellKey);
        Assert.Equal(Persist.Nothing, again.Persist);
        Assert.Empty(again.Resolve);
        Assert.Null(none);
    }

    [Fact]
    public void stock_that_comes_for_an_order_held_for_operations_resolves_its_oversell_and_submits_it()
    {
        var h = new OrderHarness(rules: new OrderRules(TimeSpan.FromSeconds(5), OversellActions.Exception));
        h.Receive();
        h.Buyer();
        h.Succeed("context");
        Assert.Single(h.Stock(ReservationResult.Short).Raise);

        var granted = h.StockLater();

        Assert.Equal(Persist.Now, granted.Persist);
        Assert.Equal([(h.OversellKey, $"stock reserved for {OrderHarness.Sku}: submitted to the ERP")], granted.Resolve);
        Assert.Empty(granted.Raise);
        Assert.Equal((OrderStatus.SubmittedToErp, StockHold.Reserved), (h.S.Status, h.S.Stock));
        Assert.Contains(h.Send().Ready, e => e.Key == h.SubmitKey);
        // Nothing is left for the operator's retry to do.
        Assert.Null(h.Retry(h.OversellKey).Answer);
    }

    [Fact]
    public void an_order_that_ends_gives_its_stock_back_and_an_accepted_one_has_it_allocated()
    {
        var accepted = new OrderHarness().Accepted();
        AssertNotice(StockNotice.Allocated, accepted);
        accepted.S.StockTold = StockNotice.Allocated;
        Assert.Null(OrderDecider.StockNoticeDue(accepted.S));

        var cancelled = new OrderHarness().WaitingForStock();
        Assert.Null(OrderDecider.StockNoticeDue(cancelled.S));
        cancelled.CancelInShopify();
        AssertNotice(StockNotice.Released, cancelled);
        cancelled.S.StockTold = StockNotice.Released;
        Assert.Null(OrderDecider.StockNoticeDue(cancelled.S));

        var rejected = new OrderHarness().Rejected();
        AssertNotice(StockNotice.Released, rejected);

        static void AssertNotice(StockNotice expected, OrderHarness h)
        {
            var (notice, skus) = OrderDecider.StockNoticeDue(h.S)!.Value;
            Assert.Equal(expected, notice);
            Assert.Equal([OrderHarness.Sku], skus);
        }
    }

    // The buyer and the CRM context wait.

    [Fact]
    public void the_submission_waits_for_the_crm_context_until_its_deadline_then_goes_without_it()
    {
        var h = new OrderHarness();
        h.Receive();
        var plannedAt = h.Pending(Submit).PlannedAt;
        h.Stock(ReservationResult.Reserved);
        h.Buyer();

        var (ready, wakeAt) = h.Send();
        Assert.Equal([$"crm:context:{OrderHarness.Shop}:{h.OrderId}"], ready.Select(e => e.Key).ToList());
        Assert.Equal(plannedAt + TimeSpan.FromSeconds(5), wakeAt);

        h.Tick(plannedAt + TimeSpan.FromSeconds(5) - h.Now - TimeSpan.FromMilliseconds(1));
        Assert.Equal(plannedAt + TimeSpan.FromSeconds(5), h.Send().WakeAt);
        Assert.False(h.S.ContextWaitExpired);

        h.Tick(TimeSpan.FromMilliseconds(1));
        var (due, noWake) = h.Send();
        Assert.Contains(due, e => e.Key == h.SubmitKey);
        Assert.Null(noWake);
        Assert.True(h.S.ContextWaitExpired);
        Assert.Equal("no CRM context within 5 s: submitting to the ERP without it", h.S.Journal.Timeline[^1].Detail);

        // Said once on the timeline.
        var timeline = h.S.Journal.Timeline.Count;
        h.Tick();
        h.Send();
        Assert.Equal(timeline, h.S.Journal.Timeline.Count);
    }

    [Fact]
    public void the_submission_waits_for_the_buyer_as_for_the_context()
    {
        var h = new OrderHarness();
        h.Receive();
        var plannedAt = h.Pending(Submit).PlannedAt;
        h.Stock(ReservationResult.Reserved);
        h.Succeed("context");

        Assert.Equal(plannedAt + TimeSpan.FromSeconds(5), h.Send().WakeAt);
        h.Tick(TimeSpan.FromSeconds(5));
        Assert.Contains(h.Send().Ready, e => e.Key == h.SubmitKey);
        Assert.Equal("no golden customer within 5 s: submitting to the ERP without it", h.S.Journal.Timeline[^1].Detail);
    }

    [Fact]
    public void the_submission_goes_before_the_deadline_once_context_and_buyer_are_in()
    {
        var h = new OrderHarness();
        h.Receive();
        h.Stock(ReservationResult.Reserved);
        h.Buyer();

        var context = h.Succeed("context", data: JsonSerializer.Serialize(new CrmContextData("003C", "001A", "005O", "VIP"), OutboundExecutor.Json));
        Assert.Equal(Persist.Later, context.Persist);
        Assert.Equal(new CrmContext(true, "003C", "001A", "005O", "VIP", h.Now), h.S.CrmContext);

        var (ready, wakeAt) = h.Send();
        Assert.Equal([h.SubmitKey], ready.Select(e => e.Key).ToList());
        Assert.Null(wakeAt);
        Assert.False(h.S.ContextWaitExpired);
        Assert.True(h.Now < h.Pending(Submit).PlannedAt + h.Rules.CrmContextWait);
    }

    [Fact]
    public void the_stock_wait_has_no_deadline()
    {
        var h = new OrderHarness();
        h.Receive();
        h.Buyer();
        h.Succeed("context");
        h.Tick(TimeSpan.FromHours(1));

        var (ready, wakeAt) = h.Send();
        Assert.Empty(ready);
        Assert.Null(wakeAt);
        Assert.False(h.S.ContextWaitExpired);
    }

    [Fact]
    public void the_golden_customer_becomes_the_erp_customer_of_a_submission_not_sent_yet()
    {
        var h = new OrderHarness();
        h.Receive();

        var decision = h.Buyer("G-42");

        Assert.Equal(Persist.Later, decision.Persist);
        Assert.Equal(BuyerState.Resolved, h.S.Buyer);
        Assert.Equal("G-42", h.S.GoldenCustomerId);
        var submission = JsonSerializer.Deserialize<ErpOrderSubmission>(h.Pending(Submit).Command.Payload, OutboundExecutor.Json)!;
        Assert.Equal("G-42", submission.Customer.Number);
        Assert.Equal("G-42", submission.Order.CustomerNumber);
        Assert.Equal("event-1", h.Pending(Submit).Command.CorrelationId);
        Assert.Equal(Persist.Nothing, h.Buyer("G-43").Persist);
        Assert.Equal("G-42", h.S.GoldenCustomerId);
    }

    [Fact]
    public void a_submission_sent_already_keeps_the_shops_customer()
    {
        var h = new OrderHarness();
        h.Receive();
        h.Stock(ReservationResult.Reserved);
        h.Succeed("context");
        h.Tick(TimeSpan.FromSeconds(5));
        Assert.Contains(h.Send().Ready, e => e.Key == h.SubmitKey);

        h.Buyer("G-late");

        Assert.Equal("G-late", h.S.GoldenCustomerId);
        var submission = JsonSerializer.Deserialize<ErpOrderSubmission>(h.Pending(Submit).Command.Payload, OutboundExecutor.Json)!;
        Assert.Equal("SH-VJE7EVZ0LM6", submission.Customer.Number);
    }

    [Fact]
    public void a_resolution_that_names_no_golden_customer_keeps_the_shops_customer()
    {
        var h = new OrderHarness();
        h.Receive();

        Assert.Equal(Persist.Later, h.Buyer(golden: null).Persist);

        Assert.Equal(BuyerState.Resolved, h.S.Buyer);
        Assert.Null(h.S.GoldenCustomerId);
        var submission = JsonSerializer.Deserialize<ErpOrderSubmission>(h.Pending(Submit).Command.Payload, OutboundExecutor.Json)!;
        Assert.Equal("SH-VJE7EVZ0LM6", submission.Customer.Number);
    }

    // Commands ending, failing and retried.

    [Fact]
    public void an_accepted_submission_records_the_erp_number_and_the_erp_time()
    {
        var h = new OrderHarness().Submitted();

        var decision = h.Succeed(Submit, OrderHarness.ErpNumber, "Open", "2026-03-02T09:00:30+00:00");

        Assert.Equal(Persist.Now, decision.Persist);
        Assert.Equal(h.SubmitKey, decision.Ended!.Value.Entry.Key);
        Assert.True(decision.Ended.Value.Entry.Succeeded);
        Assert.Equal(OrderHarness.ErpNumber, h.S.ErpNumber);
        Assert.Equal(OrderHarness.ErpNumber, h.S.Systems[SystemNames.Erp].ExternalId);
        Assert.Equal(("Synced", (string?)null, (DateTimeOffset?)h.Now),
            (h.S.Systems[SystemNames.Erp].Status, h.S.Systems[SystemNames.Erp].Error, h.S.Systems[SystemNames.Erp].LastSyncedAt));
        Assert.Equal(DateTimeOffset.Parse("2026-03-02T09:00:30+00:00", System.Globalization.CultureInfo.InvariantCulture), h.S.ErpAcceptedAt);

        var crm = JsonSerializer.Deserialize<CrmUpsert>(h.Pending("upsert").Command.Payload, OutboundExecutor.Json)!;
        Assert.Equal(OrderHarness.ErpNumber, crm.Record["ERP_Order_Number__c"]!.GetValue<string>());
        var shopify = JsonSerializer.Deserialize<ShopifySyncStatus>(h.Pending("syncStatus").Command.Payload, OutboundExecutor.Json)!;
        Assert.Equal(OrderHarness.ErpNumber, shopify.Metafields["erp_order_no"]);
    }

    [Fact]
    public void an_erp_answer_without_a_time_is_dated_now()
    {
        var h = new OrderHarness().Submitted();
        h.Succeed(Submit, OrderHarness.ErpNumber, "Open", data: "not a time");
        Assert.Equal(h.Now, h.S.ErpAcceptedAt);
    }

    [Fact]
    public void a_submission_held_by_the_erp_is_on_hold_not_accepted()
    {
        var h = new OrderHarness().Submitted();
        h.Succeed(Submit, "SO-HOLD", ErpStatuses.OnHold);

        Assert.Equal(OrderStatus.OnHold, h.S.Status);
        Assert.Equal("SO-HOLD", h.S.Systems[SystemNames.Erp].ExternalId);
        Assert.Null(h.S.ErpNumber);
        Assert.Null(h.S.ErpAcceptedAt);
        Assert.Empty(h.AcceptedEvents);
    }

    [Fact]
    public void a_failed_command_ends_and_an_operator_retry_reopens_it()
    {
        var h = new OrderHarness().Submitted();

        var failed = h.Fail(Submit, "customer is blocked");

        Assert.Equal(Persist.Now, failed.Persist);
        var (entry, outcome) = failed.Ended!.Value;
        Assert.Equal(h.SubmitKey, entry.Key);
        Assert.False(entry.Succeeded);
        Assert.Equal(h.Now, entry.EndedAt);
        Assert.Equal(3, entry.Attempts);
        Assert.Equal("customer is blocked", entry.Result);
        Assert.Equal(CommandStatus.Failed, outcome.Status);
        Assert.Equal(("Failed", "customer is blocked"), (h.S.Systems[SystemNames.Erp].Status, h.S.Systems[SystemNames.Erp].Error));
        Assert.Equal(OrderStatus.Rejected, h.S.Status);
        Assert.DoesNotContain(h.Send().Ready, e => e.Key == h.SubmitKey);

        // The answer repeated (the dispatcher tells twice): nothing.
        var repeated = OrderDecider.CommandEnded(h.S, h.Key, outcome, h.Tick());
        Assert.Equal(Persist.Nothing, repeated.Persist);
        Assert.Null(repeated.Ended);

        var (retry, answer) = h.Retry(h.SubmitKey);

        Assert.Equal(Persist.Now, retry.Persist);
        Assert.Equal(h.SubmitKey, answer!.Key);
        Assert.Equal(CommandStatus.Pending, answer.Status);
        Assert.Equal(0, answer.Attempts);
        Assert.Equal("customer is blocked", answer.LastError);
        Assert.Null(entry.EndedAt);
        Assert.False(entry.Sent);
        Assert.Equal(h.Now, entry.PlannedAt);
        Assert.Equal("Pending", h.S.Systems[SystemNames.Erp].Status);
        Assert.Equal($"retry of {h.SubmitKey} requested", h.S.Journal.Timeline[^1].Detail);
        Assert.Equal([h.SubmitKey], h.Send().Ready.Where(e => e.Command.System == "erp").Select(e => e.Key).ToList());

        // Its second run adds its attempts to the first's.
        h.Succeed(Submit, OrderHarness.ErpNumber, "Open");
        Assert.Equal(4, entry.Attempts);
        Assert.Equal(OrderStatus.Accepted, h.S.Status);
    }

    [Fact]
    public void an_operator_retry_of_a_command_that_did_not_fail_or_does_not_exist_does_nothing()
    {
        var h = new OrderHarness().Accepted();

        var (succeeded, view) = h.Retry(h.SubmitKey);
        Assert.Equal(Persist.Nothing, succeeded.Persist);
        Assert.Equal(CommandStatus.Succeeded, view!.Status);
        Assert.NotNull(h.S.Outbox.Find(h.SubmitKey)!.EndedAt);

        var (pending, pendingView) = h.Retry(h.Pending("upsert").Key);
        Assert.Equal(Persist.Nothing, pending.Persist);
        Assert.Equal(CommandStatus.Pending, pendingView!.Status);

        var (unknown, none) = h.Retry("erp:submitOrder:other.myshopify.com:1");
        Assert.Equal(Persist.Nothing, unknown.Persist);
        Assert.Null(none);
        Assert.Equal(Persist.Nothing, h.Retry(h.OversellKey).Decision.Persist);
    }

    [Fact]
    public void a_crm_context_read_is_stored_later_unless_its_exception_must_be_resolved()
    {
        var h = new OrderHarness();
        h.Receive();
        var failed = h.Fail("context", "CRM down");
        Assert.Equal(Persist.Now, failed.Persist);
        Assert.Equal("Failed", h.S.Systems[SystemNames.Crm].Status);
        Assert.Null(h.S.CrmContext);
        // The shell raised its exception (OutboxSender.SettleAsync), and an operator retries it.
        failed.Ended!.Value.Entry.ExceptionRaised = true;
        Assert.Equal(Persist.Now, h.Retry($"crm:context:{OrderHarness.Shop}:{h.OrderId}").Decision.Persist);

        var read = h.Succeed("context");

        Assert.Equal(Persist.Now, read.Persist);
        Assert.Equal(new CrmContext(false, null, null, null, null, h.Now), h.S.CrmContext);
    }

    [Fact]
    public void a_transient_failure_shows_retrying_and_is_not_a_decision()
    {
        var h = new OrderHarness().Submitted();
        var submit = h.Pending(Submit);

        OrderDecider.CommandRetrying(h.S, new CommandView(submit.Key, submit.Command, CommandStatus.Retrying, 1, "503 from the ERP", null, h.Now));

        Assert.Equal(("Retrying", "503 from the ERP"), (h.S.Systems[SystemNames.Erp].Status, h.S.Systems[SystemNames.Erp].Error));
        Assert.Null(submit.EndedAt);
        Assert.Equal(OrderStatus.SubmittedToErp, h.S.Status);

        // Once ended, a late retrying notice changes nothing.
        h.Succeed(Submit, OrderHarness.ErpNumber, "Open");
        OrderDecider.CommandRetrying(h.S, new CommandView(submit.Key, submit.Command, CommandStatus.Retrying, 2, "late", null, h.Now));
        Assert.Equal(("Synced", (string?)null), (h.S.Systems[SystemNames.Erp].Status, h.S.Systems[SystemNames.Erp].Error));
    }

    [Fact]
    public void told_commands_record_the_shopify_tag_and_the_crm_id()
    {
        var h = new OrderHarness().Accepted();

        Assert.Equal(Persist.Now, h.Succeed("syncStatus").Persist);
        Assert.Equal("retailsync:accepted", h.S.ShopifyStatusTag);
        h.Succeed("upsert", externalId: "801CRM");
        Assert.Equal("801CRM", h.S.Systems[SystemNames.Crm].ExternalId);

        // The next tag replaces the one Shopify has.
        h.Erp(ErpOrderEventTypes.OnHold);
        var shopify = JsonSerializer.Deserialize<ShopifySyncStatus>(h.Pending("syncStatus").Command.Payload, OutboundExecutor.Json)!;
        Assert.Equal(["retailsync:onhold"], shopify.AddTags);
        Assert.Equal(["retailsync:accepted"], shopify.RemoveTags);
    }

    [Fact]
    public void an_unknown_command_outcome_is_nothing()
    {
        var h = new OrderHarness();
        h.Receive();
        var decision = OrderDecider.CommandEnded(h.S, h.Key,
            new CommandView("erp:submitOrder:x:1", new OutboundCommand("erp", Submit, "{}", null), CommandStatus.Succeeded, 1, null, "ok", null), h.Tick());

        Assert.Equal(Persist.Nothing, decision.Persist);
        Assert.Null(decision.Ended);
        Assert.Equal(OrderStatus.SubmittedToErp, h.S.Status);
    }

    // ERP events and shipments.

    [Fact]
    public void an_erp_event_the_status_does_not_allow_is_stale_and_one_of_unknown_type_is_ignored()
    {
        var h = new OrderHarness().Fulfilled();
        var planned = h.S.Outbox.Entries.Count;
        var changes = h.S.StatusChanges;

        var released = h.Erp(ErpOrderEventTypes.Released);
        Assert.Equal((IntakeOutcome.Stale, Persist.Now), (released.Outcome, released.Persist));
        Assert.EndsWith("— not applicable in status Fulfilled", h.S.Journal.Timeline[^1].Detail, StringComparison.Ordinal);
        var unknown = h.Erp("order.invoiced");
        Assert.Equal(IntakeOutcome.Ignored, unknown.Outcome);

        Assert.Equal(OrderStatus.Fulfilled, h.S.Status);
        Assert.Equal(changes, h.S.StatusChanges);
        Assert.Equal(planned, h.S.Outbox.Entries.Count);
    }

    [Fact]
    public void a_shipment_before_the_erps_answer_accepts_then_ships_and_tells_once()
    {
        var h = new OrderHarness().Submitted();
        var planned = h.S.Outbox.Entries.Count;

        var decision = h.Ship(1);

        Assert.Equal(IntakeOutcome.Applied, decision.Outcome);
        Assert.Equal(OrderStatus.PartiallyFulfilled, h.S.Status);
        Assert.Equal([(OrderStatus.SubmittedToErp, OrderStatus.Accepted, 2), (OrderStatus.Accepted, OrderStatus.PartiallyFulfilled, 3)],
            h.StatusEvents.TakeLast(2).Select(e => (e.From!.Value, e.To, e.Sequence)).ToList());
        Assert.Equal(OrderHarness.ErpNumber, Assert.Single(h.AcceptedEvents).ErpNumber);
        Assert.Equal(OrderHarness.ErpNumber, h.S.ErpNumber);
        Assert.Equal(["fulfill", "syncStatus", "upsert"], h.S.Outbox.Entries.Skip(planned).Select(e => e.Command.Operation).ToList());
    }

    [Fact]
    public void shipments_add_up_over_lines_of_one_sku_and_a_repeated_shipment_is_stale()
    {
        var h = new OrderHarness().Accepted();

        h.Ship(2, "SH-A");
        Assert.Equal(OrderStatus.PartiallyFulfilled, h.S.Status);
        Assert.Equal(2, h.S.Shipped[OrderHarness.Sku]);
        var fulfill = JsonSerializer.Deserialize<ShopifyFulfillment>(h.Pending("fulfill").Command.Payload, OutboundExecutor.Json)!;
        Assert.Equal(2, fulfill.QuantitiesBySku[OrderHarness.Sku]);
        Assert.Equal(("DHL", "TRK-1"), (fulfill.TrackingCompany, fulfill.TrackingNumber));
        Assert.EndsWith(":SH-A", h.Pending("fulfill").Key, StringComparison.Ordinal);

        var planned = h.S.Outbox.Entries.Count;
        var repeated = h.Ship(2, "SH-A");
        Assert.Equal(IntakeOutcome.Stale, repeated.Outcome);
        Assert.Equal(2, h.S.Shipped[OrderHarness.Sku]);
        Assert.Equal(planned, h.S.Outbox.Entries.Count);
        Assert.Equal(OrderStatus.PartiallyFulfilled, h.S.Status);

        h.Ship(1, "SH-B");
        Assert.Equal(OrderStatus.Fulfilled, h.S.Status);
        Assert.Equal(["SH-A", "SH-B"], h.S.Shipments);
    }

    [Fact]
    public void a_status_the_order_returns_to_is_told_again()
    {
        var h = new OrderHarness().BackorderedByErp();
        h.Erp(ErpOrderEventTypes.Released);

        var told = h.S.Outbox.Entries.Where(e => e.Command.Operation == "syncStatus").Select(e => e.Key.Split(':')[^2..]).Select(k => string.Join(':', k)).ToList();
        Assert.Equal(["2:Accepted", "3:Backordered", "4:Accepted"], told);
        Assert.Equal(2, h.AcceptedEvents.Count);
    }

    // Refunds.

    [Fact]
    public void a_partial_refund_keeps_the_status_and_the_rest_refunds_the_order()
    {
        var h = new OrderHarness().Fulfilled();
        var lines = h.Order.Lines;
        var planned = h.S.Outbox.Entries.Count;

        var partial = h.Refund("R-1", new Dictionary<string, int> { [lines[0].LineId] = 1, [lines[1].LineId] = 1 });
        Assert.Equal(Persist.Now, partial.Persist);
        Assert.Equal(OrderStatus.Fulfilled, h.S.Status);
        Assert.True(h.S.PartiallyRefunded);
        Assert.Equal(planned, h.S.Outbox.Entries.Count);
        Assert.Equal("refund:R-1", h.S.Journal.Timeline[^1].CorrelationId);

        Assert.Equal(Persist.Nothing, h.Refund("R-1", new Dictionary<string, int> { [lines[0].LineId] = 1 }).Persist);
        Assert.Equal(1, h.S.RefundedByLine[lines[0].LineId]);

        h.Refund("R-2", new Dictionary<string, int> { [lines[0].LineId] = 1 });
        Assert.Equal(OrderStatus.Refunded, h.S.Status);
        Assert.False(h.S.PartiallyRefunded);
        Assert.All(h.S.Outbox.Entries.Skip(planned), e => Assert.Equal("refund:R-2", e.Command.CorrelationId));
    }

    [Fact]
    public void a_refund_for_an_order_never_received_is_nothing()
    {
        var h = new OrderHarness();
        Assert.Equal(Persist.Nothing, h.RefundAll().Persist);
        Assert.Empty(h.S.RefundsApplied);
    }

    [Fact]
    public void a_restated_status_repeats_the_latest_sequence_with_from_equal_to()
    {
        var h = new OrderHarness().Accepted();
        h.Tick(TimeSpan.FromMinutes(1));

        var restated = OrderDecider.Restated(h.S, h.Key, h.Now);

        Assert.Equal((OrderStatus.Accepted, OrderStatus.Accepted), (restated.From!.Value, restated.To));
        Assert.Equal(h.S.StatusChanges, restated.Sequence);
        Assert.Equal(h.StatusEvents[^1].Sequence, restated.Sequence);
        Assert.Equal((h.Key, OrderHarness.Tenant, h.Now), (restated.Order, restated.Tenant, restated.At));
        Assert.Equal(h.Now - h.S.ReceivedAt!.Value, restated.SinceReceived);
    }

    private static RetailSync.Model.Fulfillment Fulfillment(string id, DateTimeOffset updatedAt, string status = "success") =>
        new(id, "1001", status, "DHL", ["TRK-1"], [], [new RetailSync.Model.FulfillmentLine("L1", OrderHarness.Sku, 1)], null, updatedAt, updatedAt);
}
