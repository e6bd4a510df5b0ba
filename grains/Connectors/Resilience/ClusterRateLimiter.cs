using System.Threading.RateLimiting;
using RetailSync.Platform;

namespace RetailSync.Connectors.Resilience;

/// <summary>A <see cref="RateLimiter"/> whose budget is the cluster's, kept by <see cref="IRateBudgetGrain"/>.</summary>
/// <param name="perSecond">The vendor's limit.</param>
/// <param name="headroom">The share of it we use (below 1), see <see cref="RatePlan.For"/>.</param>
public sealed class ClusterRateLimiter(IGrainFactory grains, string system, Func<double> perSecond, Func<double> headroom, TimeProvider clock) : RateLimiter
{
    public override TimeSpan? IdleDuration => null;

    public override RateLimiterStatistics? GetStatistics() => null;

    protected override RateLimitLease AttemptAcquireCore(int permitCount) =>
        throw new NotSupportedException("The cluster budget is reserved asynchronously; use AcquireAsync.");

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        var limit = perSecond();
        if (limit <= 0)
        {
            return Granted.Instance;
        }

        var plan = RatePlan.For(limit, headroom());
        var budget = grains.GetGrain<IRateBudgetGrain>(system);
        long? missed = null;
        var handedBack = 0;
        while (true)
        {
            // The budget counted the wait from some moment during the call: never go before the slot
            // (count from the reply), and count lateness from the earliest the slot can be (from the ask).
            // ConfigureAwait(false): the caller is often a dispatcher grain busy with enqueues; woken on its
            // scheduler the request would wait for a turn there and miss its slot.
            var asked = clock.GetUtcNow();
            var reserved = await budget.ReserveSlotAsync(permitCount, plan, missed).ConfigureAwait(false);
            var slot = asked + reserved.Wait;
            var due = clock.GetUtcNow() + reserved.Wait;
            // Timers run on a coarse tick (4 ms on many Linux kernels) and may fire before their time:
            // a request that went early would bunch up with the one before it, so it waits out the rest.
            for (var wait = reserved.Wait; wait > TimeSpan.Zero; wait = due - clock.GetUtcNow())
            {
                await Task.Delay(wait, clock, cancellationToken).ConfigureAwait(false);
            }

            if (!reserved.Reserved)
            {
                // The free slots were too far ahead to hold one yet: ask again now that they are close.
                missed = null;
                continue;
            }

            // Woken too late (a GC pause, a busy thread pool), the request would bunch up with the ones
            // after it: it hands its slot back and takes the earliest free one instead. Lateness counts from
            // the earliest the slot can have been, so a pause during the call to the budget counts too;
            // but when every answer is slow (a busy silo) it would be late on every try: after two it goes.
            // It goes, and the budget logs when (a one-way call, the request does not wait for it).
            var late = clock.GetUtcNow() - slot;
            if (late <= plan.Tolerance || ++handedBack > 2)
            {
                // Under a millisecond is the call to the budget itself, as much as the network adds anyway.
                if (late > TimeSpan.FromMilliseconds(1))
                {
                    await budget.SentAsync(reserved.Ticket, late).ConfigureAwait(false);
                }

                return Granted.Instance;
            }

            missed = reserved.Ticket;
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
