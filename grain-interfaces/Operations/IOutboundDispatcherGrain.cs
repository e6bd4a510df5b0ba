using System.Collections.Immutable;

namespace RetailSync.Operations;

/// <summary>
/// The outbound queue of one system (key: <c>erp</c>, <c>crm</c> or <c>shopify</c>): commands of every
/// entity wait here, go out at the system's cluster-wide rate, batched where the vendor allows it, are
/// retried with backoff while failures are transient, and their outcome goes back to the owner
/// (<see cref="ICommandOwner"/>). The queue is memory only: the commands themselves are durable in
/// their owners' outboxes, which send them again after a crash.
/// </summary>
[Alias("RetailSync.Operations.IOutboundDispatcherGrain")]
public interface IOutboundDispatcherGrain : IGrainWithStringKey
{
    /// <summary>Queues commands; a key already queued, running or recently finished is not queued twice.</summary>
    [Alias("Enqueue")]
    Task EnqueueAsync(ImmutableArray<DispatchItem> items);

    [Alias("Get")]
    Task<DispatcherView> GetAsync();
}

/// <param name="Key">The command's idempotency key.</param>
/// <param name="Command">What to run; its <see cref="OutboundCommand.ReplyTo"/> learns the outcome.</param>
/// <param name="PlannedAt">When the owner planned it: the backlog's age is measured from here.</param>
[GenerateSerializer, Immutable, Alias("RetailSync.Operations.DispatchItem")]
public sealed record DispatchItem(
    [property: Id(0)] string Key,
    [property: Id(1)] OutboundCommand Command,
    [property: Id(2)] DateTimeOffset PlannedAt);

/// <param name="Queued">Commands waiting (including those waiting for a retry).</param>
/// <param name="Running">Commands in a vendor call right now.</param>
/// <param name="OldestPlannedAt">The oldest unfinished command's planning time.</param>
/// <param name="Calls">Vendor calls made (a batch is one call to the dispatcher).</param>
[GenerateSerializer, Immutable, Alias("RetailSync.Operations.DispatcherView")]
public sealed record DispatcherView(
    [property: Id(0)] string System,
    [property: Id(1)] int Queued,
    [property: Id(2)] int Running,
    [property: Id(3)] DateTimeOffset? OldestPlannedAt,
    [property: Id(4)] long Succeeded,
    [property: Id(5)] long Failed,
    [property: Id(6)] long Retried,
    [property: Id(7)] long Calls,
    [property: Id(8)] ImmutableDictionary<string, long> BatchSizes);
