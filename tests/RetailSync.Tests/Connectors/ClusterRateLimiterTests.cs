using Microsoft.Extensions.Time.Testing;
using RetailSync.Connectors.Resilience;
using RetailSync.Platform;

namespace RetailSync.Tests.Connectors;

/// <summary>The limiter against a budget whose answers are always slow: it must not hand its slot back forever.</summary>
public sealed class ClusterRateLimiterTests
{
    [Fact]
    public async Task when_every_answer_from_the_budget_is_late_the_request_goes_after_two_tries_and_the_budget_learns_when()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        // Each reservation takes 100 ms to answer (a busy silo), far more than the 8 ms a sender may be late.
        var budget = new SlowBudget(clock, TimeSpan.FromMilliseconds(100));
        var limiter = new ClusterRateLimiter(new OneGrain(budget), "bc", () => 50, () => 0.97, clock);

        using var lease = await limiter.AcquireAsync(1).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(lease.IsAcquired);
        // Handed back twice (a pause during the call is lateness too), not again and again; then the log
        // moved to when the request went.
        Assert.Equal(3, budget.Reservations);
        Assert.Equal([TimeSpan.FromMilliseconds(100)], budget.Late);
    }

    private sealed class SlowBudget(FakeTimeProvider clock, TimeSpan answer) : IRateBudgetGrain
    {
        private readonly RateBudgetGrain inner = new(clock);

        public int Reservations { get; private set; }

        public List<TimeSpan> Late { get; } = [];

        public async Task<RateSlot> ReserveSlotAsync(int permits, RatePlan plan, long? missed)
        {
            Reservations++;
            var slot = await inner.ReserveSlotAsync(permits, plan, missed);
            clock.Advance(answer);
            return slot;
        }

        public Task SentAsync(long ticket, TimeSpan late)
        {
            Late.Add(late);
            return inner.SentAsync(ticket, late);
        }
    }

    /// <summary>A grain factory that knows one grain: the limiter asks for nothing else.</summary>
    private sealed class OneGrain(IRateBudgetGrain budget) : IGrainFactory
    {
        public TGrainInterface GetGrain<TGrainInterface>(string primaryKey, string? grainClassNamePrefix = null)
            where TGrainInterface : IGrainWithStringKey => (TGrainInterface)budget;

        public TGrainInterface GetGrain<TGrainInterface>(Guid primaryKey, string? grainClassNamePrefix = null) where TGrainInterface : IGrainWithGuidKey => throw new NotSupportedException();

        public TGrainInterface GetGrain<TGrainInterface>(long primaryKey, string? grainClassNamePrefix = null) where TGrainInterface : IGrainWithIntegerKey => throw new NotSupportedException();

        public TGrainInterface GetGrain<TGrainInterface>(Guid primaryKey, string keyExtension, string? grainClassNamePrefix = null) where TGrainInterface : IGrainWithGuidCompoundKey => throw new NotSupportedException();

        public TGrainInterface GetGrain<TGrainInterface>(long primaryKey, string keyExtension, string? grainClassNamePrefix = null) where TGrainInterface : IGrainWithIntegerCompoundKey => throw new NotSupportedException();

        public TGrainObserverInterface CreateObjectReference<TGrainObserverInterface>(IGrainObserver obj) where TGrainObserverInterface : IGrainObserver => throw new NotSupportedException();

        public void DeleteObjectReference<TGrainObserverInterface>(IGrainObserver obj) where TGrainObserverInterface : IGrainObserver => throw new NotSupportedException();

        public IGrain GetGrain(Type grainInterfaceType, Guid grainPrimaryKey) => throw new NotSupportedException();

        public IGrain GetGrain(Type grainInterfaceType, long grainPrimaryKey) => throw new NotSupportedException();

        public IGrain GetGrain(Type grainInterfaceType, string grainPrimaryKey) => throw new NotSupportedException();

        public IGrain GetGrain(Type grainInterfaceType, Guid grainPrimaryKey, string keyExtension) => throw new NotSupportedException();

        public IGrain GetGrain(Type grainInterfaceType, long grainPrimaryKey, string keyExtension) => throw new NotSupportedException();

        public TGrainInterface GetGrain<TGrainInterface>(GrainId grainId) where TGrainInterface : IAddressable => throw new NotSupportedException();

        public IAddressable GetGrain(GrainId grainId) => throw new NotSupportedException();

        public IAddressable GetGrain(GrainId grainId, GrainInterfaceType interfaceType) => throw new NotSupportedException();

        public IAddressable GetGrain(Type grainInterfaceType, IdSpan grainPrimaryKey, string grainClassNamePrefix) => throw new NotSupportedException();

        public IAddressable GetGrain(Type grainInterfaceType, IdSpan grainPrimaryKey) => throw new NotSupportedException();
    }
}
