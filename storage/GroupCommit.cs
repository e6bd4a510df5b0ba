using System.Threading.Channels;

namespace RetailSync.Storage;

/// <summary>
/// Group commit: each write takes whatever arrived while the previous one ran (up to a limit), so callers
/// arriving together share one round trip instead of queueing for one each.
/// </summary>
public static class GroupCommit
{
    /// <summary>Runs until <paramref name="reader"/> completes; <paramref name="write"/> answers its own callers, failures included.</summary>
    public static async Task RunAsync<T>(ChannelReader<T> reader, int maxBatch, Func<List<T>, Task> write)
    {
        var batch = new List<T>(maxBatch);
        while (await reader.WaitToReadAsync())
        {
            while (batch.Count < maxBatch && reader.TryRead(out var item))
            {
                batch.Add(item);
            }

            await write(batch);
            batch.Clear();
        }
    }
}
