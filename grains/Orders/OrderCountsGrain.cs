using Orleans.Streams;
using Orleans.Streams.Core;
using RetailSync.Platform;

namespace RetailSync.Orders;

/// <summary>
/// Keeps <see cref="OrderCountsProjection"/> from the order stream (an implicit subscription: no subscription to lose).
/// Stored at most every <see cref="StoreEvery"/>, not per event: a restart resumes from the last store, and what the
/// crash cost (events of the last second, events a memory stream held on a dead silo) comes back as each order changes
/// or is activated again, or at once by <see cref="RebuildAsync"/>.
/// </summary>
[ImplicitStreamSubscription(OrderStreams.Namespace)]
public sealed class OrderCountsGrain(
    [PersistentState("orderCounts", StorageNames.State)] IPersistentState<OrderCountsState> state,
    TimeProvider clock) : Grain, IOrderCountsGrain, IStreamSubscriptionObserver, IAsyncObserver<OrderEvent>
{
    private static readonly TimeSpan StoreEvery = TimeSpan.FromSeconds(1);
    private IGrainTimer? store;

    public Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) => handleFactory.Create<OrderEvent>().ResumeAsync(this);

    public Task OnNextAsync(OrderEvent item, StreamSequenceToken? token = null)
    {
        if (OrderCountsProjection.Apply(state.State, item))
        {
            store ??= this.RegisterGrainTimer(StoreAsync, new GrainTimerCreationOptions(StoreEvery, Timeout.InfiniteTimeSpan));
        }

        return Task.CompletedTask;
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex) => Task.CompletedTask;

    public Task<OrderCounts> GetAsync() => Task.FromResult(OrderCountsProjection.Counts(state.State));

    public Task<int> RebuildAsync()
    {
        foreach (var order in state.State.Orders.Keys)
        {
            GrainFactory.GetGrain<IOrderGrain>(order).RestateAsync().Ignore();
        }

        return Task.FromResult(state.State.Orders.Count);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (store is not null)
        {
            await StoreAsync();
        }
    }

    private async Task StoreAsync()
    {
        store?.Dispose();
        store = null;
        var previous = state.State.StoredAt;
        state.State.StoredAt = clock.GetUtcNow();
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception)
        {
            // Stored with the next event; until then a restart resumes from the store before.
            state.State.StoredAt = previous;
        }
    }
}
