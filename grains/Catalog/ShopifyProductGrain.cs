using RetailSync.Intake;
using RetailSync.Model;
using RetailSync.Platform;

namespace RetailSync.Catalog;

public sealed class ShopifyProductGrain(
    [PersistentState("shopifyProduct", StorageNames.State)] IPersistentState<ShopifyProductState> state) : Grain, IShopifyProductGrain
{
    public Task<IntakeOutcome> ReceiveAsync(ShopifyDelivery delivery, Product product) =>
        this.ReceiveAsync(state, state.State.Journal, delivery, () =>
        {
            if (state.State.Product is { } current && product.UpdatedAt < current.UpdatedAt)
            {
                return IntakeOutcome.Stale;
            }

            state.State.Product = product;
            return IntakeOutcome.Applied;
        }, _ => $"updated_at {product.UpdatedAt:O}, {product.Variants.Length} variants");

    public Task<Product?> GetAsync() => Task.FromResult(state.State.Product);
}

[GenerateSerializer, Alias("RetailSync.Catalog.ShopifyProductState")]
public sealed class ShopifyProductState
{
    [Id(0)] public Product? Product { get; set; }
    [Id(1)] public Journal Journal { get; set; } = new();
}
