using System.Diagnostics;

namespace RetailSync.Benchmarks;

/// <summary>A closed-loop load: N workers each send one request at a time for a fixed duration.</summary>
public static class LoadGenerator
{
    public static async Task<LoadResult> RunAsync(string name, int concurrency, TimeSpan warmup, TimeSpan duration,
        Func<int, long, Task<bool>> send)
    {
        var total = warmup + duration;
        var clock = Stopwatch.StartNew();
        long sequence = 0;
        var latencies = new List<double>[concurrency];
        var failures = new long[concurrency];
        var workers = Enumerable.Range(0, concurrency).Select(async worker =>
        {
            var mine = latencies[worker] = new List<double>(100_000);
            while (clock.Elapsed < total)
            {
                var n = Interlocked.Increment(ref sequence);
                var started = clock.Elapsed;
                var ok = await send(worker, n);
                var finished = clock.Elapsed;
                if (started < warmup)
                {
                    continue;
                }

                if (ok)
                {
                    mine.Add((finished - started).TotalMilliseconds);
                }
                else
                {
                    failures[worker]++;
                }
            }
        }).ToList();
        await Task.WhenAll(workers);
        var measuredSeconds = (clock.Elapsed - warmup).TotalSeconds;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return new LoadResult(name, concurrency, all.Length, failures.Sum(), measuredSeconds, all.Length / measuredSeconds,
            Percentile(all, 0.50), Percentile(all, 0.99));
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}

public sealed record LoadResult(string Name, int Concurrency, long Succeeded, long Failed, double Seconds, double PerSecond, double P50Ms, double P99Ms);
