namespace RetailSync.Orders;

public static class OrderStatuses
{
    /// <summary>Statuses in which goods have left the warehouse: a cancellation can no longer be carried out by the ERP.</summary>
    public static bool Shipped(OrderStatus status) => status is OrderStatus.PartiallyFulfilled or OrderStatus.Fulfilled;
}

public enum OrderTrigger
{
    SubmitToErp,
    ErpAccepted,
    ErpBackordered,
    ErpRejected,
    ErpOnHold,
    ShippedPartially,
    ShippedFully,
    Cancel,
    Refund,

    /// <summary>The oversell guard found too little available-to-sell for a line: the order waits for stock.</summary>
    StockShort,

    /// <summary>The stock a waiting order needed was reserved for it: it goes to the ERP.</summary>
    StockReserved,
}

/// <summary>The order lifecycle in one table: every legal transition is listed, everything else is refused.</summary>
public static class OrderStateMachine
{
    private static readonly Dictionary<(OrderStatus From, OrderTrigger Trigger), OrderStatus> Transitions = Build();

    public static IEnumerable<(OrderStatus From, OrderTrigger Trigger, OrderStatus To)> Legal =>
        Transitions.Select(t => (t.Key.From, t.Key.Trigger, t.Value));

    public static bool TryFire(OrderStatus from, OrderTrigger trigger, out OrderStatus to) => Transitions.TryGetValue((from, trigger), out to);

    private static Dictionary<(OrderStatus, OrderTrigger), OrderStatus> Build()
    {
        var t = new Dictionary<(OrderStatus, OrderTrigger), OrderStatus>
        {
            [(OrderStatus.Received, OrderTrigger.SubmitToErp)] = OrderStatus.SubmittedToErp,
            [(OrderStatus.SubmittedToErp, OrderTrigger.ErpAccepted)] = OrderStatus.Accepted,
            [(OrderStatus.SubmittedToErp, OrderTrigger.ErpBackordered)] = OrderStatus.Backordered,
            [(OrderStatus.SubmittedToErp, OrderTrigger.ErpRejected)] = OrderStatus.Rejected,
            [(OrderStatus.SubmittedToErp, OrderTrigger.ErpOnHold)] = OrderStatus.OnHold,
            [(OrderStatus.OnHold, OrderTrigger.ErpAccepted)] = OrderStatus.Accepted,
            [(OrderStatus.OnHold, OrderTrigger.ErpRejected)] = OrderStatus.Rejected,
            [(OrderStatus.Backordered, OrderTrigger.ErpAccepted)] = OrderStatus.Accepted,
            // The ERP may take back an allocation (stock found damaged) or hold an accepted order (credit review).
            [(OrderStatus.Accepted, OrderTrigger.ErpBackordered)] = OrderStatus.Backordered,
            [(OrderStatus.Accepted, OrderTrigger.ErpOnHold)] = OrderStatus.OnHold,
            // An operator fixed the cause and replayed the submission from the exception queue.
            [(OrderStatus.Rejected, OrderTrigger.ErpAccepted)] = OrderStatus.Accepted,
            // The oversell guard holds the submission until the stock is reserved.
            [(OrderStatus.SubmittedToErp, OrderTrigger.StockShort)] = OrderStatus.Backordered,
            [(OrderStatus.Backordered, OrderTrigger.StockReserved)] = OrderStatus.SubmittedToErp,
        };
        foreach (var from in new[] { OrderStatus.Accepted, OrderStatus.Backordered, OrderStatus.PartiallyFulfilled })
        {
            t[(from, OrderTrigger.ShippedPartially)] = OrderStatus.PartiallyFulfilled;
            t[(from, OrderTrigger.ShippedFully)] = OrderStatus.Fulfilled;
        }

        // Not from Received: an order leaves it in the decision that creates it (a first payload that is
        // cancelled already is submitted, then cancelled).
        foreach (var from in new[] { OrderStatus.SubmittedToErp, OrderStatus.Accepted, OrderStatus.Backordered, OrderStatus.OnHold, OrderStatus.Rejected })
        {
            t[(from, OrderTrigger.Cancel)] = OrderStatus.Cancelled;
        }

        foreach (var from in new[] { OrderStatus.Accepted, OrderStatus.PartiallyFulfilled, OrderStatus.Fulfilled, OrderStatus.Cancelled })
        {
            t[(from, OrderTrigger.Refund)] = OrderStatus.Refunded;
        }

        return t;
    }
}
