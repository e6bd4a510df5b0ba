using System.Collections.Immutable;

namespace RetailSync.Operations;

public sealed class KpiGrain(TimeProvider clock) : Grain, IKpiGrain
{
    private const int LatencySamples = 10_000;
    private readonly Dictionary<string, Dictionary<string, DateTimeOffset>> pending = [];
    private readonly Dictionary<string, (long Succeeded, long Failed)> ended = [];
    private readonly Dictionary<string, long> statuses = [];
    private readonly Queue<double> acceptance = new();

    public Task CommandStartedAsync(string system, string key, DateTimeOffset at)
    {
        if (!pending.TryGetValue(system, out var keys))
        {
            pending[system] = keys = [];
        }

        keys.TryAdd(key, at);
        return Task.CompletedTask;
    }

    public Task CommandEndedAsync(string system, string key, bool succeeded, DateTimeOffset at)
    {
        if (pending.TryGetValue(system, out var keys))
        {
            keys.Remove(key);
        }

        var (s, f) = ended.GetValueOrDefault(system);
        ended[system] = succeeded ? (s + 1, f) : (s, f + 1);
        return Task.CompletedTask;
    }

    public Task OrderStatusChangedAsync(string status, TimeSpan sinceReceived)
    {
        statuses[status] = statuses.GetValueOrDefault(status) + 1;
        if (status == "Accepted")
        {
            acceptance.Enqueue(sinceReceived.TotalMilliseconds);
            if (acceptance.Count > LatencySamples)
            {
                acceptance.Dequeue();
            }
        }

        return Task.CompletedTask;
    }

    public Task<KpiSnapshot> GetAsync()
    {
        var now = clock.GetUtcNow();
        var systems = pending.Keys.Union(ended.Keys).ToImmutableDictionary(system => system, system =>
        {
            var keys = pending.GetValueOrDefault(system) ?? [];
            var (s, f) = ended.GetValueOrDefault(system);
            return new SystemBacklog(keys.Count, keys.Count == 0 ? 0 : (now - keys.Values.Min()).TotalSeconds, s, f);
        });
        var sorted = acceptance.Order().ToArray();
        double? Percentile(double p) => sorted.Length == 0 ? null : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
        return Task.FromResult(new KpiSnapshot(now, systems, statuses.ToImmutableDictionary(), Percentile(0.5), Percentile(0.99)));
    }
}
