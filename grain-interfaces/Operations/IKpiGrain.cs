using System.Collections.Immutable;
using Orleans.Concurrency;

namespace RetailSync.Operations;

/// <summary>
/// Operational figures (key <c>kpis</c>). Orders by status and their acceptance latency are read from the order
/// stream's projection (stored; says when it last was); the outbound backlog from the dispatchers; refund and
/// inventory figures are fed one-way by the grains that do the work, in memory, restarting empty with their silo.
/// </summary>
[Alias("RetailSync.Operations.IKpiGrain")]
public interface IKpiGrain : IGrainWithStringKey
{
    /// <summary>A refund's credit memo went to the ERP (<paramref name="waiting"/>) or the ERP answered (not waiting).</summary>
    [OneWay, Alias("RefundWaitingOnErp")]
    Task RefundWaitingOnErpAsync(string refund, bool waiting, DateTimeOffset since);

    /// <summary>A refund's saga completed: from Shopify's webhook to the last system's confirmation.</summary>
    [OneWay, Alias("RefundCompleted")]
    Task RefundCompletedAsync(TimeSpan cycle);

    /// <summary>Inventory freshness: from the ERP's stock change to Shopify holding that value.</summary>
    [OneWay, Alias("InventoryFresh")]
    Task InventoryFreshAsync(TimeSpan sinceErpChange);

    [Alias("Get")]
    Task<KpiSnapshot> GetAsync();
}

[GenerateSerializer, Immutable, Alias("RetailSync.Operations.SystemBacklog")]
public sealed record SystemBacklog(
    [property: Id(0)] int Pending,
    [property: Id(1)] double OldestPendingSeconds,
    [property: Id(2)] long Succeeded,
    [property: Id(3)] long Failed,
    [property: Id(4)] int Running = 0,
    [property: Id(5)] long Retried = 0,
    [property: Id(6)] long VendorCalls = 0,
    [property: Id(7)] ImmutableDictionary<string, long>? BatchSizes = null);

[GenerateSerializer, Immutable, Alias("RetailSync.Operations.KpiSnapshot")]
public sealed record KpiSnapshot(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] ImmutableDictionary<string, SystemBacklog> Backlog,
    [property: Id(2)] ImmutableDictionary<string, long> OrdersByStatus,
    [property: Id(3)] double? AcceptanceP50Ms,
    [property: Id(4)] double? AcceptanceP99Ms,
    [property: Id(5)] long RefundsCompleted = 0,
    [property: Id(6)] double? RefundCycleP50Ms = null,
    [property: Id(7)] double? RefundCycleP99Ms = null,
    [property: Id(8)] ImmutableArray<RefundWaiting> RefundsWaitingOnErp = default,
    [property: Id(9)] double? InventoryFreshnessP50Ms = null,
    [property: Id(10)] double? InventoryFreshnessP99Ms = null,
    [property: Id(11)] ImmutableDictionary<string, ImmutableDictionary<string, long>>? OrdersByTenant = null,
    [property: Id(12)] DateTimeOffset? OrdersAsOf = null,
    [property: Id(13)] DateTimeOffset? OrdersStoredAt = null);

/// <summary>A refund whose credit memo the ERP has not confirmed yet (<c>{shop}/{refundId}</c>), and since when.</summary>
[GenerateSerializer, Immutable, Alias("RetailSync.Operations.RefundWaiting")]
public sealed record RefundWaiting(
    [property: Id(0)] string Refund,
    [property: Id(1)] DateTimeOffset Since,
    [property: Id(2)] double WaitingSeconds);
