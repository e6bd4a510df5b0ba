using System.Threading.RateLimiting;
using RetailSync.Platform;

namespace RetailSync.Connectors.Resilience;

/// <summary>
/// A <see cref="RateLimiter"/> whose budget is the cluster's, kept by <see cref="IRateBudgetGrain"/>. The
/// lease lasts the request (the resilience pipeline disposes of it when the answer is in): disposing of it
/// tells the budget when the answer came, after which the request stops counting a second later.
/// </summary>
/// <param name="perSecond">The vendor's limit.</param>
/// <param name="headroom">The share of it we pace at, see <see cref="RatePlans.For"/>.</param>
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
            return Unlimited.Instance;
        }

        var plan = RatePlans.For(limit, headroom());
        var budget = grains.GetGrain<IRateBudgetGrain>(system);
        while (true)
        {
            // The budget counted the wait from some moment during the call: never go before the slot (count
            // the wait from the reply), and measure the answer from the earliest the slot can be (from the
            // ask), so the budget's idea of when the answer came is never too early.
            // ConfigureAwait(false): the caller is often a dispatcher grain busy with enqueues; woken on its
            // scheduler the request would wait for a turn there.
            var asked = clock.GetUtcNow();
            var reserved = await budget.ReserveSlotAsync(permitCount, plan).ConfigureAwait(false);
            var slot = asked + reserved.Wait;
            var due = clock.GetUtcNow() + reserved.Wait;
            try
            {
                // Timers run on a coarse tick (4 ms on many Linux kernels) and may fire before their time: a
                // request that went before its slot could meet requests the budget no longer counts.
                for (var wait = reserved.Wait; wait > TimeSpan.Zero; wait = due - clock.GetUtcNow())
                {
                    await Task.Delay(wait, clock, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (reserved.Reserved)
            {
                // Not sent: the slot stops counting a second from now.
                Answered(budget, reserved.Ticket, slot);
                throw;
            }

            if (reserved.Reserved)
            {
                // Late or not, it goes: it has counted since the reservation.
                return new Reservation(this, budget, reserved.Ticket, slot);
            }

            // The free slots were too far ahead to hold one yet (or the cap was all in flight): ask again.
        }
    }

    private void Answered(IRateBudgetGrain budget, long ticket, DateTimeOffset slot) =>
        budget.AnsweredAsync(ticket, clock.GetUtcNow() - slot).Ignore();

    /// <summary>The request's hold on the budget: released (the answer's time told) when the pipeline disposes of it.</summary>
    private sealed class Reservation(ClusterRateLimiter limiter, IRateBudgetGrain budget, long ticket, DateTimeOffset slot) : RateLimitLease
    {
        private int disposed;

        public override bool IsAcquired => true;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0)
            {
                limiter.Answered(budget, ticket, slot);
            }
        }
    }

    private sealed class Unlimited : RateLimitLease
    {
        public static readonly Unlimited Instance = new();

        public override bool IsAcquired => true;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }
}
