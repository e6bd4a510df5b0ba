using RetailSync.Intake;
using RetailSync.Platform;

namespace RetailSync.Inventory;

/// <summary>
/// The ERP's stock truth for one SKU. ERP figures are applied per location in version order (a late,
/// older callback is recorded, not applied); restocks confirmed by the ERP wait here until its next
/// figure for their location counts them.
/// </summary>
public sealed class SkuGrain(
    [PersistentState("sku", StorageNames.State)] IPersistentState<SkuState> state,
    TimeProvider clock) : Grain, ISkuGrain
{
    private SkuState S => state.State;

    public Task<IntakeOutcome> ErpStockChangedAsync(ShopifyDelivery delivery, ErpStockChange change) =>
        this.ReceiveAsync(state, S.Journal, delivery, () =>
        {
            if (S.Locations.TryGetValue(change.Location, out var current) && change.Version <= current.Version)
            {
                return IntakeOutcome.Stale;
            }

            S.Locations[change.Location] = new LocationStock(change.Location, change.OnHand, change.Version, change.OccurredAt);
            S.LastErpUpdateAt = delivery.ReceivedAt;
            // The ERP's figure for this location now includes what was restocked there before it.
            S.PendingRestocks.RemoveAll(r => (r.Location ?? change.Location) == change.Location && r.At <= change.OccurredAt);
            return IntakeOutcome.Applied;
        }, outcome => outcome == IntakeOutcome.Stale
            ? $"{change.Location}: version {change.Version} is not newer than applied {S.Locations[change.Location].Version}"
            : $"{change.Location}: on hand {change.OnHand} (version {change.Version})");

    public async Task RestockedAsync(string key, int quantity, string? location)
    {
        if (S.RestocksSeen.Contains(key))
        {
            return;
        }

        var now = clock.GetUtcNow();
        S.RestocksSeen.Add(key);
        S.PendingRestocks.Add(new PendingRestock(key, quantity, location, now));
        S.Journal.Record(now, "restock", $"{quantity} taken back{(location is null ? "" : $" at {location}")} ({key}), until the ERP's next figure counts them", key);
        await this.WriteOrForgetAsync(state);
    }

    public Task<SkuView?> GetAsync()
    {
        if (S.Locations.Count == 0 && S.PendingRestocks.Count == 0)
        {
            return Task.FromResult<SkuView?>(null);
        }

        var (tenant, sku) = EntityKeys.Split(this.GetPrimaryKeyString());
        return Task.FromResult<SkuView?>(new SkuView(tenant, sku, [.. S.Locations.Values.OrderBy(l => l.Location, StringComparer.Ordinal)], [.. S.PendingRestocks],
            S.Locations.Values.Sum(l => l.OnHand) + S.PendingRestocks.Sum(r => r.Quantity), S.LastErpUpdateAt, [.. S.Journal.Timeline]));
    }
}

[GenerateSerializer, Alias("RetailSync.Inventory.SkuState")]
public sealed class SkuState
{
    [Id(0)] public Dictionary<string, LocationStock> Locations { get; set; } = new(StringComparer.Ordinal);
    [Id(1)] public List<PendingRestock> PendingRestocks { get; set; } = [];
    [Id(2)] public List<string> RestocksSeen { get; set; } = [];
    [Id(3)] public DateTimeOffset? LastErpUpdateAt { get; set; }
    [Id(4)] public Journal Journal { get; set; } = new();
}
