using System.Collections.Immutable;
using RetailSync.Intake;
using RetailSync.Model;

namespace RetailSync.Customers;

/// <summary>Pure mappings from what Shopify sends to the source records identity resolution matches.</summary>
public static class CustomerRecords
{
    /// <summary>A Shopify customer tag <c>loyalty:&lt;id&gt;</c> carries the loyalty programme's id.</summary>
    public const string LoyaltyTagPrefix = "loyalty:";

    public static SourceRecord FromShopifyCustomer(string shop, Customer c)
    {
        var fields = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        Put(fields, CustomerFields.FirstName, c.FirstName);
        Put(fields, CustomerFields.LastName, c.LastName);
        Put(fields, CustomerFields.Email, c.Email);
        Put(fields, CustomerFields.Phone, c.Phone ?? c.DefaultAddress?.Phone);
        Put(fields, CustomerFields.CountryCode, c.DefaultAddress?.CountryCode);
        var address = Format(c.DefaultAddress);
        // Shopify's default address stands in for the billing address until the ERP (its owner) says otherwise.
        Put(fields, CustomerFields.BillingAddress, address);
        Put(fields, CustomerFields.ShippingAddress, address);
        Put(fields, CustomerFields.Consent, c.EmailConsent?.State);
        Put(fields, CustomerFields.LoyaltyId, c.Tags.FirstOrDefault(t => t.StartsWith(LoyaltyTagPrefix, StringComparison.OrdinalIgnoreCase))?[LoyaltyTagPrefix.Length..]);
        Put(fields, CustomerFields.StorefrontProfile, $"state={c.State};tags={string.Join(',', c.Tags)}");
        return new SourceRecord(CustomerSources.Shopify, EntityKeys.ForShop(shop, c.CustomerId), c.UpdatedAt ?? c.CreatedAt ?? DateTimeOffset.UnixEpoch, fields.ToImmutable());
    }

    /// <summary>The buyer of an order; null when it names nobody (no customer and no email): such orders stay unattached.</summary>
    public static SourceRecord? FromOrder(string shop, Order o)
    {
        var email = o.Customer?.Email is { Length: > 0 } e ? e : o.Email;
        if (o.Customer is null && MatchKeys.NormaliseEmail(email) is null)
        {
            return null;
        }

        var billing = o.BillingAddress ?? o.Customer?.DefaultAddress;
        var fields = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        Put(fields, CustomerFields.FirstName, o.Customer?.FirstName ?? billing?.FirstName);
        Put(fields, CustomerFields.LastName, o.Customer?.LastName ?? billing?.LastName);
        Put(fields, CustomerFields.Email, email);
        Put(fields, CustomerFields.Phone, o.Phone ?? o.Customer?.Phone ?? billing?.Phone);
        Put(fields, CustomerFields.CountryCode, billing?.CountryCode);
        Put(fields, CustomerFields.BillingAddress, Format(billing));
        Put(fields, CustomerFields.ShippingAddress, Format(o.ShippingAddress));
        return new SourceRecord(CustomerSources.Shopify, o.Customer is { } c ? EntityKeys.ForShop(shop, c.CustomerId) : null,
            o.UpdatedAt, fields.ToImmutable(), EntityKeys.ForShop(shop, o.OrderId));
    }

    private static string? Format(Address? a) => a is null ? null : MatchKeys.FormatAddress(a.Line1, a.Line2, a.PostalCode, a.City, a.CountryCode);

    private static void Put(ImmutableDictionary<string, string>.Builder fields, string name, string? value)
    {
        if (!string.IsNullOrWhiteSpace(value))
        {
            fields[name] = value.Trim();
        }
    }
}
