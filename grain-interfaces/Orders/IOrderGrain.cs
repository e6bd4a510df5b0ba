using System.Collections.Immutable;
using RetailSync.Intake;
using RetailSync.Model;

namespace RetailSync.Orders;

/// <summary>One Shopify order, keyed <c>{shop}/{orderId}</c>: its canonical state, sync status and timeline.</summary>
[Alias("RetailSync.Orders.IOrderGrain")]
public interface IOrderGrain : IGrainWithStringKey
{
    /// <summary>Records an orders/* delivery carrying the order's full payload.</summary>
    [Alias("ReceiveOrder")]
    Task<IntakeOutcome> ReceiveOrderAsync(ShopifyDelivery delivery, Order order);

    /// <summary>Records a fulfillments/create delivery for this order.</summary>
    [Alias("ReceiveFulfillment")]
    Task<IntakeOutcome> ReceiveFulfillmentAsync(ShopifyDelivery delivery, Fulfillment fulfillment);

    /// <summary>
    /// Records an ERP callback about this order (shipped, backordered, released, on hold, rejected).
    /// The delivery's dedupe key is the ERP's event id; the ERP is the authority for these statuses.
    /// </summary>
    [Alias("ReceiveErpEvent")]
    Task<IntakeOutcome> ReceiveErpEventAsync(ShopifyDelivery delivery, RetailSync.Erp.ErpOrderEvent erpEvent);

    /// <summary>
    /// A refund's saga confirmed it in every system: quantities refunded per order line id. The order
    /// becomes <c>Refunded</c> when every line is refunded, else it records the partial refund.
    /// Idempotent per refund id.
    /// </summary>
    [Alias("RefundApplied")]
    Task RefundAppliedAsync(string refundId, ImmutableDictionary<string, int> quantitiesByLineId);

    /// <summary>Removes the buyer's personal data from the order and its timeline (privacy law request).</summary>
    [Alias("Redact")]
    Task RedactAsync(string reason);

    /// <summary>The order as operators see it; null when the order is unknown.</summary>
    [Alias("Get")]
    Task<OrderView?> GetAsync();

    /// <summary>A SKU's backorder queue reached this order: its quantity is reserved now.</summary>
    [Orleans.Concurrency.OneWay, Alias("StockReserved")]
    Task StockReservedAsync(string sku);

    /// <summary>Publishes the order's current status again, for a projection being rebuilt.</summary>
    [Orleans.Concurrency.OneWay, Alias("Restate")]
    Task RestateAsync();
}

public static class SystemNames
{
    public const string Shopify = "shopify";
    public const string Crm = "crm";
    public const string Erp = "erp";

    /// <summary>The per-system status entry an outbound command's system belongs to.</summary>
    public static string For(string commandSystem) => commandSystem switch
    {
        Erp => Erp,
        Crm => Crm,
        _ => Shopify,
    };
}

[GenerateSerializer, Immutable, Alias("RetailSync.Orders.SystemSyncView")]
public sealed record SystemSyncView(
    [property: Id(0)] string Status,
    [property: Id(1)] string? ExternalId,
    [property: Id(2)] DateTimeOffset? LastSyncedAt,
    [property: Id(3)] string? Error);

[GenerateSerializer, Immutable, Alias("RetailSync.Orders.OrderView")]
public sealed record OrderView(
    [property: Id(0)] string Shop,
    [property: Id(1)] string OrderId,
    [property: Id(2)] OrderStatus Status,
    [property: Id(3)] ImmutableDictionary<string, SystemSyncView> Systems,
    [property: Id(4)] Order Order,
    [property: Id(5)] ImmutableArray<Fulfillment> Fulfillments,
    [property: Id(6)] ImmutableArray<TimelineEntry> Timeline,
    [property: Id(7)] bool Redacted,
    [property: Id(8)] ImmutableArray<OutboxItemView> Outbox = default,
    [property: Id(9)] CrmContext? CrmContext = null,
    [property: Id(10)] bool PartiallyRefunded = false,
    [property: Id(11)] string? GoldenCustomerId = null,
    [property: Id(12)] string? ErpCustomerNumber = null);

/// <summary>What the CRM knows of the order's customer (sales and service context), attached before ERP submission.</summary>
/// <param name="Found">False when the CRM has no contact for the order's email.</param>
[GenerateSerializer, Immutable, Alias("RetailSync.Orders.CrmContext")]
public sealed record CrmContext(
    [property: Id(0)] bool Found,
    [property: Id(1)] string? ContactId,
    [property: Id(2)] string? AccountId,
    [property: Id(3)] string? OwnerId,
    [property: Id(4)] string? Segment,
    [property: Id(5)] DateTimeOffset At);

[GenerateSerializer, Immutable, Alias("RetailSync.Orders.OutboxItemView")]
public sealed record OutboxItemView(
    [property: Id(0)] string Key,
    [property: Id(1)] string System,
    [property: Id(2)] string Operation,
    [property: Id(3)] string Status,
    [property: Id(4)] DateTimeOffset PlannedAt,
    [property: Id(5)] DateTimeOffset? EndedAt);
