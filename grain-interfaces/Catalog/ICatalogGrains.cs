using System.Collections.Immutable;
using RetailSync.Intake;
using RetailSync.Model;

namespace RetailSync.Catalog;

/// <summary>A Shopify product and its variants (the SKU ↔ inventory item map), keyed <c>{shop}/{productId}</c>.</summary>
[Alias("RetailSync.Catalog.IShopifyProductGrain")]
public interface IShopifyProductGrain : IGrainWithStringKey
{
    [Alias("Receive")]
    Task<IntakeOutcome> ReceiveAsync(ShopifyDelivery delivery, Product product);

    [Alias("Get")]
    Task<Product?> GetAsync();
}

/// <summary>Shopify's stock levels of one inventory item per location, keyed <c>{shop}/{inventoryItemId}</c>.</summary>
[Alias("RetailSync.Catalog.IShopifyInventoryItemGrain")]
public interface IShopifyInventoryItemGrain : IGrainWithStringKey
{
    [Alias("ReceiveItem")]
    Task<IntakeOutcome> ReceiveItemAsync(ShopifyDelivery delivery, InventoryItem item);

    [Alias("ReceiveLevel")]
    Task<IntakeOutcome> ReceiveLevelAsync(ShopifyDelivery delivery, InventoryLevel level);

    /// <summary>The SKU grain (<c>{tenant}/{sku}</c>) that pushes this item's levels: it hears every level Shopify reports.</summary>
    [Alias("LinkSku")]
    Task LinkSkuAsync(string skuKey);

    [Alias("Get")]
    Task<InventoryItemView> GetAsync();
}

[GenerateSerializer, Immutable, Alias("RetailSync.Catalog.InventoryItemView")]
public sealed record InventoryItemView([property: Id(0)] InventoryItem? Item, [property: Id(1)] ImmutableArray<InventoryLevel> Levels);
