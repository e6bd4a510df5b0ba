using RetailSync.Intake;
using RetailSync.Operations;

namespace RetailSync.Outbox;

/// <summary>
/// The commands an entity has planned, stored in the entity's own state so that a change and the commands it
/// implies are persisted in one write. Pure bookkeeping: planning, ending and reopening entries; sending them
/// is <see cref="OutboxSender"/>'s job. Keys are idempotency keys: a key planned once is never planned twice.
/// </summary>
[GenerateSerializer, Alias("RetailSync.Outbox.CommandOutbox")]
public sealed class CommandOutbox
{
    // Most entities hold no command most of the time: the list exists only while it has entries.
    [Id(0)] public List<OutboxEntry>? EntriesStored { get; set; }

    public IReadOnlyList<OutboxEntry> Entries => EntriesStored ?? [];

    public IEnumerable<OutboxEntry> Unfinished => Entries.Where(e => e.EndedAt is null);

    public bool AnyUnfinished => Entries.Any(e => e.EndedAt is null);

    public OutboxEntry? Find(string key) => Entries.FirstOrDefault(e => e.Key == key);

    /// <summary>Plans a command under its idempotency key; null when that key is planned already.</summary>
    public OutboxEntry? Plan(string key, OutboundCommand command, DateTimeOffset now, string? group = null)
    {
        if (Find(key) is not null)
        {
            return null;
        }

        var entry = new OutboxEntry { Key = key, Command = command, PlannedAt = now, Group = group };
        (EntriesStored ??= []).Add(entry);
        return entry;
    }

    /// <summary>The oldest unfinished command of each system: one in flight per system keeps each system's changes in order.</summary>
    public IEnumerable<OutboxEntry> HeadPerSystem() =>
        Unfinished.GroupBy(e => e.Command.System, StringComparer.Ordinal).Select(g => g.First());

    /// <summary>Records a command's outcome; null when the key is unknown or has ended already (a repeated answer).</summary>
    public OutboxEntry? End(CommandView outcome, DateTimeOffset now)
    {
        if (Find(outcome.Key) is not { EndedAt: null } entry)
        {
            return null;
        }

        var succeeded = outcome.Status == CommandStatus.Succeeded;
        entry.EndedAt = now;
        entry.Succeeded = succeeded;
        entry.Attempts += outcome.Attempts;
        entry.Result = succeeded ? outcome.Result : outcome.LastError;
        return entry;
    }

    /// <summary>Makes a failed command pending again (an operator's retry); null unless the key names a failed command.</summary>
    public OutboxEntry? ReopenFailed(string key, DateTimeOffset now)
    {
        if (Find(key) is not { EndedAt: not null, Succeeded: false } entry)
        {
            return null;
        }

        entry.Reopen(now);
        return entry;
    }

    public void Remove(OutboxEntry entry)
    {
        EntriesStored?.Remove(entry);
        if (EntriesStored is { Count: 0 })
        {
            EntriesStored = null;
        }
    }

    /// <summary>Drops ended entries the predicate selects (their outcome is on the timeline already).</summary>
    public void RemoveEnded(Func<OutboxEntry, bool> which)
    {
        EntriesStored?.RemoveAll(e => e.EndedAt is not null && which(e));
        if (EntriesStored is { Count: 0 })
        {
            EntriesStored = null;
        }
    }

    /// <summary>
    /// Masks the person's values in the payloads of commands that have ended, and drops the unfinished ones when the
    /// owner sends nothing more of the person (an erased customer); an order's unsent ERP booking still has to go.
    /// </summary>
    public void Redact(IReadOnlyList<string> personalValues, bool dropUnfinished = false)
    {
        foreach (var entry in Entries.Where(e => e.EndedAt is not null))
        {
            entry.Command = entry.Command with { Payload = PersonalValues.MaskIn(entry.Command.Payload, personalValues) };
        }

        if (dropUnfinished)
        {
            foreach (var entry in Unfinished.ToList())
            {
                Remove(entry);
            }
        }
    }

    /// <summary>How an entry stands, in the shape the exception queue's retry answers with.</summary>
    public static CommandView View(OutboxEntry entry, string? error = null) =>
        new(entry.Key, entry.Command, entry.EndedAt is null ? CommandStatus.Pending : entry.Succeeded ? CommandStatus.Succeeded : CommandStatus.Failed,
            entry.Attempts, error ?? entry.Result, null, null);

    /// <summary>The state an operator reads: Planned, Sent, Succeeded or Failed.</summary>
    public static string StateOf(OutboxEntry entry) =>
        entry.EndedAt is null ? (entry.Sent ? "Sent" : "Planned") : entry.Succeeded ? "Succeeded" : "Failed";
}

[GenerateSerializer, Alias("RetailSync.Orders.OutboxEntry")]
public sealed class OutboxEntry
{
    [Id(0)] public string Key { get; set; } = "";
    [Id(1)] public OutboundCommand Command { get; set; } = null!;
    [Id(2)] public DateTimeOffset PlannedAt { get; set; }
    [Id(3)] public DateTimeOffset? EndedAt { get; set; }
    [Id(4)] public bool Succeeded { get; set; }

    /// <summary>Whether it was handed to its dispatcher; handing it again is harmless (same key).</summary>
    [Id(5)] public bool Sent { get; set; }

    /// <summary>Its failure is in the exception queue; a later success resolves it there.</summary>
    [Id(6)] public bool ExceptionRaised { get; set; }

    /// <summary>Vendor attempts over every run of it (operator retries add theirs).</summary>
    [Id(7)] public int Attempts { get; set; }

    /// <summary>The last outcome: the vendor's result, or its error.</summary>
    [Id(8)] public string? Result { get; set; }

    /// <summary>
    /// Makes a failed command pending again for an operator's retry: a new run, planned now, so the
    /// dispatcher does not answer with the failure it remembers.
    /// </summary>
    public void Reopen(DateTimeOffset now)
    {
        EndedAt = null;
        Sent = false;
        PlannedAt = now;
    }

    /// <summary>What the owner plans it as, where it plans several kinds (a refund's steps, compensations, return updates).</summary>
    [Id(9)] public string? Group { get; set; }
}
