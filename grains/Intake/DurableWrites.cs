using System.Runtime.CompilerServices;

namespace RetailSync.Intake;

public static class DurableWrites
{
    /// <summary>States whose last write failed: their activation holds changes that storage does not.</summary>
    private static readonly ConditionalWeakTable<object, object> Unrecorded = [];

    /// <summary>
    /// Writes the grain's state; if the write fails, the in-memory state holds changes that storage
    /// does not, so the activation is dropped and the next call starts again from what is stored.
    /// Without this a retried delivery would look like a duplicate of one that was never recorded.
    /// Until the activation is gone, it refuses to write or take deliveries: a later write would
    /// store the failed change after all (a delivery already answered 503), and its memory would
    /// answer "duplicate" to Shopify's retry of it.
    /// </summary>
    public static async Task WriteOrForgetAsync<T>(this IGrainBase grain, IPersistentState<T> state)
    {
        grain.EnsureRecorded(state);
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            Unrecorded.AddOrUpdate(state, state);
            grain.DeactivateOnIdle();
            throw;
        }
    }

    /// <summary>Throws when this activation's state holds an unrecorded change (see <see cref="WriteOrForgetAsync"/>).</summary>
    public static void EnsureRecorded<T>(this IGrainBase grain, IPersistentState<T> state)
    {
        if (Unrecorded.TryGetValue(state, out _))
        {
            grain.DeactivateOnIdle();
            throw new InvalidOperationException("This activation holds changes that could not be stored; it is being dropped. Retry.");
        }
    }
}

/// <summary>
/// Writes of a grain whose calls interleave. A change made while a write is in flight goes with the next
/// write, which starts when that one ends and carries every change made meanwhile: one write for many
/// changes, and never two writes at once (each must come from the version the last one stored). A caller's
/// task ends once a write that started after its change has succeeded. Interleaving is safe only where the
/// storage takes its copy in the grain's turn: the embedded storage keeps the object itself, and cluster mode
/// serializes before the first await (silo's TurnSerializedGrainStorage; Orleans' ADO.NET storage alone does it
/// later, off the turn).
/// </summary>
public sealed class SharedWrites<T>(IGrainBase grain, IPersistentState<T> state)
{
    // Held only while a write is in flight or waiting: an idle grain keeps no finished tasks.
    private Task? current;
    private Task? queued;

    public Task SaveAsync()
    {
        if (queued is not null)
        {
            return queued;
        }

        return current is { } inFlight ? queued = WriteAfterAsync(inFlight) : Start();
    }

    private async Task WriteAfterAsync(Task inFlight)
    {
        try
        {
            await inFlight;
        }
        catch (Exception)
        {
            // Its failure marked the state unrecorded: the write below refuses, and this change's callers hear so.
        }

        queued = null;
        await Start();
    }

    private Task Start()
    {
        var write = WriteAsync();
        current = write.IsCompleted ? null : write;
        return write;
    }

    private async Task WriteAsync()
    {
        try
        {
            await grain.WriteOrForgetAsync(state);
        }
        finally
        {
            current = null;
        }
    }
}

public static class Inbox
{
    /// <summary>
    /// The intake every entity grain follows: a delivery seen before is a duplicate; otherwise
    /// <paramref name="apply"/> decides and changes the state, and the outcome, the event id and a
    /// timeline entry are stored with it in one write.
    /// </summary>
    /// <param name="then">Decisions that follow from an applied delivery, recorded after it and stored in the same write.</param>
    public static async Task<IntakeOutcome> ReceiveAsync<T>(this IGrainBase grain, IPersistentState<T> state, Journal journal,
        ShopifyDelivery delivery, Func<IntakeOutcome> apply, Func<IntakeOutcome, string> describe, Action? then = null)
    {
        grain.EnsureRecorded(state);
        if (journal.HasSeen(delivery))
        {
            return IntakeOutcome.Duplicate;
        }

        var outcome = apply();
        journal.RecordDelivery(delivery, outcome, describe(outcome));
        if (outcome == IntakeOutcome.Applied)
        {
            then?.Invoke();
        }

        await grain.WriteOrForgetAsync(state);
        return outcome;
    }
}
