using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using RetailSync.Connectors;
using RetailSync.Customers;
using RetailSync.Erp;
using RetailSync.Intake;
using RetailSync.Inventory;
using RetailSync.Model;
using RetailSync.Operations;
using RetailSync.Outbox;

namespace RetailSync.Orders;

/// <summary>The settings the order's rules read.</summary>
/// <param name="CrmContextWait">How long the ERP submission waits for the CRM context and the buyer's golden customer.</param>
/// <param name="Oversell">What a short reservation does: the order waits for stock, or operations decides.</param>
public sealed record OrderRules(TimeSpan CrmContextWait, string Oversell);

/// <summary>How a decision's change is to be stored.</summary>
public enum Persist
{
    /// <summary>Nothing changed.</summary>
    Nothing,

    /// <summary>A result that can be worked out again (a read, a reservation that changed nothing else): stored with the next write.</summary>
    Later,

    /// <summary>Written before anything is sent or answered.</summary>
    Now,
}

/// <summary>What a decision asks of the grain besides the state it changed: how to store it, exceptions to raise or resolve.</summary>
public sealed class OrderDecision
{
    public IntakeOutcome Outcome { get; init; } = IntakeOutcome.Applied;

    public Persist Persist { get; set; } = Persist.Now;

    public List<OpsException> Raise { get; } = [];

    public List<(string Id, string Resolution)> Resolve { get; } = [];

    /// <summary>A command that ended (its exception raised or resolved by the outbox).</summary>
    public (OutboxEntry Entry, CommandView Outcome)? Ended { get; init; }

    public static OrderDecision Nothing(IntakeOutcome outcome = IntakeOutcome.Ignored) => new() { Outcome = outcome, Persist = Persist.Nothing };
}

/// <summary>
/// The order's rules, with no I/O: each input (a Shopify payload, an ERP event, a command's outcome, a reservation,
/// the buyer's resolution, a refund, an operator's retry) changes the state it is given, plans the commands that
/// follow into its outbox, records the domain events, and says what else the grain must do. The state given is the
/// new state (copying a state of several KB per decision would double the allocations of every order).
/// </summary>
public static partial class OrderDecider
{
    public const string SubmitOrder = "submitOrder";

    /// <summary>An orders/* payload: the first creates the order whatever its topic; an older one than applied changes nothing.</summary>
    public static OrderDecision Receive(OrderState s, string orderKey, ShopifyDelivery delivery, Order order, DateTimeOffset now)
    {
        if (s.Journal.HasSeen(delivery))
        {
            return OrderDecision.Nothing(IntakeOutcome.Duplicate);
        }

        var created = s.Order is null;
        var outcome = OrderIntakeRules.Decide(s.Order, order);
        if (outcome == IntakeOutcome.Stale)
        {
            s.Journal.RecordDelivery(delivery, outcome, $"updated_at {order.UpdatedAt:O} is older than applied {s.Order!.UpdatedAt:O}");
            return new OrderDecision { Outcome = outcome };
        }

        s.Order = s.Redacted ? OrderIntakeRules.Redact(order) : order;
        s.Shop ??= delivery.Shop;
        s.Tenant ??= delivery.Tenant;
        s.ReceivedAt ??= delivery.ReceivedAt;
        var shopify = s.Systems[SystemNames.Shopify];
        shopify.ExternalId = order.OrderId;
        shopify.LastSyncedAt = delivery.ReceivedAt;
        s.Journal.RecordDelivery(delivery, outcome,
            $"{(created ? "created" : "updated")} at updated_at {order.UpdatedAt:O}, financial {order.FinancialStatus ?? "-"}, fulfilment {order.FulfillmentStatus ?? "-"}{(order.CancelledAt is null ? "" : ", cancelled")}");
        if (created)
        {
            Record(s, orderKey, null, now);
        }

        Plan(s, orderKey, delivery.DedupeKey, now);
        return new OrderDecision { Outcome = outcome };
    }

