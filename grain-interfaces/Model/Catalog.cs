using System.Collections.Immutable;

namespace RetailSync.Model;

/// <summary>Shopify's available quantity of one inventory item at one location.</summary>
[GenerateSerializer, Immutable, Alias("RetailSync.InventoryLevel")]
public sealed record InventoryLevel(
    [property: Id(0)] string InventoryItemId,
    [property: Id(1)] string LocationId,
    [property: Id(2)] int? Available,
    [property: Id(3)] DateTimeOffset UpdatedAt);

[GenerateSerializer, Immutable, Alias("RetailSync.Variant")]
public sealed record Variant(
    [property: Id(0)] string VariantId,
    [property: Id(1)] string? Sku,
    [property: Id(2)] string? Title,
    [property: Id(3)] decimal? Price,
    [property: Id(4)] string? InventoryItemId,
    [property: Id(5)] int? InventoryQuantity,
    [property: Id(6)] string? Barcode);

[GenerateSerializer, Immutable, Alias("RetailSync.Product")]
public sealed record Product(
    [property: Id(0)] string ProductId,
    [property: Id(1)] string Title,
    [property: Id(2)] string? Handle,
    [property: Id(3)] string? Status,
    [property: Id(4)] string? Vendor,
    [property: Id(5)] string? ProductType,
    [property: Id(6)] ImmutableArray<Variant> Variants,
    [property: Id(7)] DateTimeOffset UpdatedAt);

/// <summary>Shopify's inventory item: links a stock level (which has no SKU) to its SKU.</summary>
[GenerateSerializer, Immutable, Alias("RetailSync.InventoryItem")]
public sealed record InventoryItem(
    [property: Id(0)] string InventoryItemId,
    [property: Id(1)] string? Sku,
    [property: Id(2)] bool Tracked,
    [property: Id(3)] bool RequiresShipping,
    [property: Id(4)] DateTimeOffset UpdatedAt);
