using RetailSync.Intake;
using RetailSync.Model;
using RetailSync.Platform;

namespace RetailSync.Catalog;

public sealed class ShopifyInventoryItemGrain(
    [PersistentState("shopifyInventoryItem", StorageNames.State)] IPersistentState<ShopifyInventoryItemState> state) : Grain, IShopifyInventoryItemGrain
{
    public async Task<IntakeOutcome> ReceiveItemAsync(ShopifyDelivery delivery, InventoryItem item)
    {
        var s = state.State;
        if (s.Journal.HasSeen(delivery))
        {
            return IntakeOutcome.Duplicate;
        }

        var outcome = s.Item is { } current && item.UpdatedAt < current.UpdatedAt ? IntakeOutcome.Stale : IntakeOutcome.Applied;
        if (outcome == IntakeOutcome.Applied)
        {
            s.Item = item;
        }

        s.Journal.RecordDelivery(delivery, outcome, $"sku {item.Sku ?? "-"}, tracked {item.Tracked}");
        await this.WriteOrForgetAsync(state);
        return outcome;
    }

    public async Task<IntakeOutcome> ReceiveLevelAsync(ShopifyDelivery delivery, InventoryLevel level)
    {
        var s = state.State;
        if (s.Journal.HasSeen(delivery))
        {
            return IntakeOutcome.Duplicate;
        }

        var outcome = s.Levels.TryGetValue(level.LocationId, out var current) && level.UpdatedAt < current.UpdatedAt
            ? IntakeOutcome.Stale
            : IntakeOutcome.Applied;
        if (outcome == IntakeOutcome.Applied)
        {
            s.Levels[level.LocationId] = level;
        }

        s.Journal.RecordDelivery(delivery, outcome, $"location {level.LocationId} available {level.Available?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "untracked"} at {level.UpdatedAt:O}");
        await this.WriteOrForgetAsync(state);
        return outcome;
    }

    public Task<InventoryItemView> GetAsync() => Task.FromResult(new InventoryItemView(state.State.Item, [.. state.State.Levels.Values]));
}

[GenerateSerializer, Alias("RetailSync.Catalog.ShopifyInventoryItemState")]
public sealed class ShopifyInventoryItemState
{
    [Id(0)] public Dictionary<string, InventoryLevel> Levels { get; set; } = [];
    [Id(1)] public Journal Journal { get; set; } = new();
    [Id(2)] public InventoryItem? Item { get; set; }
}
