using System.Collections.Immutable;

namespace RetailSync.Orders;

[GenerateSerializer, Alias("RetailSync.Orders.OrderCountsState")]
public sealed class OrderCountsState
{
    /// <summary>Each order's latest known status: a count by status is the current state, not a count of entries.</summary>
    [Id(0)] public Dictionary<string, OrderMark> Orders { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The latest acceptance latencies (intake to ERP booking), oldest first, at most <see cref="OrderCountsProjection.LatencySamples"/>.</summary>
    [Id(1)] public List<double> Acceptance { get; set; } = [];

    [Id(2)] public DateTimeOffset? AsOf { get; set; }
    [Id(3)] public long EventsApplied { get; set; }
    [Id(4)] public DateTimeOffset? StoredAt { get; set; }
}

[GenerateSerializer, Alias("RetailSync.Orders.OrderMark")]
public sealed class OrderMark
{
    [Id(0)] public string Tenant { get; set; } = "";
    [Id(1)] public OrderStatus Status { get; set; }
    [Id(2)] public int Sequence { get; set; }

    /// <summary>The order's acceptance latency is among the samples (counted once, whatever is delivered twice).</summary>
    [Id(3)] public bool AcceptanceCounted { get; set; }
}

/// <summary>
/// The rules of the orders-by-status projection, with no I/O. Events may come twice (an order publishes again what a
/// crash may have kept from the stream) and out of order: each order's change carries its sequence, and only a newer
/// one moves it.
/// </summary>
public static class OrderCountsProjection
{
    public const int LatencySamples = 10_000;

    /// <summary>Applies an event; false when it changed nothing (a repeat, an older change).</summary>
    public static bool Apply(OrderCountsState s, OrderEvent e)
    {
        var changed = e switch
        {
            OrderStatusChanged c => Move(s, c),
            OrderAccepted a => Accepted(s, a),
            _ => false,
        };
        if (changed)
        {
            s.EventsApplied++;
            if (s.AsOf is null || e.At > s.AsOf)
            {
                s.AsOf = e.At;
            }
        }

        return changed;
    }

    private static bool Move(OrderCountsState s, OrderStatusChanged c)
    {
        if (s.Orders.TryGetValue(c.Order, out var mark))
        {
            if (c.Sequence <= mark.Sequence)
            {
                return false;
            }

            mark.Status = c.To;
            mark.Sequence = c.Sequence;
            return true;
        }

        s.Orders[c.Order] = new OrderMark { Tenant = c.Tenant, Status = c.To, Sequence = c.Sequence };
        return true;
    }

    private static bool Accepted(OrderCountsState s, OrderAccepted a)
    {
        if (s.Orders.TryGetValue(a.Order, out var mark) && mark.AcceptanceCounted)
        {
            return false;
        }

        if (mark is null)
        {
            // The acceptance came before the status change it goes with: the status follows in its own event.
            mark = s.Orders[a.Order] = new OrderMark { Tenant = a.Tenant, Status = OrderStatus.Received, Sequence = -1 };
        }

        mark.AcceptanceCounted = true;
        s.Acceptance.Add(Math.Max(0, a.SinceReceived.TotalMilliseconds));
        if (s.Acceptance.Count > LatencySamples)
        {
            s.Acceptance.RemoveRange(0, s.Acceptance.Count - LatencySamples);
        }

        return true;
    }

    public static OrderCounts Counts(OrderCountsState s)
    {
        var known = s.Orders.Values.Where(m => m.Sequence >= 0).ToList();
        var byStatus = known.GroupBy(m => m.Status).ToImmutableDictionary(g => g.Key.ToString(), g => (long)g.Count());
        var byTenant = known.GroupBy(m => m.Tenant, StringComparer.Ordinal).ToImmutableDictionary(
            t => t.Key, t => t.GroupBy(m => m.Status).ToImmutableDictionary(g => g.Key.ToString(), g => (long)g.Count()));
        var sorted = s.Acceptance.Order().ToArray();
        return new OrderCounts(byStatus, byTenant, Percentile(sorted, 0.5), Percentile(sorted, 0.99), s.AsOf, s.StoredAt, s.EventsApplied);
    }

    public static double? Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? null : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
