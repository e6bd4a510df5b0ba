using System.Collections.Immutable;
using Orleans.Concurrency;

namespace RetailSync.Operations;

/// <summary>
/// Operational figures (key <c>kpis</c>), fed one-way by the grains that do the work so that
/// counting never slows them. In memory: a projection that restarts empty with its silo.
/// </summary>
[Alias("RetailSync.Operations.IKpiGrain")]
public interface IKpiGrain : IGrainWithStringKey
{
    [OneWay, Alias("CommandStarted")]
    Task CommandStartedAsync(string system, string key, DateTimeOffset at);

    [OneWay, Alias("CommandEnded")]
    Task CommandEndedAsync(string system, string key, bool succeeded, DateTimeOffset at);

    [OneWay, Alias("OrderStatusChanged")]
    Task OrderStatusChangedAsync(string status, TimeSpan sinceReceived);

    [Alias("Get")]
    Task<KpiSnapshot> GetAsync();
}

[GenerateSerializer, Immutable, Alias("RetailSync.Operations.SystemBacklog")]
public sealed record SystemBacklog(
    [property: Id(0)] int Pending,
    [property: Id(1)] double OldestPendingSeconds,
    [property: Id(2)] long Succeeded,
    [property: Id(3)] long Failed);

[GenerateSerializer, Immutable, Alias("RetailSync.Operations.KpiSnapshot")]
public sealed record KpiSnapshot(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] ImmutableDictionary<string, SystemBacklog> Backlog,
    [property: Id(2)] ImmutableDictionary<string, long> OrdersByStatus,
    [property: Id(3)] double? AcceptanceP50Ms,
    [property: Id(4)] double? AcceptanceP99Ms);
