using System.Collections.Immutable;

namespace RetailSync.Model;

[GenerateSerializer, Immutable, Alias("RetailSync.TaxLine")]
public sealed record TaxLine([property: Id(0)] string Title, [property: Id(1)] decimal Rate, [property: Id(2)] MoneyBag Amount);

[GenerateSerializer, Immutable, Alias("RetailSync.Discount")]
public sealed record Discount([property: Id(0)] string Code, [property: Id(1)] string Type, [property: Id(2)] decimal Value);

[GenerateSerializer, Immutable, Alias("RetailSync.ShippingLine")]
public sealed record ShippingLine(
    [property: Id(0)] string Title,
    [property: Id(1)] string? Code,
    [property: Id(2)] MoneyBag Price,
    [property: Id(3)] ImmutableArray<TaxLine> TaxLines);

[GenerateSerializer, Immutable, Alias("RetailSync.OrderLine")]
public sealed record OrderLine(
    [property: Id(0)] string LineId,
    [property: Id(1)] string? ProductId,
    [property: Id(2)] string? VariantId,
    [property: Id(3)] string? Sku,
    [property: Id(4)] string Title,
    [property: Id(5)] string? VariantTitle,
    [property: Id(6)] int Quantity,
    [property: Id(7)] MoneyBag UnitPrice,
    [property: Id(8)] MoneyBag TotalDiscount,
    [property: Id(9)] ImmutableArray<TaxLine> TaxLines,
    [property: Id(10)] bool RequiresShipping,
    [property: Id(11)] string? FulfillmentStatus);

/// <summary>The canonical order: what Shopify's checkout produced, in our terms.</summary>
[GenerateSerializer, Immutable, Alias("RetailSync.Order")]
public sealed record Order(
    [property: Id(0)] string OrderId,
    [property: Id(1)] string? Name,
    [property: Id(2)] long? OrderNumber,
    [property: Id(3)] string? Email,
    [property: Id(4)] string? Phone,
    [property: Id(5)] Customer? Customer,
    [property: Id(6)] string Currency,
    [property: Id(7)] string PresentmentCurrency,
    [property: Id(8)] MoneyBag Subtotal,
    [property: Id(9)] MoneyBag TotalTax,
    [property: Id(10)] MoneyBag TotalDiscounts,
    [property: Id(11)] MoneyBag TotalShipping,
    [property: Id(12)] MoneyBag Total,
    [property: Id(13)] bool TaxesIncluded,
    [property: Id(14)] string? FinancialStatus,
    [property: Id(15)] string? FulfillmentStatus,
    [property: Id(16)] Address? BillingAddress,
    [property: Id(17)] Address? ShippingAddress,
    [property: Id(18)] ImmutableArray<OrderLine> Lines,
    [property: Id(19)] ImmutableArray<Discount> Discounts,
    [property: Id(20)] ImmutableArray<TaxLine> TaxLines,
    [property: Id(21)] ImmutableArray<ShippingLine> ShippingLines,
    [property: Id(22)] ImmutableArray<string> Tags,
    [property: Id(23)] string? Note,
    [property: Id(24)] string? SourceName,
    [property: Id(25)] bool Test,
    [property: Id(26)] DateTimeOffset CreatedAt,
    [property: Id(27)] DateTimeOffset UpdatedAt,
    [property: Id(28)] DateTimeOffset? CancelledAt,
    [property: Id(29)] string? CancelReason);

[GenerateSerializer, Immutable, Alias("RetailSync.FulfillmentLine")]
public sealed record FulfillmentLine([property: Id(0)] string LineId, [property: Id(1)] string? Sku, [property: Id(2)] int Quantity);

[GenerateSerializer, Immutable, Alias("RetailSync.Fulfillment")]
public sealed record Fulfillment(
    [property: Id(0)] string FulfillmentId,
    [property: Id(1)] string OrderId,
    [property: Id(2)] string? Status,
    [property: Id(3)] string? TrackingCompany,
    [property: Id(4)] ImmutableArray<string> TrackingNumbers,
    [property: Id(5)] ImmutableArray<string> TrackingUrls,
    [property: Id(6)] ImmutableArray<FulfillmentLine> Lines,
    [property: Id(7)] string? LocationId,
    [property: Id(8)] DateTimeOffset CreatedAt,
    [property: Id(9)] DateTimeOffset UpdatedAt);
