using System.Collections.Immutable;
using Microsoft.Extensions.Options;
using RetailSync.Operations;

namespace RetailSync.Outbox;

/// <summary>
/// Which owners (grain ids) have unfinished outbound commands. An owner adds itself after the write
/// that planned commands and removes itself when its outbox is drained; the sweeper wakes owners
/// that stay listed too long. This is the durable pointer that replaces a reminder per entity.
/// </summary>
public interface IOutboxIndex
{
    Task AddAsync(string owner);

    /// <summary>Removal is not awaited by owners: a stale entry costs one needless nudge.</summary>
    Task RemoveAsync(string owner);

    Task<IReadOnlyList<string>> ListOlderThanAsync(DateTimeOffset before, int limit);
}

/// <summary>The embedded default's index: a memory grain.</summary>
public sealed class GrainOutboxIndex(IGrainFactory grains) : IOutboxIndex
{
    private IOutboxIndexGrain Index => grains.GetGrain<IOutboxIndexGrain>("outbox");

    public Task AddAsync(string owner) => Index.AddAsync(owner);

    public Task RemoveAsync(string owner) => Index.RemoveAsync(owner);

    public async Task<IReadOnlyList<string>> ListOlderThanAsync(DateTimeOffset before, int limit) => await Index.ListOlderThanAsync(before, limit);
}

public sealed class OutboxIndexGrain(TimeProvider clock) : Grain, IOutboxIndexGrain
{
    private readonly Dictionary<string, DateTimeOffset> owners = new(StringComparer.Ordinal);

    public Task AddAsync(string owner)
    {
        owners.TryAdd(owner, clock.GetUtcNow());
        return Task.CompletedTask;
    }

    public Task RemoveAsync(string owner)
    {
        owners.Remove(owner);
        return Task.CompletedTask;
    }

    public Task<ImmutableArray<string>> ListOlderThanAsync(DateTimeOffset before, int limit) =>
        Task.FromResult<ImmutableArray<string>>([.. owners.Where(o => o.Value < before).OrderBy(o => o.Value).Take(limit).Select(o => o.Key)]);
}

public sealed partial class OutboxSweeperGrain(IOutboxIndex index, IOptions<OutboundOptions> options, TimeProvider clock, ILogger<OutboxSweeperGrain> logger)
    : Grain, IOutboxSweeperGrain, IRemindable
{
    private const string SweepReminder = "sweep";
    private const int Limit = 50_000;

    private IGrainTimer? timer;

    public async Task StartAsync()
    {
        // The reminder brings this grain back after its silo dies (reminders tick at most once a
        // minute); while active, a timer sweeps at the configured period, which may be shorter.
        var period = options.Value.SweepPeriod;
        var reminderPeriod = period < TimeSpan.FromMinutes(1) ? TimeSpan.FromMinutes(1) : period;
        await this.RegisterOrUpdateReminder(SweepReminder, reminderPeriod, reminderPeriod);
        StartTimer();
        await SweepAsync();
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        StartTimer();
        await SweepAsync();
    }

    private void StartTimer() =>
        timer ??= this.RegisterGrainTimer(async () => await SweepAsync(),
            new GrainTimerCreationOptions(options.Value.SweepPeriod, options.Value.SweepPeriod) { KeepAlive = true });

    public async Task<int> SweepAsync()
    {
        var owners = await index.ListOlderThanAsync(clock.GetUtcNow() - options.Value.SweepAge, Limit);
        foreach (var owner in owners)
        {
            // One-way: an owner that is slow to activate must not hold up the others.
            GrainFactory.GetGrain<ICommandOwner>(GrainId.Parse(owner)).ResumeAsync().Ignore();
        }

        if (owners.Count > 0)
        {
            LogSwept(logger, owners.Count);
        }

        return owners.Count;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbox sweep: nudged {Count} owner(s) with commands unfinished for longer than the sweep age")]
    private static partial void LogSwept(ILogger logger, int count);
}