    /// <summary>What a newly applied Shopify payload asks of the other systems.</summary>
    private static void Plan(OrderState s, string orderKey, string correlationId, DateTimeOffset now)
    {
        var order = s.Order!;
        if (s.Status == OrderStatus.Received && s.Outbox.Entries.All(e => e.Command.Operation != SubmitOrder))
        {
            // Known customer: ask the CRM for their context first; the ERP submission waits for it, briefly.
            if ((order.Customer?.Email ?? order.Email) is { Length: > 0 } email && s.CrmContext is null)
            {
                Enqueue(s, "crm", "context", email, correlationId, now);
            }

            // The oversell guard: the SKUs are reserved after this write; the ERP submission waits for them.
            if (order.Lines.Any(l => !string.IsNullOrEmpty(l.Sku) && l.Quantity > 0) && s.Stock == StockHold.None)
            {
                s.Stock = StockHold.Pending;
            }

            // The buyer's golden customer is resolved after this write, off the webhook's path; the ERP customer is that
            // golden id when it comes in time.
            if (s.Buyer == BuyerState.Unknown)
            {
                s.Buyer = CustomerRecords.FromOrder(s.Shop!, order) is not null ? BuyerState.Pending : BuyerState.Absent;
                if (s.Buyer == BuyerState.Absent)
                {
                    s.Journal.Record(now, "identity", "no customer and no email on the order: left unattached to any customer", correlationId);
                }
            }

            Fire(s, orderKey, OrderTrigger.SubmitToErp, $"submitting to the ERP as {order.OrderId}", now);
            Enqueue(s, "erp", SubmitOrder, OrderPropagation.ErpSubmission(s.Shop!, order, s.GoldenCustomerId), correlationId, now);
        }

        if (order.CancelledAt is not null && s.Cancel == CancelState.None)
        {
            if (OrderStatuses.Shipped(s.Status))
            {
                s.Journal.Record(now, "decision", $"cancelled in Shopify after shipment ({s.Status}): raised for operations", correlationId);
                s.Cancel = CancelState.AfterShipment;
            }
            else if (s.Stock is StockHold.Pending or StockHold.Short && Submission(s) is { EndedAt: null, Sent: false } waiting)
            {
                // Never sent: the ERP has nothing to cancel, and the stock it waited for goes to the next order.
                s.Cancel = CancelState.Requested;
                s.Outbox.Remove(waiting);
                Fire(s, orderKey, OrderTrigger.Cancel, "cancelled in Shopify while waiting for stock: never sent to the ERP", now);
                Propagate(s, correlationId, now);
            }
            else
            {
                s.Cancel = CancelState.Requested;
                s.Journal.Record(now, "decision", "cancelled in Shopify: cancelling in the ERP", correlationId);
                Enqueue(s, "erp", "cancelOrder", order.OrderId, correlationId, now);
            }
        }
    }

    /// <summary>The exception operations gets for a cancellation after shipment.</summary>
    public static OpsException CancelAfterShipment(OrderState s, DateTimeOffset now) => new(
        $"order:cancelAfterShipment:{s.Shop}:{s.Order!.OrderId}", "erp", "cancelOrder", s.Order.OrderId, "SHIPPED",
        $"Order {s.Order.Name ?? s.Order.OrderId} was cancelled in Shopify after it shipped ({s.Status}); arrange a return or refund.",
        0, null, OwnerKey(s), now, "Open", null, null);

    public static string OwnerKey(OrderState s) => $"order:{s.Shop}:{s.Order?.OrderId}";

    public static OutboxEntry? Submission(OrderState s) => s.Outbox.Entries.FirstOrDefault(e => e.Command.Operation == SubmitOrder);

    private static void Enqueue<T>(OrderState s, string system, string operation, T payload, string? correlationId, DateTimeOffset now, string? suffix = null)
    {
        var key = $"{system}:{operation}:{s.Shop}:{s.Order!.OrderId}{(suffix is null ? "" : ":" + suffix)}";
        if (s.Outbox.Plan(key, OutboundExecutor.Command(system, operation, payload, correlationId), now) is not null)
        {
            s.Systems[SystemNames.For(system)].Status = "Pending";
        }
    }

    private static bool Fire(OrderState s, string orderKey, OrderTrigger trigger, string why, DateTimeOffset now)
    {
        if (!OrderStateMachine.TryFire(s.Status, trigger, out var next))
        {
            s.Journal.Record(now, "decision", $"{trigger} ignored in status {s.Status}", null);
            return false;
        }

        s.Journal.Record(now, "status", $"{s.Status} → {next}: {why}", null);
        var from = s.Status;
        s.Status = next;
        s.StatusChanges++;
        Record(s, orderKey, from, now);
        return true;
    }

