using RetailSync.Customers;
using RetailSync.Inventory;
using RetailSync.Model;
using RetailSync.Operations;
using RetailSync.Outbox;

namespace RetailSync.Orders;

/// <summary>What the ERP submission waits for: the stock reservation (the oversell guard) and the buyer's golden customer.</summary>
public static partial class OrderDecider
{
    /// <summary>The SKUs an order reserves, with their quantities.</summary>
    public static IEnumerable<(string Sku, int Quantity)> Reservations(Order order) =>
        order.Lines.Where(l => !string.IsNullOrEmpty(l.Sku) && l.Quantity > 0)
            .GroupBy(l => l.Sku!, StringComparer.Ordinal).Select(g => (g.Key, g.Sum(l => l.Quantity)));

    /// <summary>
    /// The oversell guard's decision once the SKUs answered: all reserved (or not tracked) lets the ERP submission go;
    /// any short holds the order: by configuration it is Backordered and waits in the SKU's queue, or an operator decides.
    /// </summary>
    public static OrderDecision StockAnswered(OrderState s, string orderKey, IReadOnlyDictionary<string, string> results, OrderRules rules, DateTimeOffset now)
    {
        if (s.Stock != StockHold.Pending)
        {
            return OrderDecision.Nothing();
        }

        foreach (var (sku, result) in results)
        {
            s.StockBySku[sku] = result;
        }

        var (status, planned) = (s.Status, s.Outbox.Entries.Count);
        var decision = DecideStock(s, orderKey, rules, now);
        // All reserved and nothing else changed: worked out again after a crash (the SKU answers Reserved for an order it holds).
        decision.Persist = s.Stock == StockHold.Reserved && s.Status == status && s.Outbox.Entries.Count == planned ? Persist.Later : Persist.Now;
        return decision;
    }

    /// <summary>A SKU's backorder queue reached this order: its quantity is reserved now.</summary>
    public static OrderDecision StockReservedLater(OrderState s, string orderKey, string sku, OrderRules rules, DateTimeOffset now)
    {
        if (s.Stock != StockHold.Short || !s.StockBySku.ContainsKey(sku))
        {
            return OrderDecision.Nothing();
        }

        s.StockBySku[sku] = ReservationResult.Reserved;
        return DecideStock(s, orderKey, rules, now);
    }

    public static string OversellKey(OrderState s) => $"order:oversell:{s.Shop}:{s.Order!.OrderId}";

    private static OrderDecision DecideStock(OrderState s, string orderKey, OrderRules rules, DateTimeOffset now)
    {
        var decision = new OrderDecision();
        var shortOf = s.StockBySku.Where(x => x.Value == ReservationResult.Short).Select(x => x.Key).ToList();
        if (shortOf.Count == 0)
        {
            var reserved = s.StockBySku.Where(x => x.Value == ReservationResult.Reserved).Select(x => x.Key).ToList();
            s.Journal.Record(now, "stock", reserved.Count == 0 ? "no SKU of the order has an ERP figure yet: nothing to reserve" : $"reserved {string.Join(", ", reserved)}", null);
            var waited = s.Stock == StockHold.Short;
            s.Stock = StockHold.Reserved;
            if (waited && s.Status == OrderStatus.Backordered)
            {
                Fire(s, orderKey, OrderTrigger.StockReserved, $"stock reserved for {string.Join(", ", reserved)}: submitting to the ERP", now);
            }
            else if (waited)
            {
                // Held for operations, and the stock came before they decided: their exception is answered.
                decision.Resolve.Add((OversellKey(s), $"stock reserved for {string.Join(", ", reserved)}: submitted to the ERP"));
            }

            return decision;
        }

        if (s.Stock == StockHold.Short)
        {
            return decision;
        }

        s.Stock = StockHold.Short;
        var why = $"not enough available to sell of {string.Join(", ", shortOf)}";
        if (rules.Oversell == OversellActions.Exception)
        {
            s.Journal.Record(now, "stock", $"{why}: held for operations (retry submits it anyway)", null);
            decision.Raise.Add(new OpsException(OversellKey(s), "inventory", "oversell", string.Join(",", shortOf), "OVERSELL",
                $"Order {s.Order!.Name ?? s.Order.OrderId}: {why}. Retry to submit it to the ERP anyway.", 0, null, OwnerKey(s), now, "Open", null, null));
            return decision;
        }

        FireAndPropagate(s, orderKey, OrderTrigger.StockShort, $"{why}: waits for stock", OversellKey(s), now);
        return decision;
    }

