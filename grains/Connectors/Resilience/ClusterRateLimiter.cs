using System.Threading.RateLimiting;
using RetailSync.Platform;

namespace RetailSync.Connectors.Resilience;

/// <summary>A <see cref="RateLimiter"/> whose budget is the cluster's, kept by <see cref="IRateBudgetGrain"/>.</summary>
public sealed class ClusterRateLimiter(IGrainFactory grains, string system, Func<double> perSecond, TimeProvider clock) : RateLimiter
{
    /// <summary>
    /// How late a request may go out after its slot. A request woken later than this (a GC pause, a
    /// busy thread pool) takes a new slot instead, so late requests never bunch up with the ones
    /// scheduled after them and push a one-second window over the vendor's limit.
    /// </summary>
    public static readonly TimeSpan Tolerance = TimeSpan.FromMilliseconds(20);

    public override TimeSpan? IdleDuration => null;

    public override RateLimiterStatistics? GetStatistics() => null;

    protected override RateLimitLease AttemptAcquireCore(int permitCount) =>
        throw new NotSupportedException("The cluster budget is reserved asynchronously; use AcquireAsync.");

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        var rate = perSecond();
        if (rate <= 0)
        {
            return Granted.Instance;
        }

        var budget = grains.GetGrain<IRateBudgetGrain>(system);
        while (true)
        {
            var wait = await budget.ReserveAsync(permitCount, rate);
            var slot = clock.GetUtcNow() + wait;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, clock, cancellationToken);
            }

            if (clock.GetUtcNow() - slot <= Tolerance)
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
