using System.Collections.Immutable;

namespace RetailSync.Model;

/// <summary>An exact amount in one ISO 4217 currency. Never a double.</summary>
[GenerateSerializer, Immutable, Alias("RetailSync.Money")]
public sealed record Money([property: Id(0)] decimal Amount, [property: Id(1)] string Currency)
{
    public static Money Zero(string currency) => new(0m, currency);
}

/// <summary>
/// One amount in the shop's currency and in the currency the buyer saw (Shopify's <c>*_set</c>);
/// the ERP books the shop amount, the customer is refunded the presentment amount.
/// </summary>
[GenerateSerializer, Immutable, Alias("RetailSync.MoneyBag")]
public sealed record MoneyBag([property: Id(0)] Money Shop, [property: Id(1)] Money Presentment)
{
    public static MoneyBag Of(decimal amount, string currency) => new(new Money(amount, currency), new Money(amount, currency));
}

[GenerateSerializer, Immutable, Alias("RetailSync.Address")]
public sealed record Address(
    [property: Id(0)] string? FirstName,
    [property: Id(1)] string? LastName,
    [property: Id(2)] string? Company,
    [property: Id(3)] string? Line1,
    [property: Id(4)] string? Line2,
    [property: Id(5)] string? City,
    [property: Id(6)] string? Province,
    [property: Id(7)] string? ProvinceCode,
    [property: Id(8)] string? PostalCode,
    [property: Id(9)] string? Country,
    [property: Id(10)] string? CountryCode,
    [property: Id(11)] string? Phone);

[GenerateSerializer, Immutable, Alias("RetailSync.MarketingConsent")]
public sealed record MarketingConsent(
    [property: Id(0)] string State,
    [property: Id(1)] string? OptInLevel,
    [property: Id(2)] DateTimeOffset? UpdatedAt);

/// <summary>A person as one source system (here Shopify) knows them.</summary>
[GenerateSerializer, Immutable, Alias("RetailSync.Customer")]
public sealed record Customer(
    [property: Id(0)] string CustomerId,
    [property: Id(1)] string? Email,
    [property: Id(2)] string? Phone,
    [property: Id(3)] string? FirstName,
    [property: Id(4)] string? LastName,
    [property: Id(5)] string? State,
    [property: Id(6)] MarketingConsent? EmailConsent,
    [property: Id(7)] MarketingConsent? SmsConsent,
    [property: Id(8)] Address? DefaultAddress,
    [property: Id(9)] ImmutableArray<Address> Addresses,
    [property: Id(10)] ImmutableArray<string> Tags,
    [property: Id(11)] string? Note,
    [property: Id(12)] bool TaxExempt,
    [property: Id(13)] DateTimeOffset? CreatedAt,
    [property: Id(14)] DateTimeOffset? UpdatedAt);