    /// <summary>A reservation could not be asked for (a SKU grain unreachable): said on the timeline, asked again.</summary>
    public static void StockNotAnswered(OrderState s, string error, DateTimeOffset now) =>
        s.Journal.Record(now, "stock", $"not reserved yet ({error}); tried again", null);

    /// <summary>What the SKUs are to learn of the order's reservations now: allocated by the ERP, or ended (null: nothing).</summary>
    public static (StockNotice Notice, List<string> Skus)? StockNoticeDue(OrderState s)
    {
        var holds = s.StockBySku.Where(x => x.Value is ReservationResult.Reserved or ReservationResult.Short).Select(x => x.Key).ToList();
        if (holds.Count == 0)
        {
            return null;
        }

        if (s.StockTold == StockNotice.None && s.Stock == StockHold.Reserved && s.Status is OrderStatus.Accepted or OrderStatus.PartiallyFulfilled or OrderStatus.Fulfilled)
        {
            return (StockNotice.Allocated, holds);
        }

        // An order that ends without the ERP (or after it, cancelled) gives its stock back.
        return s.StockTold != StockNotice.Released && s.Status is OrderStatus.Rejected or OrderStatus.Cancelled ? (StockNotice.Released, holds) : null;
    }

    /// <summary>
    /// The buyer's golden customer is known. An ERP submission not yet sent takes the golden id as its customer number;
    /// one already sent keeps the shop's fallback customer. Worked out again after a crash, so not written on its own.
    /// </summary>
    public static OrderDecision BuyerResolved(OrderState s, Resolution resolution, DateTimeOffset now)
    {
        if (s.Buyer != BuyerState.Pending)
        {
            return OrderDecision.Nothing();
        }

        s.Buyer = BuyerState.Resolved;
        s.GoldenCustomerId = resolution.GoldenId;
        s.Journal.Record(now, "identity", resolution.GoldenId is null ? resolution.Detail : $"buyer is golden customer {resolution.GoldenId} ({resolution.Detail})", null);
        if (resolution.GoldenId is { } golden && Submission(s) is { EndedAt: null, Sent: false } submit)
        {
            submit.Command = OutboundExecutor.Command("erp", SubmitOrder, OrderPropagation.ErpSubmission(s.Shop!, s.Order!, golden), submit.Command.CorrelationId);
        }

        return new OrderDecision { Persist = Persist.Later };
    }

    public static void BuyerNotResolved(OrderState s, string error, DateTimeOffset now) =>
        s.Journal.Record(now, "identity", $"buyer not resolved yet ({error})", null);

    /// <summary>
    /// The commands to hand to their dispatchers now: the oldest unfinished one per system (each system gets the order's
    /// changes in order). The ERP submission waits for the stock reservation (without a deadline), and for the CRM
    /// context and the buyer's golden customer while they are unfinished, at most <see cref="OrderRules.CrmContextWait"/>
    /// from its planning; <c>WakeAt</c> says when to look again.
    /// </summary>
    public static (List<OutboxEntry> Ready, DateTimeOffset? WakeAt) Sendable(OrderState s, OrderRules rules, DateTimeOffset now)
    {
        var ready = new List<OutboxEntry>();
        DateTimeOffset? wakeAt = null;
        foreach (var head in s.Outbox.HeadPerSystem())
        {
            if (head.Command.Operation != SubmitOrder)
            {
                ready.Add(head);
                continue;
            }

            if (s.Stock is StockHold.Pending or StockHold.Short)
            {
                // The oversell guard has no deadline: an order never reaches the ERP past zero without a decision.
                continue;
            }

            var contextOpen = s.Outbox.Entries.FirstOrDefault(e => e.Command.Operation == "context") is { EndedAt: null };
            if (contextOpen || s.Buyer == BuyerState.Pending)
            {
                var deadline = head.PlannedAt + rules.CrmContextWait;
                if (now < deadline)
                {
                    wakeAt = deadline;
                    continue;
                }

                if (!s.ContextWaitExpired)
                {
                    s.ContextWaitExpired = true;
                    s.Journal.Record(now, "decision", $"no {(s.Buyer == BuyerState.Pending ? "golden customer" : "CRM context")} within {rules.CrmContextWait.TotalSeconds:0.#} s: submitting to the ERP without it", head.Key);
                }
            }

            ready.Add(head);
        }

        return (ready, wakeAt);
    }

}
