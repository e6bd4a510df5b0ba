using RetailSync.Intake;
using RetailSync.Model;

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

    public static IEnumerable<string?> PersonalValues(Order order) =>
    [
        order.Email, order.Phone, order.Customer?.Email, order.Customer?.Phone, order.Customer?.FirstName, order.Customer?.LastName,
        order.BillingAddress?.LastName, order.ShippingAddress?.LastName, order.BillingAddress?.Line1, order.ShippingAddress?.Line1,
    ];
}
