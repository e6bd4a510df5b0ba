using Microsoft.Extensions.Time.Testing;
using RetailSync.Connectors.Resilience;
using Polly;
using Polly.RateLimiting;
using RetailSync.Platform;

namespace RetailSync.Tests.Connectors;

/// <summary>The limiter's lease: the budget hears when each request's answer came, through Polly's pipeline too.</summary>
public sealed class ClusterRateLimiterTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task the_pipeline_tells_the_budget_when_the_answer_came_not_before()
    {
        var clock = new FakeTimeProvider(Start);
        var budget = new RecordingBudget(clock);
        var limiter = new ClusterRateLimiter(new OneGrain(budget), "bc", () => 50, () => 0.97, clock);
        var pipeline = new ResiliencePipelineBuilder()
            .AddRateLimiter(new RateLimiterStrategyOptions { RateLimiter = args => limiter.AcquireAsync(1, args.Context.CancellationToken) })
            .Build();

        var toldDuringTheCall = -1;
        await pipeline.ExecuteAsync(_ =>
        {
            // The request is out: the vendor may count it any time until its answer is read.
            toldDuringTheCall = budget.Answers.Count;
            clock.Advance(TimeSpan.FromMilliseconds(30));
            return ValueTask.CompletedTask;
        });

        Assert.Equal(0, toldDuringTheCall);
        Assert.Equal([TimeSpan.FromMilliseconds(30)], budget.Answers);
    }

    [Fact]
    public async Task a_reservation_given_up_while_waiting_for_its_slot_is_released()
    {
        var clock = new FakeTimeProvider(Start);
        var budget = new RecordingBudget(clock);
        var limiter = new ClusterRateLimiter(new OneGrain(budget), "bc", () => 10, () => 0.9, clock);
        using var first = await limiter.AcquireAsync(1);
        using var cancel = new CancellationTokenSource();

        // The second slot is a pace (111 ms) away; the caller gives up 50 ms in.
        var second = limiter.AcquireAsync(1, cancel.Token).AsTask();
        clock.Advance(TimeSpan.FromMilliseconds(50));
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second);
        Assert.Single(budget.Answers);
    }

    private sealed class RecordingBudget(FakeTimeProvider clock) : IRateBudgetGrain
    {
        private readonly RateBudgetGrain inner = new(clock);

        public List<TimeSpan> Answers { get; } = [];

        public Task<RateSlot> ReserveSlotAsync(int permits, RatePlan plan) => inner.ReserveSlotAsync(permits, plan);

        public Task AnsweredAsync(long ticket, TimeSpan afterSlot)
        {
            Answers.Add(afterSlot);
            return inner.AnsweredAsync(ticket, afterSlot);
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
