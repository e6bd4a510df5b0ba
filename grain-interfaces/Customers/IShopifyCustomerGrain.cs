using System.Collections.Immutable;
using RetailSync.Intake;
using RetailSync.Model;

namespace RetailSync.Customers;

/// <summary>
/// A customer as Shopify knows them, keyed <c>{shop}/{customerId}</c>: one source identity that
/// identity resolution links to a golden customer.
/// </summary>
[Alias("RetailSync.Customers.IShopifyCustomerGrain")]
public interface IShopifyCustomerGrain : IGrainWithStringKey
{
    /// <summary>Records a customers/create, customers/update or customers/delete delivery.</summary>
    [Alias("Receive")]
    Task<IntakeOutcome> ReceiveAsync(ShopifyDelivery delivery, Customer customer, bool deleted);

    /// <summary>Erases the person's data, keeping only the fact that a redaction happened.</summary>
    [Alias("Redact")]
    Task RedactAsync(string reason);

    [Alias("Get")]
    Task<ShopifyCustomerView?> GetAsync();
}

[GenerateSerializer, Immutable, Alias("RetailSync.Customers.ShopifyCustomerView")]
public sealed record ShopifyCustomerView(
    [property: Id(0)] string Shop,
    [property: Id(1)] string CustomerId,
    [property: Id(2)] Customer? Customer,
    [property: Id(3)] bool Deleted,
    [property: Id(4)] bool Redacted,
    [property: Id(5)] ImmutableArray<TimelineEntry> Timeline,
    [property: Id(6)] string? GoldenId = null);
