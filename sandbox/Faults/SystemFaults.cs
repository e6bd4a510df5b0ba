using System.Text.Json.Serialization;

namespace RetailSync.Sandbox.Faults;

/// <summary>What <c>POST /sandbox/faults</c> sets for one simulated system.</summary>
public sealed record FaultSettings(
    [property: JsonPropertyName("system")] string System,
    [property: JsonPropertyName("errorRate")] double ErrorRate = 0,
    [property: JsonPropertyName("latencyMs")] int LatencyMs = 0,
    [property: JsonPropertyName("rateLimitPerSecond")] int? RateLimitPerSecond = null,
    [property: JsonPropertyName("outage")] bool Outage = false);

/// <summary>
/// Per-system fault injection and traffic accounting. The sandbox measures what it received, so a
/// test can check the client's rate limiting against the server's own count.
/// </summary>
public sealed class SystemTraffic(string system, TimeProvider clock)
{
    private readonly object gate = new();
    private readonly Queue<DateTimeOffset> window = new();
    private readonly List<DateTimeOffset> all = [];
    private readonly List<DateTimeOffset> refusals = [];

    public string System { get; } = system;

    public FaultSettings Faults { get; private set; } = new(system);

    public long Requests { get; private set; }

    public long RejectedByRateLimit { get; private set; }

    public long InjectedErrors { get; private set; }

    private long servedTicks;
    private long served;

    /// <summary>Adds one request's time inside the sandbox (see <see cref="FaultFilter"/>).</summary>
    public void RecordServed(TimeSpan elapsed)
    {
        Interlocked.Add(ref servedTicks, elapsed.Ticks);
        Interlocked.Increment(ref served);
    }

    public void Set(FaultSettings faults)
    {
        lock (gate)
        {
            Faults = faults with { System = System };
        }
    }

    public void Reset()
    {
        lock (gate)
        {
            Faults = new FaultSettings(System);
            Requests = RejectedByRateLimit = InjectedErrors = 0;
            Interlocked.Exchange(ref servedTicks, 0);
            Interlocked.Exchange(ref served, 0);
            window.Clear();
            all.Clear();
            refusals.Clear();
        }
    }

    /// <summary>Counts a request; false when it exceeds the configured requests per second (sliding 1 s window).</summary>
    public bool Admit()
    {
        lock (gate)
        {
            var now = clock.GetUtcNow();
            Requests++;
            while (window.Count > 0 && now - window.Peek() >= TimeSpan.FromSeconds(1))
            {
                window.Dequeue();
            }

            if (Faults.RateLimitPerSecond is { } limit && window.Count >= limit)
            {
                RejectedByRateLimit++;
                refusals.Add(now);
                return false;
            }

            window.Enqueue(now);
            all.Add(now);
            return true;
        }
    }

    public bool InjectError()
    {
        lock (gate)
        {
            if (Faults.ErrorRate > 0 && Random.Shared.NextDouble() < Faults.ErrorRate)
            {
                InjectedErrors++;
                return true;
            }

            return false;
        }
    }

    /// <summary>When each admitted request arrived, oldest first: lets a load run count what the vendor saw over any span.</summary>
    public DateTimeOffset[] Admissions()
    {
        lock (gate)
        {
            return [.. all];
        }
    }

    /// <summary>When each request refused by the rate limit arrived: with <see cref="Admissions"/>, shows what crowded the second before.</summary>
    public DateTimeOffset[] Refusals()
    {
        lock (gate)
        {
            return [.. refusals];
        }
    }

    /// <summary>The most requests admitted within any one-second window so far.</summary>
    public int MaxPerSecond()
    {
        lock (gate)
        {
            var max = 0;
            var start = 0;
            for (var end = 0; end < all.Count; end++)
            {
                while (all[end] - all[start] >= TimeSpan.FromSeconds(1))
                {
                    start++;
                }

                max = Math.Max(max, end - start + 1);
            }

            return max;
        }
    }

    public object Snapshot() => new
    {
        faults = Faults,
        requests = Requests,
        admitted = all.Count,
        rejectedByRateLimit = RejectedByRateLimit,
        injectedErrors = InjectedErrors,
        maxPerSecond = MaxPerSecond(),
        served = Interlocked.Read(ref served),
        servedMs = TimeSpan.FromTicks(Interlocked.Read(ref servedTicks)).TotalMilliseconds,
    };
}
