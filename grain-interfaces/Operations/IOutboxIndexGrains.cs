using System.Collections.Immutable;

namespace RetailSync.Operations;

/// <summary>
/// The outbox index of the embedded default (key <c>outbox</c>): which owners have unfinished
/// commands, in memory like the rest of that mode. Cluster mode keeps the index in PostgreSQL.
/// </summary>
[Alias("RetailSync.Operations.IOutboxIndexGrain")]
public interface IOutboxIndexGrain : IGrainWithStringKey
{
    [Alias("Add")]
    Task AddAsync(string owner);

    [Alias("Remove")]
    Task RemoveAsync(string owner);

    [Alias("ListOlderThan")]
    Task<ImmutableArray<string>> ListOlderThanAsync(DateTimeOffset before, int limit);
}

/// <summary>
/// Wakes owners whose commands stayed unfinished (one per cluster, key <c>outbox</c>, driven by a
/// reminder): after a crash took an owner's activation and its queued commands with it, nobody
/// else would call it again.
/// </summary>
[Alias("RetailSync.Operations.IOutboxSweeperGrain")]
public interface IOutboxSweeperGrain : IGrainWithStringKey
{
    /// <summary>Registers the reminder (idempotent) and sweeps once.</summary>
    [Alias("Start")]
    Task StartAsync();

    /// <summary>Nudges every owner waiting longer than the configured age; returns how many.</summary>
    [Alias("Sweep")]
    Task<int> SweepAsync();
}
