using RetailSync.Intake;
using RetailSync.Model;
using RetailSync.Outbox;

namespace RetailSync.Orders;

/// <summary>The oversell guard's state of an order's stock.</summary>
public enum StockHold
{
    /// <summary>The order has no SKU line to reserve.</summary>
    None,

    /// <summary>Reservations asked for; the ERP submission waits for them.</summary>
    Pending,

    Reserved,

    /// <summary>Too little available to sell: the order waits for stock (or an operator).</summary>
    Short,

    /// <summary>An operator sent the order to the ERP without the stock reserved.</summary>
    Override,
}

/// <summary>What the SKUs have been told about the order's reservations.</summary>
public enum StockNotice
{
    None,

    /// <summary>The ERP booked the order: its figures count the stock from now on.</summary>
    Allocated,

    /// <summary>The order ended without the ERP: the stock it held goes back.</summary>
    Released,
}

/// <summary>Identity resolution of the order's buyer.</summary>
public enum BuyerState
{
    /// <summary>Not looked at yet.</summary>
    Unknown,

    /// <summary>Being resolved; the ERP submission waits for it, briefly.</summary>
    Pending,

    /// <summary>Resolved (to <see cref="OrderState.GoldenCustomerId"/>, which stays null when the rules named none).</summary>
    Resolved,

    /// <summary>No customer and no email on the order: nobody to resolve.</summary>
    Absent,
}

/// <summary>A cancellation's course.</summary>
public enum CancelState
{
    None,

    /// <summary>Cancelled in Shopify before shipment: cancelled in the ERP (or never sent there).</summary>
    Requested,

    /// <summary>Cancelled in Shopify after shipment: operations is to be told.</summary>
    AfterShipment,

    /// <summary>Operations has been told of a cancellation after shipment.</summary>
    AfterShipmentRaised,
}

[GenerateSerializer, Alias("RetailSync.Orders.OrderState")]
public sealed class OrderState
{
    [Id(0)] public Order? Order { get; set; }
    [Id(1)] public OrderStatus Status { get; set; } = OrderStatus.Received;
    [Id(2)] public Dictionary<string, SystemSync> Systems { get; set; } = new()
    {
        [SystemNames.Shopify] = new SystemSync { Status = "Synced" },
        [SystemNames.Crm] = new SystemSync(),
        [SystemNames.Erp] = new SystemSync(),
    };
    [Id(3)] public List<Fulfillment> Fulfillments { get; set; } = [];
    [Id(4)] public Journal Journal { get; set; } = new();
    [Id(5)] public bool Redacted { get; set; }
    [Id(6)] public string? Shop { get; set; }
    [Id(7)] public string? Tenant { get; set; }
    [Id(8)] public CommandOutbox Outbox { get; set; } = new();
    [Id(9)] public DateTimeOffset? ReceivedAt { get; set; }
    [Id(10)] public string? ErpNumber { get; set; }
    [Id(11)] public string? ShopifyStatusTag { get; set; }
    [Id(12)] public CancelState Cancel { get; set; }
    [Id(13)] public BuyerState Buyer { get; set; }
    [Id(14)] public string? GoldenCustomerId { get; set; }
    [Id(15)] public CrmContext? CrmContext { get; set; }

    /// <summary>The ERP submission stopped waiting for the CRM context or the buyer (said once on the timeline).</summary>
    [Id(16)] public bool ContextWaitExpired { get; set; }

    /// <summary>Units the ERP has shipped, by SKU, over the shipments in <see cref="Shipments"/>.</summary>
    [Id(17)] public Dictionary<string, int> Shipped { get; set; } = new(StringComparer.Ordinal);
    [Id(18)] public List<string> Shipments { get; set; } = [];

    /// <summary>How many status changes the order has had: the sequence of its <see cref="OrderStatusChanged"/> events.</summary>
    [Id(19)] public int StatusChanges { get; set; }
    [Id(20)] public List<string> RefundsApplied { get; set; } = [];
    [Id(21)] public Dictionary<string, int> RefundedByLine { get; set; } = new(StringComparer.Ordinal);
    [Id(22)] public StockHold Stock { get; set; }

    /// <summary>SKU → its reservation result (<see cref="Inventory.ReservationResult"/>).</summary>
    [Id(23)] public Dictionary<string, string> StockBySku { get; set; } = new(StringComparer.Ordinal);
    [Id(24)] public StockNotice StockTold { get; set; }

    /// <summary>When the ERP booked the order, by the ERP's clock where it says (its stock figures are dated by the same clock).</summary>
    [Id(25)] public DateTimeOffset? ErpAcceptedAt { get; set; }

    /// <summary>Domain events stored with the change that made them, until they are published.</summary>
    [Id(26)] public List<OrderEvent>? Unpublished { get; set; }

    public bool PartiallyRefunded => RefundsApplied.Count > 0 && Status != OrderStatus.Refunded;
}

[GenerateSerializer, Alias("RetailSync.Orders.SystemSync")]
public sealed class SystemSync
{
    [Id(0)] public string Status { get; set; } = "Pending";
    [Id(1)] public string? ExternalId { get; set; }
    [Id(2)] public DateTimeOffset? LastSyncedAt { get; set; }
    [Id(3)] public string? Error { get; set; }
}
