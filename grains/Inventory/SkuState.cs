using System.Collections.Immutable;
using RetailSync.Intake;
using RetailSync.Outbox;

namespace RetailSync.Inventory;

[GenerateSerializer, Alias("RetailSync.Inventory.SkuState")]
public sealed class SkuState
{
    // Most SKUs only ever hold an ERP figure: the other collections are created on first use and dropped
    // when empty again (an empty dictionary costs 80 bytes, with 100,000 active SKUs that is 40 MB). Read
    // through the read-only views; change through the Writable... members.
    [Id(0)] public Dictionary<string, LocationStock> Locations { get; set; } = new(StringComparer.Ordinal);
    [Id(1)] public List<PendingRestock>? PendingRestocksStored { get; set; }
    [Id(2)] public List<string>? RestocksSeenStored { get; set; }
    [Id(3)] public DateTimeOffset? LastErpUpdateAt { get; set; }
    [Id(4)] public Journal Journal { get; set; } = new();

    /// <summary>Shop → Shopify inventory item of this SKU.</summary>
    [Id(5)] public Dictionary<string, string>? ShopifyItemsStored { get; set; }

    /// <summary>"{shop}|{location}" → what Shopify was last given (the compare value of the next write).</summary>
    [Id(6)] public Dictionary<string, ShopifyPush>? PushedStored { get; set; }

    [Id(7)] public CommandOutbox Outbox { get; set; } = new();
    [Id(8)] public int Writes { get; set; }

    /// <summary>Levels Shopify reported that were our own writes coming back (not stored per event: only counted).</summary>
    [Id(9)] public int Echoes { get; set; }

    /// <summary>"{shop}|{location}" → the last values we wrote there, to recognise their webhooks when they come back.</summary>
    [Id(10)] public Dictionary<string, List<int>>? RecentWritesStored { get; set; }

    /// <summary>Pending write → when the ERP made the change it shows (inventory freshness).</summary>
    [Id(11)] public Dictionary<string, DateTimeOffset>? ShowsErpChangeOfStored { get; set; }

    /// <summary>Order key → its open reservation of this SKU.</summary>
    [Id(12)] public Dictionary<string, StockReservation>? ReservationsStored { get; set; }

    /// <summary>Orders waiting for stock, first come first served.</summary>
    [Id(13)] public List<StockReservation>? BackordersStored { get; set; }

    public IReadOnlyList<PendingRestock> PendingRestocks => PendingRestocksStored ?? [];
    public IReadOnlyList<string> RestocksSeen => RestocksSeenStored ?? [];
    public IReadOnlyDictionary<string, string> ShopifyItems => (IReadOnlyDictionary<string, string>?)ShopifyItemsStored ?? ImmutableDictionary<string, string>.Empty;
    public IReadOnlyDictionary<string, ShopifyPush> Pushed => (IReadOnlyDictionary<string, ShopifyPush>?)PushedStored ?? ImmutableDictionary<string, ShopifyPush>.Empty;
    public IReadOnlyDictionary<string, List<int>> RecentWrites => (IReadOnlyDictionary<string, List<int>>?)RecentWritesStored ?? ImmutableDictionary<string, List<int>>.Empty;
    public IReadOnlyDictionary<string, DateTimeOffset> ShowsErpChangeOf => (IReadOnlyDictionary<string, DateTimeOffset>?)ShowsErpChangeOfStored ?? ImmutableDictionary<string, DateTimeOffset>.Empty;
    public IReadOnlyDictionary<string, StockReservation> Reservations => (IReadOnlyDictionary<string, StockReservation>?)ReservationsStored ?? ImmutableDictionary<string, StockReservation>.Empty;
    public IReadOnlyList<StockReservation> Backorders => BackordersStored ?? [];

    public List<PendingRestock> WritablePendingRestocks => PendingRestocksStored ??= [];
    public List<string> WritableRestocksSeen => RestocksSeenStored ??= [];
    public Dictionary<string, string> WritableShopifyItems => ShopifyItemsStored ??= new(StringComparer.Ordinal);
    public Dictionary<string, ShopifyPush> WritablePushed => PushedStored ??= new(StringComparer.Ordinal);
    public Dictionary<string, List<int>> WritableRecentWrites => RecentWritesStored ??= new(StringComparer.Ordinal);
    public Dictionary<string, DateTimeOffset> WritableShowsErpChangeOf => ShowsErpChangeOfStored ??= new(StringComparer.Ordinal);
    public Dictionary<string, StockReservation> WritableReservations => ReservationsStored ??= new(StringComparer.Ordinal);
    public List<StockReservation> WritableBackorders => BackordersStored ??= [];

    /// <summary>Drops the collections that are empty again (a dictionary keeps its grown arrays when emptied).</summary>
    public void Trim()
    {
        if (PendingRestocksStored is { Count: 0 }) PendingRestocksStored = null;
        if (ShowsErpChangeOfStored is { Count: 0 }) ShowsErpChangeOfStored = null;
        if (ReservationsStored is { Count: 0 }) ReservationsStored = null;
        if (BackordersStored is { Count: 0 }) BackordersStored = null;
    }
}
