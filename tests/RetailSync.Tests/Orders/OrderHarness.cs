using System.Collections.Immutable;
using RetailSync.Connectors;
using RetailSync.Customers;
using RetailSync.Erp;
using RetailSync.Intake;
using RetailSync.Inventory;
using RetailSync.Model;
using RetailSync.Operations;
using RetailSync.Orders;
using RetailSync.Outbox;
using RetailSync.Shopify;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Orders;

/// <summary>
/// One order driven through <see cref="OrderDecider"/> the way <see cref="OrderGrain"/> drives it, with no cluster: each
/// input is the decider call the grain makes for it, at a plain time that moves one second per step. What the grain's
/// I/O does besides (marking a handed command sent) is done here by hand.
/// </summary>
internal sealed class OrderHarness
{
    public const string Shop = ShopifyFixtures.Shop;
    public const string Tenant = "sandbox";
    public const string Sku = "IPOD2008PINK";
    public const string Golden = "G-1";
    public const string ErpNumber = "SO-1001";

    public static readonly DateTimeOffset Start = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    private int deliveries;

    public OrderHarness(long orderId = 1001, OrderRules? rules = null, Func<Order, Order>? shape = null)
    {
        OrderId = orderId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Rules = rules ?? new OrderRules(TimeSpan.FromSeconds(5), OversellActions.Backorder);
        Order = (shape ?? TwoLinesOfThreeUnits)(FixtureOrder(orderId));
    }

    public OrderState S { get; } = new();

    public string OrderId { get; }

    public string Key => EntityKeys.ForShop(Shop, OrderId);

    public OrderRules Rules { get; set; }

    /// <summary>The first payload: the Shopify orders/create fixture as order <see cref="OrderId"/>.</summary>
    public Order Order { get; }

    public DateTimeOffset Now { get; private set; } = Start;

    public string SubmitKey => $"erp:submitOrder:{Shop}:{OrderId}";

    public string OversellKey => $"order:oversell:{Shop}:{OrderId}";

    public List<OrderStatusChanged> StatusEvents => [.. (S.Unpublished ?? []).OfType<OrderStatusChanged>()];

    public List<OrderAccepted> AcceptedEvents => [.. (S.Unpublished ?? []).OfType<OrderAccepted>()];

    /// <summary>The fixture's two lines of one SKU, made 2 + 1 units so that a shipment is complete only over both.</summary>
    public static Order TwoLinesOfThreeUnits(Order order) => order with { Lines = [order.Lines[0] with { Quantity = 2 }, order.Lines[1]] };

