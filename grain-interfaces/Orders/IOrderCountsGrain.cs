using System.Collections.Immutable;

namespace RetailSync.Orders;

/// <summary>
/// The orders-by-status projection (key <see cref="OrderStreams.Key"/>): fed by the order stream, stored, and
/// rebuilt on request by asking every order it knows to state its status again.
/// </summary>
[Alias("RetailSync.Orders.IOrderCountsGrain")]
public interface IOrderCountsGrain : IGrainWithStringKey
{
    [Alias("Get")]
    Task<OrderCounts> GetAsync();

    /// <summary>Asks every order the projection knows to publish its current status again; answers how many were asked.</summary>
    [Alias("Rebuild")]
    Task<int> RebuildAsync();
}

/// <summary>Orders by current status, in all and per tenant; <paramref name="AsOf"/> is the newest event applied.</summary>
/// <param name="StoredAt">When the projection was last stored: a restart resumes from there.</param>
[GenerateSerializer, Immutable, Alias("RetailSync.Orders.OrderCounts")]
public sealed record OrderCounts(
    [property: Id(0)] ImmutableDictionary<string, long> ByStatus,
    [property: Id(1)] ImmutableDictionary<string, ImmutableDictionary<string, long>> ByTenant,
    [property: Id(2)] double? AcceptanceP50Ms,
    [property: Id(3)] double? AcceptanceP99Ms,
    [property: Id(4)] DateTimeOffset? AsOf,
    [property: Id(5)] DateTimeOffset? StoredAt,
    [property: Id(6)] long EventsApplied);
