namespace RetailSync.Orders;

/// <summary>An order's lifecycle status (the API's <c>status</c>; rendered by name).</summary>
public enum OrderStatus
{
    Received,
    SubmittedToErp,
    Accepted,
    Backordered,
    Rejected,
    OnHold,
    PartiallyFulfilled,
    Fulfilled,
    Cancelled,
    Refunded,
}

/// <summary>What happened to an order, past tense: recorded with the change that made it, published after the write.</summary>
[GenerateSerializer, Immutable, Alias("RetailSync.Orders.OrderEvent")]
public abstract record OrderEvent(
    [property: Id(0)] string Order,
    [property: Id(1)] string Tenant,
    [property: Id(2)] DateTimeOffset At);

/// <summary>
/// The order moved from one status to another; <paramref name="Sequence"/> counts the order's changes, so a
/// projection applies each order's latest change whatever order (or how often) the changes reach it.
/// </summary>
[GenerateSerializer, Immutable, Alias("RetailSync.Orders.OrderStatusChanged")]
public sealed record OrderStatusChanged(
    string Order,
    string Tenant,
    DateTimeOffset At,
    [property: Id(0)] OrderStatus? From,
    [property: Id(1)] OrderStatus To,
    [property: Id(2)] int Sequence,
    [property: Id(3)] TimeSpan SinceReceived) : OrderEvent(Order, Tenant, At);

/// <summary>The ERP booked the order (its sales order number), measured from the order's intake.</summary>
[GenerateSerializer, Immutable, Alias("RetailSync.Orders.OrderAccepted")]
public sealed record OrderAccepted(
    string Order,
    string Tenant,
    DateTimeOffset At,
    [property: Id(0)] string? ErpNumber,
    [property: Id(1)] TimeSpan SinceReceived) : OrderEvent(Order, Tenant, At);

public static class OrderStreams
{
    /// <summary>The stream namespace of order events.</summary>
    public const string Namespace = "orders";

    /// <summary>
    /// The one stream of that namespace: events name their tenant, and the projection that keeps the counts by tenant
    /// is one grain, so the KPIs read one place.
    /// </summary>
    public const string Key = "all";
}