    public static Order FixtureOrder(long orderId) => ShopifyMapper.Order(System.Text.Json.JsonDocument.Parse(
        ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", orderId, Start.AddMinutes(-1))).RootElement);

    public DateTimeOffset Tick(TimeSpan? by = null) => Now += by ?? TimeSpan.FromSeconds(1);

    public ShopifyDelivery Delivery(string topic, string? eventId = null, string? webhookId = null)
    {
        deliveries++;
        return new ShopifyDelivery(Shop, Tenant, topic, eventId ?? (webhookId is null ? $"event-{deliveries}" : null), webhookId ?? $"webhook-{deliveries}",
            Now, "2026-01", false, Now);
    }

    /// <summary>A later payload of the order: updated <paramref name="minutes"/> after the first, cancelled when asked.</summary>
    public Order Later(int minutes = 1, bool cancelled = false) =>
        Order with { UpdatedAt = Order.UpdatedAt.AddMinutes(minutes), CancelledAt = cancelled ? Now : null, CancelReason = cancelled ? "customer" : null };

    public OrderDecision Receive(Order? order = null, ShopifyDelivery? delivery = null)
    {
        Tick();
        return OrderDecider.Receive(S, Key, delivery ?? Delivery("orders/create"), order ?? Order, Now);
    }

    public OrderDecision CancelInShopify(int minutes = 5) => Receive(Later(minutes, cancelled: true), Delivery("orders/cancelled"));

    public OrderDecision Stock(string result) =>
        OrderDecider.StockAnswered(S, Key, new Dictionary<string, string>(StringComparer.Ordinal) { [Sku] = result }, Rules, Tick());

    public OrderDecision StockLater() => OrderDecider.StockReservedLater(S, Key, Sku, Rules, Tick());

    public OrderDecision Buyer(string? golden = Golden) => OrderDecider.BuyerResolved(S, new Resolution(golden, "created", "a new golden customer"), Tick());

    /// <summary>What the grain hands to the dispatchers now; marked sent, as the outbox sender does.</summary>
    public (List<OutboxEntry> Ready, DateTimeOffset? WakeAt) Send()
    {
        var (ready, wakeAt) = OrderDecider.Sendable(S, Rules, Now);
        foreach (var entry in ready)
        {
            entry.Sent = true;
        }

        return (ready, wakeAt);
    }

    /// <summary>The newest unfinished command of that operation.</summary>
    public OutboxEntry Pending(string operation) => S.Outbox.Entries.Last(e => e.Command.Operation == operation && e.EndedAt is null);

    public OrderDecision Succeed(string operation, string? externalId = null, string? externalStatus = null, string? data = null)
    {
        var entry = Pending(operation);
        return OrderDecider.CommandEnded(S, Key, new CommandView(entry.Key, entry.Command, CommandStatus.Succeeded, 1, null, $"{operation} done", null,
            externalId, externalStatus, null, data), Tick());
    }

    public OrderDecision Fail(string operation, string error = "customer is blocked")
    {
        var entry = Pending(operation);
        return OrderDecider.CommandEnded(S, Key, new CommandView(entry.Key, entry.Command, CommandStatus.Failed, 3, error, null, null, VendorCode: "BLOCKED"), Tick());
    }

    public OrderDecision Erp(string type, ErpShipment? shipment = null, string? reason = null, string? eventId = null)
    {
        Tick();
        return OrderDecider.ErpEvent(S, Key, Delivery("erp:bc/" + type, eventId), new ErpOrderEvent(type, OrderId, ErpNumber, Now, reason, shipment), Now);
    }

    public OrderDecision Ship(int units, string? shipmentId = null) =>
        Erp(ErpOrderEventTypes.Shipped, new ErpShipment(shipmentId ?? $"SH-{S.Shipments.Count + 1}", "DHL", "TRK-1", [new ErpShipmentLine(Sku, units)]));

    public OrderDecision Refund(string refundId, IReadOnlyDictionary<string, int> quantitiesByLineId) =>
        OrderDecider.RefundApplied(S, Key, refundId, quantitiesByLineId, Tick());

    /// <summary>Every line refunded in full.</summary>
    public OrderDecision RefundAll(string refundId = "R-1") => Refund(refundId, Order.Lines.ToImmutableDictionary(l => l.LineId, l => l.Quantity));

    public (OrderDecision Decision, CommandView? Answer) Retry(string key) => OrderDecider.OperatorRetry(S, key, Tick());

    // The ways to an order in each status, as the grain gets there.

    /// <summary>Sent to the ERP: stock reserved, buyer resolved, CRM context in, the submission handed over.</summary>
    public OrderHarness Submitted()
    {
        Receive();
        Stock(ReservationResult.Reserved);
        Buyer();
        Succeed("context");
        var (ready, _) = Send();
        Assert.Contains(ready, e => e.Key == SubmitKey);
        return Expect(OrderStatus.SubmittedToErp);
    }

    public OrderHarness Accepted()
    {
        Submitted();
        Succeed(OrderDecider.SubmitOrder, ErpNumber, "Open", "2026-03-02T09:00:30+00:00");
        return Expect(OrderStatus.Accepted);
    }

    public OrderHarness OnHold()
    {
        Submitted();
        Succeed(OrderDecider.SubmitOrder, ErpNumber, ErpStatuses.OnHold);
        return Expect(OrderStatus.OnHold);
    }

    public OrderHarness Rejected()
    {
        Submitted();
        Fail(OrderDecider.SubmitOrder);
        return Expect(OrderStatus.Rejected);
    }

    /// <summary>Held by the oversell guard (rules: Backorder): Backordered before the ERP saw it.</summary>
    public OrderHarness WaitingForStock()
    {
        Receive();
        Stock(ReservationResult.Short);
        return Expect(OrderStatus.Backordered);
    }

    /// <summary>Backordered by the ERP after it had accepted the order.</summary>
    public OrderHarness BackorderedByErp()
    {
        Accepted();
        Erp(ErpOrderEventTypes.Backordered, reason: "stock found damaged");
        return Expect(OrderStatus.Backordered);
    }

    public OrderHarness PartiallyFulfilled()
    {
        Accepted();
        Ship(1);
        return Expect(OrderStatus.PartiallyFulfilled);
    }

    public OrderHarness Fulfilled()
    {
        Accepted();
        Ship(3);
        return Expect(OrderStatus.Fulfilled);
    }

    public OrderHarness Cancelled()
    {
        Accepted();
        CancelInShopify();
        Succeed("cancelOrder");
        return Expect(OrderStatus.Cancelled);
    }

    private OrderHarness Expect(OrderStatus status)
    {
        Assert.Equal(status, S.Status);
        return this;
    }
}
