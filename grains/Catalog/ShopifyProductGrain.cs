using RetailSync.Intake;
using RetailSync.Inventory;
using RetailSync.Model;
using RetailSync.Platform;

namespace RetailSync.Catalog;

public sealed class ShopifyProductGrain(
    [PersistentState("shopifyProduct", StorageNames.State)] IPersistentState<ShopifyProductState> state) : Grain, IShopifyProductGrain
{
    public async Task<IntakeOutcome> ReceiveAsync(ShopifyDelivery delivery, Product product)
    {
        var outcome = await this.ReceiveAsync(state, state.State.Journal, delivery, () =>
        {
            if (state.State.Product is { } current && product.UpdatedAt < current.UpdatedAt)
            {
                return IntakeOutcome.Stale;
            }

            state.State.Product = product;
            return IntakeOutcome.Applied;
        }, _ => $"updated_at {product.UpdatedAt:O}, {product.Variants.Length} variants");

        // Each SKU learns its inventory item in this shop, before the webhook is answered: a failure here
        // answers 503 and Shopify's retry (a duplicate for this grain) links them again.
        foreach (var variant in (state.State.Product ?? product).Variants.Where(v => !string.IsNullOrEmpty(v.Sku) && !string.IsNullOrEmpty(v.InventoryItemId)))
        {
            await GrainFactory.GetGrain<ISkuGrain>(EntityKeys.ForShop(delivery.Tenant, variant.Sku!)).LinkShopifyItemAsync(delivery.Shop, variant.InventoryItemId!);
        }

        return outcome;
    }

    public Task<Product?> GetAsync() => Task.FromResult(state.State.Product);
}

[GenerateSerializer, Alias("RetailSync.Catalog.ShopifyProductState")]
public sealed class ShopifyProductState
{
    [Id(0)] public Product? Product { get; set; }
    [Id(1)] public Journal Journal { get; set; } = new();
}
