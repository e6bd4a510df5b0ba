using System.Diagnostics;

namespace RetailSync.Testing;

/// <summary>Polling with a deadline: for effects that complete asynchronously, instead of sleeps.</summary>
public static class Eventually
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    public static async Task<T> SucceedsAsync<T>(Func<Task<T>> attempt, TimeSpan deadline, TimeSpan? interval = null)
    {
        var watch = Stopwatch.StartNew();
        Exception? last = null;
        while (watch.Elapsed < deadline)
        {
            try
            {
                return await attempt();
            }
            catch (Exception ex)
            {
                last = ex;
            }

            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(200));
        }

        throw new TimeoutException($"did not succeed within {deadline}", last);
    }

    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan deadline, string what)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < deadline)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(PollInterval);
        }

        throw new TimeoutException($"{what} did not happen within {deadline}");
    }

    /// <summary>Polls <paramref name="read"/> until it gives a value; null when <paramref name="deadlineUtc"/> passes first (the caller counts it).</summary>
    public static async Task<T?> ValueAsync<T>(Func<Task<T?>> read, DateTime deadlineUtc, TimeSpan? interval = null)
        where T : struct
    {
        while (true)
        {
            if (await read() is { } value)
            {
                return value;
            }

            if (DateTime.UtcNow >= deadlineUtc)
            {
                return null;
            }

            await Task.Delay(interval ?? PollInterval);
        }
    }
}
