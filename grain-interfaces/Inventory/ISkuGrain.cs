using System.Collections.Immutable;
using RetailSync.Intake;

namespace RetailSync.Inventory;

/// <summary>
/// One SKU of one retailer (<c>{tenant}/{sku}</c>): the ERP's on-hand per location (the stock truth; an
/// older ERP figure never overwrites a newer one) and restocks the ERP has confirmed but not yet counted
/// in a figure it sent.
/// </summary>
[Alias("RetailSync.Inventory.ISkuGrain")]
public interface ISkuGrain : IGrainWithStringKey
{
    /// <summary>An ERP stock callback; its version orders the ERP's figures per location.</summary>
    [Alias("ErpStockChanged")]
    Task<IntakeOutcome> ErpStockChangedAsync(ShopifyDelivery delivery, ErpStockChange change);

    /// <summary>
    /// A refund's goods were taken back into the ERP's stock (its credit memo or return was posted): counted
    /// as pending until the ERP's next figure for that location, which includes them. Idempotent per key.
    /// </summary>
    [Alias("Restocked")]
    Task RestockedAsync(string key, int quantity, string? location);

    /// <summary>Shopify's inventory item for this SKU in one shop (from the product's variants); idempotent.</summary>
    [Alias("LinkShopifyItem")]
    Task LinkShopifyItemAsync(string shop, string inventoryItemId);

    /// <summary>
    /// Shopify reported a level of this SKU's item (inventory_levels/update): an echo of what we wrote is
    /// ignored; anything else was changed in Shopify, is recorded, and the ERP's figure is written back.
    /// </summary>
    [Alias("ShopifyLevelReported")]
    Task ShopifyLevelReportedAsync(string shop, string locationId, int available);

    /// <summary>What Shopify should show for this SKU: per shop's item and Shopify location, the available quantity.</summary>
    [Alias("ShopifyTargets")]
    Task<ImmutableArray<ShopifyTarget>> ShopifyTargetsAsync();

    /// <summary>The drift check found another value in Shopify than the ERP's: recorded, and the ERP's figure written.</summary>
    [Alias("RepairDrift")]
    Task RepairDriftAsync(string shop, string locationId, int found);

    /// <summary>
    /// Reserves an order's quantity of this SKU against its available-to-sell (the ERP's figures and pending
    /// restocks, less open reservations). Short: the order waits in this SKU's backorder queue and is told
    /// (<see cref="Orders.IOrderGrain.StockReservedAsync"/>) when stock comes, first come first served.
    /// Untracked: the ERP never gave a figure for this SKU, so there is nothing to guard. Idempotent per order.
    /// </summary>
    [Alias("Reserve")]
    Task<string> ReserveAsync(string orderKey, int quantity);

    /// <summary>
    /// The ERP booked the order at <paramref name="erpTime"/> (its clock): the reservation ends with the first ERP
    /// figure dated at or after that time, which counts the order (now, if one came already).
    /// </summary>
    [Alias("Allocated")]
    Task AllocatedAsync(string orderKey, DateTimeOffset erpTime);

    /// <summary>The order was rejected or cancelled: its reservation (or backorder) ends now.</summary>
    [Alias("Release")]
    Task ReleaseAsync(string orderKey);

    [Alias("Get")]
    Task<SkuView?> GetAsync();
}

public static class ReservationResult
{
    public const string Reserved = "Reserved";
    public const string Short = "Short";
    public const string Untracked = "Untracked";
}

/// <summary>An order's hold on a SKU's stock until the ERP's figures count it.</summary>
[GenerateSerializer, Immutable, Alias("RetailSync.Inventory.StockReservation")]
public sealed record StockReservation(
    [property: Id(0)] string OrderKey,
    [property: Id(1)] int Quantity,
    [property: Id(2)] DateTimeOffset At,
    [property: Id(3)] DateTimeOffset? AllocatedAt = null);

/// <summary>What RetailSync last wrote to Shopify for one shop's inventory item at one Shopify location.</summary>
[GenerateSerializer, Immutable, Alias("RetailSync.Inventory.ShopifyPush")]
public sealed record ShopifyPush(
    [property: Id(0)] string Shop,
    [property: Id(1)] string InventoryItemId,
    [property: Id(2)] string LocationId,
    [property: Id(3)] int Available,
    [property: Id(4)] DateTimeOffset At);

[GenerateSerializer, Immutable, Alias("RetailSync.Inventory.ErpStockChange")]
public sealed record ErpStockChange(
    [property: Id(0)] string Sku,
    [property: Id(1)] string Location,
    [property: Id(2)] decimal OnHand,
    [property: Id(3)] long Version,
    [property: Id(4)] DateTimeOffset OccurredAt);

