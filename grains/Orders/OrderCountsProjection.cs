using System.Collections.Immutable;
using RetailSync.Platform;

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

/// <summary>One order as the projection knows it: a value in the projection's dictionary, not an object per order.</summary>
/// <param name="AcceptanceCounted">The order's acceptance latency is among the samples (counted once, whatever is delivered twice).</param>
[GenerateSerializer, Immutable, Alias("RetailSync.Orders.OrderMark")]
public readonly record struct OrderMark(
    [property: Id(0)] string Tenant,
    [property: Id(1)] OrderStatus Status,
    [property: Id(2)] int Sequence,
    [property: Id(3)] bool AcceptanceCounted);

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

            s.Orders[c.Order] = mark with { Status = c.To, Sequence = c.Sequence };
            return true;
        }

        s.Orders[c.Order] = new OrderMark(Tenant(c), c.To, c.Sequence, AcceptanceCounted: false);
        return true;
    }

    // Tenants are few and every order names one: one string each, not one per order.
    private static string Tenant(OrderEvent e) => string.Intern(e.Tenant);

    private static bool Accepted(OrderCountsState s, OrderAccepted a)
    {
        var known = s.Orders.TryGetValue(a.Order, out var mark);
        if (known && mark.AcceptanceCounted)
        {
            return false;
        }

        // Unknown: the acceptance came before the status change it goes with, which follows in its own event.
        s.Orders[a.Order] = known ? mark with { AcceptanceCounted = true } : new OrderMark(Tenant(a), OrderStatus.Received, -1, AcceptanceCounted: true);
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
        return new OrderCounts(byStatus, byTenant, Percentiles.Of(sorted, 0.5), Percentiles.Of(sorted, 0.99), s.AsOf, s.StoredAt, s.EventsApplied);
    }
}
