using System.Collections.Immutable;
using RetailSync.Orders;
using RetailSync.Platform;

namespace RetailSync.Operations;

public sealed class KpiGrain(TimeProvider clock) : Grain, IKpiGrain
{
    private const int LatencySamples = 10_000;
    private static readonly string[] Systems = ["erp", "crm", "shopify"];
    private readonly Queue<double> refundCycles = new();
    private readonly Queue<double> freshness = new();

    public Task InventoryFreshAsync(TimeSpan sinceErpChange)
    {
        freshness.Enqueue(Math.Max(0, sinceErpChange.TotalMilliseconds));
        if (freshness.Count > LatencySamples)
        {
            freshness.Dequeue();
        }

        return Task.CompletedTask;
    }
    private readonly Dictionary<string, DateTimeOffset> refundsWaiting = new(StringComparer.Ordinal);
    private long refundsCompleted;

    public Task RefundWaitingOnErpAsync(string refund, bool waiting, DateTimeOffset since)
    {
        if (waiting)
        {
            refundsWaiting[refund] = since;
        }
        else
        {
            refundsWaiting.Remove(refund);
        }

        return Task.CompletedTask;
    }

    public Task RefundCompletedAsync(TimeSpan cycle)
    {
        refundsCompleted++;
        refundCycles.Enqueue(cycle.TotalMilliseconds);
        if (refundCycles.Count > LatencySamples)
        {
            refundCycles.Dequeue();
        }

        return Task.CompletedTask;
    }

    public async Task<KpiSnapshot> GetAsync()
    {
        var now = clock.GetUtcNow();
        // The backlog is the dispatchers' queues: the commands waiting for their system, and for how long.
        var views = await Task.WhenAll(Systems.Select(s => GrainFactory.GetGrain<IOutboundDispatcherGrain>(s).GetAsync()));
        var backlog = views.ToImmutableDictionary(v => v.System, v => new SystemBacklog(
            v.Queued + v.Running, v.OldestPlannedAt is { } oldest ? Math.Max(0, (now - oldest).TotalSeconds) : 0, v.Succeeded, v.Failed,
            v.Running, v.Retried, v.Calls, v.BatchSizes));
        var orders = await GrainFactory.GetGrain<IOrderCountsGrain>(OrderStreams.Key).GetAsync();
        var cycles = refundCycles.Order().ToArray();
        var fresh = freshness.Order().ToArray();
        return new KpiSnapshot(now, backlog, orders.ByStatus, orders.AcceptanceP50Ms, orders.AcceptanceP99Ms,
            refundsCompleted, Percentiles.Of(cycles, 0.5), Percentiles.Of(cycles, 0.99),
            [.. refundsWaiting.OrderBy(r => r.Value).Select(r => new RefundWaiting(r.Key, r.Value, Math.Max(0, (now - r.Value).TotalSeconds)))],
            Percentiles.Of(fresh, 0.5), Percentiles.Of(fresh, 0.99), orders.ByTenant, orders.AsOf, orders.StoredAt);
    }
}
