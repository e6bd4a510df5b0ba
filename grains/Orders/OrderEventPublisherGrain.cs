using Orleans.Concurrency;
using Orleans.Streams;
using RetailSync.Platform;

namespace RetailSync.Orders;

/// <summary>Puts order events on the order stream for the orders, a few activations per silo.</summary>
[Alias("RetailSync.Orders.IOrderEventPublisher")]
public interface IOrderEventPublisher : IGrainWithIntegerKey
{
    /// <summary>Answers once the stream has taken the events.</summary>
    [Alias("Publish")]
    Task PublishAsync(Immutable<OrderEvent[]> events);
}

/// <summary>
/// Publishing from an order grain itself would give every order activation a stream directory of its own (Orleans
/// keeps one per activation that touches a stream): about a kilobyte per active order. Here a few stateless
/// activations per silo hold one each.
/// </summary>
[StatelessWorker]
public sealed class OrderEventPublisherGrain : Grain, IOrderEventPublisher
{
    private IAsyncStream<OrderEvent>? stream;

    public Task PublishAsync(Immutable<OrderEvent[]> events)
    {
        stream ??= this.GetStreamProvider(StorageNames.Events).GetStream<OrderEvent>(StreamId.Create(OrderStreams.Namespace, OrderStreams.Key));
        return stream.OnNextBatchAsync(events.Value);
    }
}
