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
