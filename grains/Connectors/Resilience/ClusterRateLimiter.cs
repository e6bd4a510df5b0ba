using System.Threading.RateLimiting;
using RetailSync.Platform;

namespace RetailSync.Connectors.Resilience;

/// <summary>A <see cref="RateLimiter"/> whose budget is the cluster's, kept by <see cref="IRateBudgetGrain"/>.</summary>
/// <param name="perSecond">The vendor's limit.</param>
/// <param name="headroom">The share of it we schedule (below 1).</param>
public sealed class ClusterRateLimiter(IGrainFactory grains, string system, Func<double> perSecond, Func<double> headroom, TimeProvider clock) : RateLimiter
{
    /// <summary>
    /// How late a request may go out after its slot. A request woken later (a GC pause, a busy thread
    /// pool) takes a new slot instead, so late requests never bunch up with the ones scheduled after
    /// them: scheduling at h × limit, a second holds at most h × limit × (1 + tolerance) requests,
    /// which stays under the limit while tolerance ≤ (1 − h) / h; we keep half of that, at most 50 ms.
    /// </summary>
    public static TimeSpan Tolerance(double headroom) =>
        TimeSpan.FromSeconds(Math.Clamp((1 - headroom) / headroom / 2, 0.001, 0.05));

    /// <summary>
    /// Requests that may go ahead of the pace after a quiet spell. The margin under the limit, (1 − h) ×
    /// limit, is shared: half absorbs late requests (<see cref="Tolerance"/>), the other half the burst and
    /// the one request a window can gain at its edge, so a second still never exceeds the limit.
    /// </summary>
    public static int Burst(double limit, double headroom) => Math.Max(0, (int)Math.Floor((1 - headroom) * limit / 2) - 1);

    public override TimeSpan? IdleDuration => null;

    public override RateLimiterStatistics? GetStatistics() => null;

    protected override RateLimitLease AttemptAcquireCore(int permitCount) =>
        throw new NotSupportedException("The cluster budget is reserved asynchronously; use AcquireAsync.");

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        var share = headroom();
        var limit = perSecond();
        var rate = limit * share;
        var burst = Burst(limit, share);
        var tolerance = Tolerance(share);
        if (rate <= 0)
        {
            return Granted.Instance;
        }

        var budget = grains.GetGrain<IRateBudgetGrain>(system);
        while (true)
        {
            // ConfigureAwait(false): the caller is often a dispatcher grain busy with enqueues; woken on its
            // scheduler the request would wait for a turn there and miss its slot (see Tolerance).
            var wait = await budget.ReserveAsync(permitCount, rate, burst).ConfigureAwait(false);
            var slot = clock.GetUtcNow() + wait;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, clock, cancellationToken).ConfigureAwait(false);
            }

            if (clock.GetUtcNow() - slot <= tolerance)
            {
                return Granted.Instance;
            }
        }
    }

    private sealed class Granted : RateLimitLease
    {
        public static readonly Granted Instance = new();

        public override bool IsAcquired => true;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }
}
