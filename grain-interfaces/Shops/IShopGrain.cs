using System.Collections.Immutable;
using RetailSync.Customers;
using RetailSync.Intake;
using RetailSync.Orders;

namespace RetailSync.Shops;

/// <summary>One installed shop, keyed by its myshopify.com domain: app lifecycle and privacy requests.</summary>
[Alias("RetailSync.Shops.IShopGrain")]
public interface IShopGrain : IGrainWithStringKey
{
    /// <summary>app/uninstalled: stop calling this shop's Admin API.</summary>
    [Alias("Uninstalled")]
    Task<IntakeOutcome> UninstalledAsync(ShopifyDelivery delivery);

    /// <summary>customers/data_request, customers/redact, shop/redact: recorded, then carried out until done.</summary>
    [Alias("PrivacyRequest")]
    Task<IntakeOutcome> PrivacyRequestAsync(ShopifyDelivery delivery, PrivacyRequest request);

    [Alias("Get")]
    Task<ShopView> GetAsync();

    /// <summary>
    /// The person's data as this cluster holds it now, for the data request of that id (Shopify's
    /// <c>data_request.id</c>), to hand to the shop; null for a request never received. Each copy is on the timeline.
    /// </summary>
    [Alias("DataRequestDocument")]
    Task<PersonalDataDocument?> DataRequestDocumentAsync(string dataRequestId);
}

public enum PrivacyRequestKind
{
    DataRequest,
    CustomerRedact,
    ShopRedact,
}

/// <summary>A privacy request as Shopify sends it, reduced to ids: the request itself holds no personal data.</summary>
[GenerateSerializer, Immutable, Alias("RetailSync.Shops.PrivacyRequest")]
public sealed record PrivacyRequest(
    [property: Id(0)] PrivacyRequestKind Kind,
    [property: Id(1)] string? CustomerId,
    [property: Id(2)] ImmutableArray<string> OrderIds,
    [property: Id(3)] string? DataRequestId);

[GenerateSerializer, Immutable, Alias("RetailSync.Shops.PrivacyRequestView")]
public sealed record PrivacyRequestView(
    [property: Id(0)] string CorrelationId,
    [property: Id(1)] PrivacyRequest Request,
    [property: Id(2)] DateTimeOffset ReceivedAt,
    [property: Id(3)] DateTimeOffset? CompletedAt,
    [property: Id(4)] int Attempts,
    [property: Id(5)] string? LastError);

[GenerateSerializer, Immutable, Alias("RetailSync.Shops.ShopView")]
public sealed record ShopView(
    [property: Id(0)] string Shop,
    [property: Id(1)] bool Installed,
    [property: Id(2)] bool Redacted,
    [property: Id(3)] ImmutableArray<PrivacyRequestView> PrivacyRequests,
    [property: Id(4)] ImmutableArray<TimelineEntry> Timeline);

/// <summary>What a customers/data_request asks for: the person's records in every part of this cluster that holds them.</summary>
/// <param name="ShopifyCustomer">The person as the shop's Shopify customer (null when never received).</param>
/// <param name="GoldenCustomer">The golden record the Shopify customer resolved to, with its sources and history.</param>
/// <param name="Orders">The orders the request names and the golden record's orders in this shop.</param>
[GenerateSerializer, Immutable, Alias("RetailSync.Shops.PersonalDataDocument")]
public sealed record PersonalDataDocument(
    [property: Id(0)] string Shop,
    [property: Id(1)] string DataRequestId,
    [property: Id(2)] string? CustomerId,
    [property: Id(3)] DateTimeOffset RequestedAt,
    [property: Id(4)] DateTimeOffset ProducedAt,
    [property: Id(5)] ShopifyCustomerView? ShopifyCustomer,
    [property: Id(6)] CustomerView? GoldenCustomer,
    [property: Id(7)] ImmutableArray<OrderView> Orders);
