using RetailSync.Intake;
using RetailSync.Model;
using RetailSync.Customers;

namespace RetailSync.Orders;

/// <summary>The order's intake rules in one place: what a Shopify order payload may change.</summary>
public static class OrderIntakeRules
{
    /// <summary>
    /// Any orders/* payload is the whole order, so the first one to arrive creates it whatever its
    /// topic; after that, a payload older than what was applied changes nothing.
    /// </summary>
    public static IntakeOutcome Decide(Order? current, Order incoming) =>
        current is not null && incoming.UpdatedAt < current.UpdatedAt ? IntakeOutcome.Stale : IntakeOutcome.Applied;

    /// <summary>The order without the buyer's personal data; amounts, lines and the country stay for the books.</summary>
    public static Order Redact(Order order) => order with
    {
        Email = null,
        Phone = null,
        Customer = null,
        Note = null,
        BillingAddress = RedactAddress(order.BillingAddress),
        ShippingAddress = RedactAddress(order.ShippingAddress),
    };

    private static Address? RedactAddress(Address? a) =>
        a is null ? null : new Address(null, null, null, null, null, null, a.Province, a.ProvinceCode, null, a.Country, a.CountryCode, null);

    /// <summary>Every value <see cref="Redact"/> takes away, and the phones as the ERP and CRM were sent them (E.164).</summary>
    public static IEnumerable<string?> PersonalValues(Order order)
    {
        var country = order.ShippingAddress?.CountryCode ?? order.BillingAddress?.CountryCode;
        string?[] phones = [order.Phone, order.Customer?.Phone, order.BillingAddress?.Phone, order.ShippingAddress?.Phone];
        return [order.Email, order.Customer?.Email, order.Customer?.FirstName, order.Customer?.LastName, order.Customer?.Note, order.Note,
            .. AddressValues(order.BillingAddress), .. AddressValues(order.ShippingAddress), .. AddressValues(order.Customer?.DefaultAddress),
            .. phones, .. phones.Select(p => MatchKeys.NormalisePhone(p, country))];
    }

    private static IEnumerable<string?> AddressValues(Address? a) =>
        a is null ? [] : [a.FirstName, a.LastName, a.Company, a.Line1, a.Line2, a.City, a.PostalCode, a.Phone];
}