    private static void Record(OrderState s, string orderKey, OrderStatus? from, DateTimeOffset now)
    {
        var sinceReceived = now - (s.ReceivedAt ?? now);
        var tenant = s.Tenant ?? s.Shop ?? "";
        var events = s.Unpublished ??= [];
        events.Add(new OrderStatusChanged(orderKey, tenant, now, from, s.Status, s.StatusChanges, sinceReceived));
        if (s.Status == OrderStatus.Accepted && from is not null)
        {
            events.Add(new OrderAccepted(orderKey, tenant, now, s.ErpNumber, sinceReceived));
        }
    }

    /// <summary>The order's current status, said again for a projection being rebuilt (From equals To).</summary>
    public static OrderStatusChanged Restated(OrderState s, string orderKey, DateTimeOffset now) =>
        new(orderKey, s.Tenant ?? s.Shop ?? "", now, s.Status, s.Status, s.StatusChanges, now - (s.ReceivedAt ?? now));

    /// <summary>Tells Shopify (tag + metafield) and the CRM (order record) the order's new status.</summary>
    private static void Propagate(OrderState s, string? correlationId, DateTimeOffset now)
    {
        var order = s.Order!;
        // Keyed by the status change, so a status the order returns to (Backordered → Accepted) is told again; the status
        // stays the key's last segment (the Shopify tag is read from it).
        var change = $"{s.StatusChanges}:{s.Status}";
        Enqueue(s, "shopify", "syncStatus", OrderPropagation.ShopifyStatus(s.Shop!, order, s.Status.ToString(), s.ShopifyStatusTag, s.ErpNumber), correlationId, now, change);
        Enqueue(s, "crm", "upsert", OrderPropagation.CrmOrder(order, s.Status.ToString(), s.ErpNumber, s.CrmContext), correlationId, now, change);
    }

    private static bool FireAndPropagate(OrderState s, string orderKey, OrderTrigger trigger, string why, string? correlationId, DateTimeOffset now)
    {
        if (!Fire(s, orderKey, trigger, why, now))
        {
            return false;
        }

        Propagate(s, correlationId, now);
        return true;
    }

    public static OrderDecision Fulfillment(OrderState s, ShopifyDelivery delivery, Fulfillment fulfillment)
    {
        if (s.Journal.HasSeen(delivery))
        {
            return OrderDecision.Nothing(IntakeOutcome.Duplicate);
        }

        var existing = s.Fulfillments.FindIndex(f => f.FulfillmentId == fulfillment.FulfillmentId);
        var outcome = existing >= 0 && fulfillment.UpdatedAt < s.Fulfillments[existing].UpdatedAt ? IntakeOutcome.Stale : IntakeOutcome.Applied;
        if (outcome == IntakeOutcome.Applied)
        {
            if (existing >= 0)
            {
                s.Fulfillments[existing] = fulfillment;
            }
            else
            {
                s.Fulfillments.Add(fulfillment);
            }

            s.Shop ??= delivery.Shop;
            s.Tenant ??= delivery.Tenant;
        }

        s.Journal.RecordDelivery(delivery, outcome, $"fulfillment {fulfillment.FulfillmentId} {fulfillment.Status ?? "-"}, {fulfillment.Lines.Length} lines");
        return new OrderDecision { Outcome = outcome };
    }

    /// <summary>The ERP is the authority for allocation and fulfilment: its events move the order and are told to Shopify and the CRM.</summary>
    public static OrderDecision ErpEvent(OrderState s, string orderKey, ShopifyDelivery delivery, ErpOrderEvent e, DateTimeOffset now)
    {
        if (s.Journal.HasSeen(delivery))
        {
            return OrderDecision.Nothing(IntakeOutcome.Duplicate);
        }

        var outcome = ApplyErpEvent(s, orderKey, e, delivery.DedupeKey, now);
        s.Journal.RecordDelivery(delivery, outcome,
            $"{e.Type}{(e.Shipment is { } sh ? $" shipment {sh.ShipmentId} ({sh.Lines.Sum(l => l.Quantity)} units, tracking {sh.TrackingNumber ?? "-"})" : "")}{(e.Reason is null ? "" : $": {e.Reason}")}"
            + (outcome == IntakeOutcome.Stale ? $" — not applicable in status {s.Status}" : ""));
        return new OrderDecision { Outcome = outcome };
    }

