using RetailSync.Intake;
using RetailSync.Model;
using RetailSync.Platform;

namespace RetailSync.Catalog;

public sealed class ShopifyProductGrain(
    [PersistentState("shopifyProduct", StorageNames.State)] IPersistentState<ShopifyProductState> state) : Grain, IShopifyProductGrain
{
    public async Task<IntakeOutcome> ReceiveAsync(ShopifyDelivery delivery, Product product)
    {
        var s = state.State;
        if (s.Journal.HasSeen(delivery))
        {
            return IntakeOutcome.Duplicate;
        }

        var outcome = s.Product is { } current && product.UpdatedAt < current.UpdatedAt ? IntakeOutcome.Stale : IntakeOutcome.Applied;
        if (outcome == IntakeOutcome.Applied)
        {
            s.Product = product;
        }

        s.Journal.RecordDelivery(delivery, outcome, $"updated_at {product.UpdatedAt:O}, {product.Variants.Length} variants");
        await this.WriteOrForgetAsync(state);
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
