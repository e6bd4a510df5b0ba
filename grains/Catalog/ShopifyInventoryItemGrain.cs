using RetailSync.Intake;
using RetailSync.Inventory;
using RetailSync.Model;
using RetailSync.Platform;

namespace RetailSync.Catalog;

public sealed class ShopifyInventoryItemGrain(
    [PersistentState("shopifyInventoryItem", StorageNames.State)] IPersistentState<ShopifyInventoryItemState> state) : Grain, IShopifyInventoryItemGrain
{
    public Task<IntakeOutcome> ReceiveItemAsync(ShopifyDelivery delivery, InventoryItem item) =>
        this.ReceiveAsync(state, state.State.Journal, delivery, () =>
        {
            if (state.State.Item is { } current && item.UpdatedAt < current.UpdatedAt)
            {
                return IntakeOutcome.Stale;
            }

            state.State.Item = item;
            return IntakeOutcome.Applied;
        }, _ => $"sku {item.Sku ?? "-"}, tracked {item.Tracked}");

    public async Task<IntakeOutcome> ReceiveLevelAsync(ShopifyDelivery delivery, InventoryLevel level)
    {
        var outcome = await this.ReceiveAsync(state, state.State.Journal, delivery, () =>
        {
            if (state.State.Levels.TryGetValue(level.LocationId, out var current) && level.UpdatedAt < current.UpdatedAt)
            {
                return IntakeOutcome.Stale;
            }

            state.State.Levels[level.LocationId] = level;
            return IntakeOutcome.Applied;
        }, _ => $"location {level.LocationId} available {level.Available?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "untracked"} at {level.UpdatedAt:O}");
        if (outcome == IntakeOutcome.Applied && state.State.SkuKey is { } sku && level.Available is { } available)
        {
            // Our own write coming back, or a change made in Shopify: the SKU grain tells them apart.
            await GrainFactory.GetGrain<ISkuGrain>(sku).ShopifyLevelReportedAsync(EntityKeys.Split(this.GetPrimaryKeyString()).Scope, level.LocationId, available);
        }

        return outcome;
    }

    public async Task LinkSkuAsync(string skuKey)
    {
        if (state.State.SkuKey != skuKey)
        {
            state.State.SkuKey = skuKey;
            await this.WriteOrForgetAsync(state);
        }
    }

    public Task<InventoryItemView> GetAsync() => Task.FromResult(new InventoryItemView(state.State.Item, [.. state.State.Levels.Values]));
}

[GenerateSerializer, Alias("RetailSync.Catalog.ShopifyInventoryItemState")]
public sealed class ShopifyInventoryItemState
{
    [Id(0)] public Dictionary<string, InventoryLevel> Levels { get; set; } = [];
    [Id(1)] public Journal Journal { get; set; } = new();
    [Id(2)] public InventoryItem? Item { get; set; }
    [Id(3)] public string? SkuKey { get; set; }
}