    private static IntakeOutcome ApplyErpEvent(OrderState s, string orderKey, ErpOrderEvent e, string correlationId, DateTimeOffset now)
    {
        if (e.ErpNumber is { } number && s.ErpNumber is null)
        {
            s.ErpNumber = number;
            s.Systems[SystemNames.Erp].ExternalId = number;
        }

        var because = e.Reason is null ? "" : $": {e.Reason}";
        switch (e.Type)
        {
            case ErpOrderEventTypes.Shipped when e.Shipment is { } shipment:
                return Ship(s, orderKey, e, shipment, correlationId, now);
            case ErpOrderEventTypes.Backordered:
                return Outcome(FireAndPropagate(s, orderKey, OrderTrigger.ErpBackordered, $"ERP backordered it{because}", correlationId, now));
            case ErpOrderEventTypes.Released:
                return Outcome(FireAndPropagate(s, orderKey, OrderTrigger.ErpAccepted, $"ERP released it{because}", correlationId, now));
            case ErpOrderEventTypes.OnHold:
                return Outcome(FireAndPropagate(s, orderKey, OrderTrigger.ErpOnHold, $"ERP holds it{because}", correlationId, now));
            case ErpOrderEventTypes.Rejected:
                return Outcome(FireAndPropagate(s, orderKey, OrderTrigger.ErpRejected, $"ERP refused it{because}", correlationId, now));
            default:
                return IntakeOutcome.Ignored;
        }

        static IntakeOutcome Outcome(bool applied) => applied ? IntakeOutcome.Applied : IntakeOutcome.Stale;
    }

    private static IntakeOutcome Ship(OrderState s, string orderKey, ErpOrderEvent e, ErpShipment shipment, string correlationId, DateTimeOffset now)
    {
        if (s.Shipments.Contains(shipment.ShipmentId))
        {
            return IntakeOutcome.Stale;
        }

        if (s.Status == OrderStatus.SubmittedToErp)
        {
            // The ERP shipped before its answer to our submission reached us: it accepted it.
            Fire(s, orderKey, OrderTrigger.ErpAccepted, $"ERP shipped sales order {e.ErpNumber}", now);
        }

        var shipped = new Dictionary<string, int>(s.Shipped, StringComparer.Ordinal);
        foreach (var line in shipment.Lines)
        {
            shipped[line.Sku] = shipped.GetValueOrDefault(line.Sku) + line.Quantity;
        }

        var complete = s.Order!.Lines.Where(l => l.RequiresShipping && l.Sku is not null).GroupBy(l => l.Sku!)
            .All(g => shipped.GetValueOrDefault(g.Key) >= g.Sum(l => l.Quantity));
        if (!Fire(s, orderKey, complete ? OrderTrigger.ShippedFully : OrderTrigger.ShippedPartially,
                $"ERP shipment {shipment.ShipmentId}{(shipment.TrackingNumber is null ? "" : $", {shipment.TrackingCompany} {shipment.TrackingNumber}")}", now))
        {
            return IntakeOutcome.Stale;
        }

        s.Shipments.Add(shipment.ShipmentId);
        s.Shipped = shipped;
        Enqueue(s, "shopify", "fulfill", new ShopifyFulfillment(s.Shop!, s.Order.OrderId, shipment.TrackingCompany, shipment.TrackingNumber,
            shipment.Lines.GroupBy(l => l.Sku).ToDictionary(g => g.Key, g => g.Sum(l => l.Quantity))), correlationId, now, shipment.ShipmentId);
        Propagate(s, correlationId, now);
        return IntakeOutcome.Applied;
    }

