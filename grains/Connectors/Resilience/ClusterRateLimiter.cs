using System.Threading.RateLimiting;
using RetailSync.Platform;

namespace RetailSync.Connectors.Resilience;

/// <summary>A <see cref="RateLimiter"/> whose budget is the cluster's, kept by <see cref="IRateBudgetGrain"/>.</summary>
public sealed class ClusterRateLimiter(IGrainFactory grains, string system, Func<double> perSecond, TimeProvider clock) : RateLimiter
{
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

        var wait = await grains.GetGrain<IRateBudgetGrain>(system).ReserveAsync(permitCount, rate);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, clock, cancellationToken);
        }

        return Granted.Instance;
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