[GenerateSerializer, Immutable, Alias("RetailSync.Inventory.LocationStock")]
public sealed record LocationStock(
    [property: Id(0)] string Location,
    [property: Id(1)] decimal OnHand,
    [property: Id(2)] long Version,
    [property: Id(3)] DateTimeOffset At);

[GenerateSerializer, Immutable, Alias("RetailSync.Inventory.PendingRestock")]
public sealed record PendingRestock(
    [property: Id(0)] string Key,
    [property: Id(1)] int Quantity,
    [property: Id(2)] string? Location,
    [property: Id(3)] DateTimeOffset At);

[GenerateSerializer, Immutable, Alias("RetailSync.Inventory.SkuView")]
public sealed record SkuView(
    [property: Id(0)] string Tenant,
    [property: Id(1)] string Sku,
    [property: Id(2)] ImmutableArray<LocationStock> Locations,
    [property: Id(3)] ImmutableArray<PendingRestock> PendingRestocks,
    [property: Id(4)] decimal OnHand,
    [property: Id(5)] DateTimeOffset? LastErpUpdateAt,
    [property: Id(6)] ImmutableArray<TimelineEntry> Timeline,
    [property: Id(7)] ImmutableDictionary<string, string>? ShopifyItems = null,
    [property: Id(8)] ImmutableArray<ShopifyPush> Pushed = default,
    [property: Id(9)] int Writes = 0,
    [property: Id(10)] int Echoes = 0,
    [property: Id(11)] ImmutableArray<StockReservation> Reservations = default,
    [property: Id(12)] ImmutableArray<StockReservation> Backorders = default,
    [property: Id(13)] decimal AvailableToSell = 0);

/// <summary>The SKUs a retailer's grains know (<c>{tenant}</c>): what an ERP without stock callbacks is polled for.</summary>
[Alias("RetailSync.Inventory.ISkuDirectoryGrain")]
public interface ISkuDirectoryGrain : IGrainWithStringKey
{
    [Alias("Add")]
    Task AddAsync(string sku);

    [Alias("List")]
    Task<ImmutableArray<string>> ListAsync();
}

/// <summary>
/// Polls the ERP's stock of every known SKU of a tenant (<c>{tenant}</c>) for ERPs that cannot call back
/// (Tryton), feeding changed figures to the SKU grains like a callback would.
/// </summary>
[Alias("RetailSync.Inventory.IErpStockPollerGrain")]
public interface IErpStockPollerGrain : IGrainWithStringKey
{
    /// <summary>Registers its reminder (idempotent) when polling is configured.</summary>
    [Alias("Start")]
    Task StartAsync();

    /// <summary>One round over the known SKUs; returns how many figures changed.</summary>
    [Alias("Poll")]
    Task<int> PollAsync();
}

[GenerateSerializer, Immutable, Alias("RetailSync.Inventory.ShopifyTarget")]
public sealed record ShopifyTarget(
    [property: Id(0)] string Shop,
    [property: Id(1)] string InventoryItemId,
    [property: Id(2)] string LocationId,
    [property: Id(3)] int Available);

/// <summary>A scheduled comparison of the ERP's stock (as the SKU grains hold it) with Shopify's levels, per tenant.</summary>
[Alias("RetailSync.Inventory.IDriftCheckGrain")]
public interface IDriftCheckGrain : IGrainWithStringKey
{
    /// <summary>Registers its reminder (idempotent) when a period is configured.</summary>
    [Alias("Start")]
    Task StartAsync();

    /// <summary>Compares every linked SKU now and repairs what differs.</summary>
    [Alias("Check")]
    Task<DriftReport> CheckAsync();

    /// <summary>The last check's report; null before the first.</summary>
    [Alias("Last")]
    Task<DriftReport?> LastAsync();
}

[GenerateSerializer, Immutable, Alias("RetailSync.Inventory.DriftReport")]
public sealed record DriftReport(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] int Checked,
    [property: Id(2)] ImmutableArray<DriftRepair> Repaired,
    [property: Id(3)] int Unreadable);

/// <summary>One level Shopify held that differed from the ERP's figure: what it was and what it was set to.</summary>
[GenerateSerializer, Immutable, Alias("RetailSync.Inventory.DriftRepair")]
public sealed record DriftRepair(
    [property: Id(0)] string Sku,
    [property: Id(1)] string Shop,
    [property: Id(2)] string LocationId,
    [property: Id(3)] int Found,
    [property: Id(4)] int Expected);