    /// <summary>A command's outcome: what it means for the order and which commands it implies.</summary>
    public static OrderDecision CommandEnded(OrderState s, string orderKey, CommandView outcome, DateTimeOffset now)
    {
        if (s.Outbox.End(outcome, now) is not { } entry)
        {
            return OrderDecision.Nothing();
        }

        var succeeded = entry.Succeeded;
        s.Journal.Record(now, $"{entry.Command.System}:{entry.Command.Operation}",
            succeeded ? $"done after {outcome.Attempts} attempt(s): {outcome.Result}" : $"failed after {outcome.Attempts} attempt(s): {outcome.LastError}", outcome.Key);
        var system = s.Systems[SystemNames.For(entry.Command.System)];
        system.Status = succeeded ? "Synced" : "Failed";
        system.Error = succeeded ? null : outcome.LastError;
        if (succeeded)
        {
            system.LastSyncedAt = now;
        }

        var correlationId = entry.Command.CorrelationId;
        switch (entry.Command.Operation)
        {
            case SubmitOrder when succeeded && outcome.ExternalStatus == ErpStatuses.OnHold:
                // The ERP holds it for a person (credit limit): visible, waiting, not failed; a retry re-submits.
                s.Systems[SystemNames.Erp].ExternalId = outcome.ExternalId;
                FireAndPropagate(s, orderKey, OrderTrigger.ErpOnHold, $"ERP: {outcome.Result}", correlationId, now);
                break;
            case SubmitOrder when succeeded:
                s.Systems[SystemNames.Erp].ExternalId = outcome.ExternalId;
                s.ErpNumber = outcome.ExternalId;
                s.ErpAcceptedAt = DateTimeOffset.TryParse(outcome.Data, CultureInfo.InvariantCulture, DateTimeStyles.None, out var erpTime) ? erpTime : now;
                FireAndPropagate(s, orderKey, OrderTrigger.ErpAccepted, $"ERP sales order {outcome.ExternalId} ({outcome.ExternalStatus})", correlationId, now);
                break;
            case SubmitOrder:
                FireAndPropagate(s, orderKey, OrderTrigger.ErpRejected, $"ERP refused: {outcome.LastError}", correlationId, now);
                break;
            case "cancelOrder" when succeeded:
                FireAndPropagate(s, orderKey, OrderTrigger.Cancel, outcome.Result ?? "cancelled in the ERP", correlationId, now);
                break;
            case "syncStatus" when succeeded:
                s.ShopifyStatusTag = OrderPropagation.TagPrefix + entry.Key.Split(':')[^1].ToLowerInvariant();
                break;
            case "upsert" when succeeded:
                s.Systems[SystemNames.Crm].ExternalId = outcome.ExternalId;
                break;
            case "context" when succeeded:
                var found = outcome.Data is { } data ? JsonSerializer.Deserialize<CrmContextData>(data, OutboundExecutor.Json) : null;
                s.CrmContext = new CrmContext(found is not null, found?.ContactId, found?.AccountId, found?.OwnerId, found?.Segment, now);
                break;
        }

        // A read is stored with the next change: a crash before that only repeats it.
        var read = succeeded && entry.Command.Operation == "context" && !entry.ExceptionRaised;
        return new OrderDecision { Ended = (entry, outcome), Persist = read ? Persist.Later : Persist.Now };
    }

    /// <summary>A command failed transiently and waits for its next attempt: shown, not stored.</summary>
    public static void CommandRetrying(OrderState s, CommandView outcome)
    {
        if (s.Outbox.Find(outcome.Key) is { EndedAt: null } entry)
        {
            var system = s.Systems[SystemNames.For(entry.Command.System)];
            system.Status = "Retrying";
            system.Error = outcome.LastError;
        }
    }

    /// <summary>A refund's saga confirmed it in every system: the order is Refunded when every line is.</summary>
    public static OrderDecision RefundApplied(OrderState s, string orderKey, string refundId, IReadOnlyDictionary<string, int> quantitiesByLineId, DateTimeOffset now)
    {
        if (s.Order is null || s.RefundsApplied.Contains(refundId))
        {
            return OrderDecision.Nothing();
        }

        s.RefundsApplied.Add(refundId);
        foreach (var (lineId, quantity) in quantitiesByLineId)
        {
            s.RefundedByLine[lineId] = s.RefundedByLine.GetValueOrDefault(lineId) + quantity;
        }

        var correlationId = "refund:" + refundId;
        if (s.Order.Lines.All(l => s.RefundedByLine.GetValueOrDefault(l.LineId) >= l.Quantity))
        {
            FireAndPropagate(s, orderKey, OrderTrigger.Refund, $"refund {refundId} confirmed in every system: every line refunded", correlationId, now);
        }
        else
        {
            s.Journal.Record(now, "refund", $"refund {refundId} confirmed in every system: partially refunded " +
                string.Join(", ", quantitiesByLineId.Select(q => $"line {q.Key} × {q.Value}")), correlationId);
        }

        return new OrderDecision();
    }
}
