using RetailSync.Operations;

namespace RetailSync.Outbox;

/// <summary>
/// The part of an outbox that lives with one activation: which commands it has handed to their dispatchers
/// (a new activation hands them again; the dispatcher answers a key it knows without a second vendor call),
/// the owner's entry in the outbox index (the sweeper wakes owners a crash left with unfinished commands), a
/// retry when a dispatcher cannot be reached, and the exception queue for commands that failed for good.
/// </summary>
public sealed class OutboxSender(Grain owner, IGrainFactory grains, IOutboxIndex index, Func<Task> resume)
{
    private static readonly TimeSpan HandRetry = TimeSpan.FromSeconds(2);

    // Created on the first hand-over: most activations of SKUs and customers never send anything.
    private HashSet<string>? handed;
    private bool listed;
    private IGrainTimer? retry;

    private string OwnerId => owner.GetGrainId().ToString();

    private IExceptionQueueGrain Queue => grains.GetGrain<IExceptionQueueGrain>("ops");

    /// <summary>A person erased from the owner's exceptions (see <see cref="IExceptionQueueGrain.RedactAsync"/>).</summary>
    public Task RedactExceptionsAsync(string ownerKey, IReadOnlyList<string> personalValues) => Queue.RedactAsync(ownerKey, [.. personalValues]);

    /// <summary>Lists the owner in the outbox index (once per activation) before its commands are handed over.</summary>
    public async Task ListAsync()
    {
        if (!listed)
        {
            await index.AddAsync(OwnerId);
            listed = true;
        }
    }

    /// <summary>
    /// The outbox is drained: off the index (not awaited; a stale entry costs one needless nudge). Only when this
    /// activation listed it, unless <paramref name="always"/> (a nudge from the sweeper finds an entry a crash left).
    /// </summary>
    public void Unlist(bool always = false)
    {
        if (listed || always)
        {
            listed = false;
            index.RemoveAsync(OwnerId).Ignore();
        }
    }

    /// <summary>
    /// Whether this activation handed the entry over as it stands: a reopened entry (<see cref="OutboxEntry.Reopen"/>
    /// clears <see cref="OutboxEntry.Sent"/>) counts as not handed, so an operator's retry goes out again.
    /// </summary>
    public bool WasHanded(OutboxEntry entry) => entry.Sent && handed?.Contains(entry.Key) == true;

    /// <summary>
    /// Hands the given unfinished commands to their dispatchers (those handed by this activation already only on a
    /// <paramref name="resend"/>). When a dispatcher cannot be reached the owner's resume runs again shortly; the
    /// index covers the case where the activation goes too. Returns whether every one was handed.
    /// </summary>
    public async Task<bool> HandAsync(IEnumerable<OutboxEntry> entries, bool resend)
    {
        var due = entries.Where(e => e.EndedAt is null && (resend || !WasHanded(e))).ToList();
        if (due.Count == 0)
        {
            return true;
        }

        try
        {
            await ListAsync();
            foreach (var entry in due)
            {
                await grains.GetGrain<IOutboundDispatcherGrain>(entry.Command.System)
                    .EnqueueAsync([new DispatchItem(entry.Key, entry.Command with { ReplyTo = OwnerId }, entry.PlannedAt)]);
                (handed ??= new(StringComparer.Ordinal)).Add(entry.Key);
                entry.Sent = true;
            }

            return true;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A dispatcher on a silo that just died, a timeout: try again shortly while active.
            RetrySoon();
            return false;
        }
    }

    /// <summary>Runs the owner's resume again shortly (a dependency that was not reachable, a dispatcher hand-over).</summary>
    public void RetrySoon()
    {
        retry?.Dispose();
        retry = owner.RegisterGrainTimer(async () =>
        {
            retry?.Dispose();
            retry = null;
            await resume();
        }, new GrainTimerCreationOptions(HandRetry, Timeout.InfiniteTimeSpan));
    }

    /// <summary>
    /// After <see cref="CommandOutbox.End"/>: a failure goes to the exception queue (with the owner, so its retry
    /// comes back here), a success after one resolves it there.
    /// </summary>
    public async Task SettleAsync(OutboxEntry entry, CommandView outcome, string ownerKey, DateTimeOffset now, bool raise = true)
    {
        handed?.Remove(entry.Key);
        if (!entry.Succeeded && raise)
        {
            entry.ExceptionRaised = true;
            await RaiseAsync(new OpsException(entry.Key, entry.Command.System, entry.Command.Operation, entry.Command.Payload, outcome.VendorCode,
                outcome.LastError ?? "failed", outcome.Attempts, entry.Command.CorrelationId, ownerKey, now, "Open", null, null));
        }
        else if (entry.Succeeded && entry.ExceptionRaised)
        {
            entry.ExceptionRaised = false;
            await Queue.ResolveAsync(entry.Key, $"succeeded on retry after {outcome.Attempts} attempt(s)");
        }
    }

    /// <summary>Raises an exception whose retry comes back to this owner.</summary>
    public Task RaiseAsync(OpsException exception) => Queue.RaiseAsync(exception with { Owner = OwnerId });

    public Task ResolveAsync(string id, string resolution) => Queue.ResolveAsync(id, resolution);
}
