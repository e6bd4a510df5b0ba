namespace RetailSync.Intake;

public static class DurableWrites
{
    /// <summary>
    /// Writes the grain's state; if the write fails, the in-memory state holds changes that storage
    /// does not, so the activation is dropped and the next call starts again from what is stored.
    /// Without this a retried delivery would look like a duplicate of one that was never recorded.
    /// </summary>
    public static async Task WriteOrForgetAsync<T>(this IGrainBase grain, IPersistentState<T> state)
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            grain.DeactivateOnIdle();
            throw;
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
