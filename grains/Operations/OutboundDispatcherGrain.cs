using System.Collections.Immutable;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using RetailSync.Connectors;

namespace RetailSync.Operations;

/// <summary>
/// Per-system outbound queue (design section 4, "per-system outbound dispatcher"). Reentrant: while
/// vendor calls are awaited, new commands keep arriving; every change to the queue happens between
/// awaits, on the activation's single thread. The pace is the cluster-wide rate budget inside each
/// adapter's pipeline: <see cref="OutboundOptions.Concurrency"/> calls wait there at most, the rest
/// wait here, where they are visible as backlog and can be batched.
/// </summary>
[Reentrant]
public sealed partial class OutboundDispatcherGrain(
    OutboundExecutor executor,
    IOptions<OutboundOptions> options,
    TimeProvider clock,
    ILogger<OutboundDispatcherGrain> logger) : Grain, IOutboundDispatcherGrain
{
    /// <summary>Finished commands remembered, so that an owner's resend is answered without a vendor call.</summary>
    private const int RecentLimit = 20_000;

    /// <summary>How far into the queue a batch looks for commands of its group.</summary>
    private const int BatchScan = 2_000;

    private readonly LinkedList<Work> ready = new();
    private readonly PriorityQueue<Work, DateTimeOffset> waiting = new();
    private readonly Dictionary<string, Work> known = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (CommandView View, DateTimeOffset At)> recent = new(StringComparer.Ordinal);
    private readonly Queue<string> recentOrder = new();
    private readonly Dictionary<string, long> batchSizes = new(StringComparer.Ordinal);
    private int running;
    private long succeeded;
    private long failed;
    private long retried;
    private long calls;
    private IGrainTimer? wake;
    private DateTimeOffset? wakeAt;
    private int consecutiveFailures;
    private DateTimeOffset pausedUntil = DateTimeOffset.MinValue;

    /// <summary>Whole calls failing in a row before the queue pauses: an outage, not a bad command.</summary>
    private const int PauseAfter = 3;

    private sealed class Work(DispatchItem item, string? group)
    {
        public DispatchItem Item { get; set; } = item;

        public string? Group { get; } = group;

        public int Attempts { get; set; }

        public string? LastError { get; set; }

        public DateTimeOffset? DueAt { get; set; }
    }

    public Task EnqueueAsync(ImmutableArray<DispatchItem> items)
    {
        foreach (var item in items)
        {
            if (recent.TryGetValue(item.Key, out var finished) && item.PlannedAt <= finished.At)
            {
                // Finished already (the owner missed the outcome or sent it again after a crash): tell it again.
                Tell(item.Command.ReplyTo, finished.View);
            }
            else if (!known.ContainsKey(item.Key))
            {
                // Planned after it last finished: an operator's retry, a new run of the same command.
                recent.Remove(item.Key);
                var work = new Work(item, OutboundExecutor.BatchGroup(item.Command));
                known[item.Key] = work;
                if (OutboundExecutor.Urgent(item.Command))
                {
                    // What the storefront may sell goes before tags and notes queued behind a burst of orders.
                    ready.AddFirst(work);
                }
                else
                {
                    ready.AddLast(work);
                }
            }
        }

        // Queued work lives in memory only: keep this activation while there is any.
        DelayDeactivation(TimeSpan.FromMinutes(30));
        Pump();
        return Task.CompletedTask;
    }

    public Task<DispatcherView> GetAsync() => Task.FromResult(new DispatcherView(
        this.GetPrimaryKeyString(), ready.Count + waiting.Count, running,
        known.Count == 0 ? null : known.Values.Min(w => w.Item.PlannedAt),
        succeeded, failed, retried, calls, batchSizes.ToImmutableDictionary()));

    private void Pump()
    {
        var now = clock.GetUtcNow();
        while (waiting.TryPeek(out var due, out var at) && at <= now)
        {
            waiting.Dequeue();
            due.DueAt = null;
            ready.AddLast(due);
        }

        if (now < pausedUntil)
        {
            // The system looks down: nothing is tried until the pause ends (one probe call then).
            Wake(pausedUntil, now);
            return;
        }

        while (running < Math.Max(1, options.Value.Concurrency) && ready.Count > 0)
        {
            var batch = TakeBatch();
            running++;
            // Runs on this activation's scheduler; its awaits let other calls in (reentrant).
            _ = RunAsync(batch);
        }

        if (waiting.TryPeek(out _, out var next))
        {
            Wake(next, now);
        }
    }

    private void Wake(DateTimeOffset at, DateTimeOffset now)
    {
        if (wakeAt is { } scheduled && scheduled <= at)
        {
            return;
        }

        wake?.Dispose();
        wakeAt = at;
        wake = this.RegisterGrainTimer(() =>
        {
            wakeAt = null;
            Pump();
            return Task.CompletedTask;
        }, new GrainTimerCreationOptions(Max(at - now, TimeSpan.Zero), Timeout.InfiniteTimeSpan) { KeepAlive = true });
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private List<Work> TakeBatch()
    {
        var first = ready.First!;
        ready.RemoveFirst();
        var batch = new List<Work> { first.Value };
        if (first.Value.Group is { } group)
        {
            var limit = Math.Max(1, options.Value.BatchSizeFor(this.GetPrimaryKeyString()));
            var node = ready.First;
            for (var scanned = 0; node is not null && batch.Count < limit && scanned < BatchScan; scanned++)
            {
                var next = node.Next;
                if (node.Value.Group == group)
                {
                    batch.Add(node.Value);
                    ready.Remove(node);
                }

                node = next;
            }
        }

        return batch;
    }

    private async Task RunAsync(List<Work> batch)
    {
        IReadOnlyList<BatchOutcome> outcomes;
        try
        {
            foreach (var work in batch)
            {
                work.Attempts++;
            }

            calls++;
            var size = batch.Count switch { 1 => "1", <= 10 => "2-10", <= 50 => "11-50", _ => "51+" };
            batchSizes[size] = batchSizes.GetValueOrDefault(size) + 1;
            outcomes = await executor.ExecuteBatchAsync([.. batch.Select(w => w.Item.Command)], CancellationToken.None);
        }
        catch (Exception ex)
        {
            outcomes = [.. batch.Select(_ => new BatchOutcome(null, ex))];
        }
        finally
        {
            running--;
        }

        foreach (var (work, outcome) in batch.Zip(outcomes))
        {
            Settle(work, outcome);
        }

        // Every command of the call failed transiently: count towards an outage; any success ends it.
        if (outcomes.All(o => o.Error is not null and not ConnectorException { Kind: FailureKind.Permanent }))
        {
            if (++consecutiveFailures >= PauseAfter)
            {
                pausedUntil = clock.GetUtcNow() + Backoff(consecutiveFailures - PauseAfter + 1);
            }
        }
        else if (outcomes.Any(o => o.Result is not null))
        {
            consecutiveFailures = 0;
        }

        Pump();
    }

    private void Settle(Work work, BatchOutcome outcome)
    {
        var o = options.Value;
        if (outcome.Result is { } result)
        {
            succeeded++;
            Finish(work, new CommandView(work.Item.Key, work.Item.Command, CommandStatus.Succeeded, work.Attempts, null, result.Summary, null,
                result.ExternalId, result.ExternalStatus, null, result.Data));
            return;
        }

        var error = outcome.Error!;
        var permanent = error is ConnectorException { Kind: FailureKind.Permanent };
        work.LastError = error is ConnectorException ? error.Message : error.GetType().Name + ": " + error.Message;
        if (!permanent && work.Attempts < o.MaxAttempts)
        {
            retried++;
            var delay = Backoff(work.Attempts);
            work.DueAt = clock.GetUtcNow() + delay;
            waiting.Enqueue(work, work.DueAt.Value);
            LogRetrying(logger, work.Item.Key, work.Attempts, delay.TotalMilliseconds, work.LastError);
            Tell(work.Item.Command.ReplyTo, View(work, CommandStatus.Retrying, null));
            return;
        }

        failed++;
        Finish(work, View(work, CommandStatus.Failed, error is ConnectorException c ? c.VendorCode : error.GetType().Name));
    }

    private CommandView View(Work work, string status, string? vendorCode) =>
        new(work.Item.Key, work.Item.Command, status, work.Attempts, work.LastError, null, work.DueAt, null, null, vendorCode);

    private void Finish(Work work, CommandView view)
    {
        known.Remove(work.Item.Key);
        recent[work.Item.Key] = (view, clock.GetUtcNow());
        recentOrder.Enqueue(work.Item.Key);
        while (recentOrder.Count > RecentLimit)
        {
            recent.Remove(recentOrder.Dequeue());
        }

        Tell(work.Item.Command.ReplyTo, view);
    }

    private void Tell(string? owner, CommandView view)
    {
        if (owner is not null)
        {
            // One-way: the owner persists the outcome; if that fails it sends the command again and hears it from `recent`.
            GrainFactory.GetGrain<ICommandOwner>(GrainId.Parse(owner)).CommandEndedOrRetrying(view).Ignore();
        }
    }

    private TimeSpan Backoff(int attempt) => options.Value.Backoff(attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbound {Key}: attempt {Attempt} failed transiently, next in {DelayMs} ms: {Error}")]
    private static partial void LogRetrying(ILogger logger, string key, int attempt, double delayMs, string error);
}

internal static class CommandOwnerExtensions
{
    public static Task CommandEndedOrRetrying(this ICommandOwner owner, CommandView view) =>
        view.Status == CommandStatus.Retrying ? owner.CommandRetryingAsync(view) : owner.CommandEndedAsync(view);
}
