using System.Globalization;
using System.Text.Json.Nodes;
using RetailSync.Connectors;
using RetailSync.Model;
using RetailSync.Operations;

namespace RetailSync.Orders;

/// <summary>Pure mappings from the canonical order to what each system is told about it.</summary>
public static class OrderPropagation
{
    public const string TagPrefix = "retailsync:";

    /// <summary>
    /// The buyer's golden customer when identity resolution has named one; otherwise the Shopify customer,
    /// and guests without one are booked on one web customer per shop.
    /// </summary>
    public static ErpCustomer ErpCustomer(string shop, Order order, string? goldenId = null)
    {
        if (goldenId is not null)
        {
            var person = (IEnumerable<string?>)(order.Customer is { } buyer ? [buyer.FirstName, buyer.LastName] : [order.BillingAddress?.FirstName, order.BillingAddress?.LastName]);
            var fullName = string.Join(' ', person.Where(n => !string.IsNullOrWhiteSpace(n)));
            var billing = order.BillingAddress ?? order.Customer?.DefaultAddress;
            var email = order.Customer?.Email ?? order.Email;
            // The phone as the golden record takes it from an order, so both paths give the ERP the same number.
            var phone = RetailSync.Customers.MatchKeys.PhoneToSend(order.Phone ?? order.Customer?.Phone ?? billing?.Phone, billing?.CountryCode);
            return new ErpCustomer(goldenId, fullName.Length > 0 ? fullName : email ?? goldenId, email, phone,
                billing?.Line1, billing?.City, billing?.PostalCode, billing?.CountryCode);
        }

        if (order.Customer is { } c)
        {
            var name = string.Join(' ', new[] { c.FirstName, c.LastName }.Where(n => !string.IsNullOrWhiteSpace(n)));
            var address = c.DefaultAddress ?? order.BillingAddress;
            return new ErpCustomer(ShopifyCustomerNumber(c.CustomerId), name.Length > 0 ? name : c.Email ?? $"Shopify customer {c.CustomerId}",
                c.Email ?? order.Email, RetailSync.Customers.MatchKeys.PhoneToSend(c.Phone ?? address?.Phone, address?.CountryCode),
                address?.Line1, address?.City, address?.PostalCode, address?.CountryCode);
        }

        return new ErpCustomer(WebGuestsNumber(shop), $"Web guests of {shop}", null, null, null, null, null, null);
    }

    /// <summary>ERP customer numbers are at most this long (Business Central's <c>No.</c> is a Code[20]).</summary>
    public const int MaxCustomerNumber = 20;

    /// <summary>
    /// A Shopify customer's ERP number when no golden id exists yet: <c>SH-</c> and the id in base 36, since the
    /// decimal id (up to 19 digits) does not fit in <see cref="MaxCustomerNumber"/> with any prefix that says where it came from.
    /// </summary>
    public static string ShopifyCustomerNumber(string customerId) =>
        ulong.TryParse(customerId, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? "SH-" + Base36(id)
            : Fitted("SH-", customerId.ToUpperInvariant());

    /// <summary>The one ERP customer of a shop's guest checkouts: <c>WEB-</c> and the shop's name, shortened with a hash when long.</summary>
    public static string WebGuestsNumber(string shop) => Fitted("WEB-", shop.Split('.')[0].ToUpperInvariant());

    private static string Fitted(string prefix, string name)
    {
        if (prefix.Length + name.Length <= MaxCustomerNumber)
        {
            return prefix + name;
        }

        // Distinct long names stay distinct: a prefix of the name and six characters of its hash.
        var hash = Base36(BitConverter.ToUInt64(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name)), 0)).PadLeft(13, '0')[..6];
        return prefix + name[..(MaxCustomerNumber - prefix.Length - 7)] + "-" + hash;
    }

    private static string Base36(ulong value)
    {
        const string digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        var text = new System.Text.StringBuilder();
        do
        {
            text.Insert(0, digits[(int)(value % 36)]);
            value /= 36;
        }
        while (value > 0);
        return text.ToString();
    }

    public static ErpOrderSubmission ErpSubmission(string shop, Order order, string? goldenId = null)
    {
        var customer = ErpCustomer(shop, order, goldenId);
        return new ErpOrderSubmission(customer, new ErpSalesOrder(
            order.OrderId,
            customer.Number,
            DateOnly.FromDateTime(order.CreatedAt.UtcDateTime),
            order.Currency,
            [.. order.Lines.Select(l => new ErpLine(l.Sku ?? "", l.Quantity, l.UnitPrice.Shop.Amount))]));
    }

    /// <summary>The CRM's order record, linked to the customer's account and contact when the CRM knows them.</summary>
    public static CrmUpsert CrmOrder(Order order, string status, string? erpNumber, CrmContext? context = null)
    {
        var record = CrmOrderFields(order, status, erpNumber);
        if (context is { Found: true })
        {
            record["AccountId"] = context.AccountId;
            record["BillToContactId"] = context.ContactId;
        }

        return new("Order", "Shopify_Order_Id__c", record);
    }

    private static JsonObject CrmOrderFields(Order order, string status, string? erpNumber) => new()
    {
        ["Shopify_Order_Id__c"] = order.OrderId,
        ["Name"] = order.Name ?? order.OrderId,
        ["Status"] = "Draft",
        ["EffectiveDate"] = order.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        ["RetailSync_Status__c"] = status,
        ["ERP_Order_Number__c"] = erpNumber,
        ["Total_Amount__c"] = order.Total.Shop.Amount,
        ["Currency__c"] = order.Currency,
        ["Shopify_Customer_Id__c"] = order.Customer?.CustomerId,
    };

    public static ShopifySyncStatus ShopifyStatus(string shop, Order order, string status, string? previousTag, string? erpNumber)
    {
        var tag = TagPrefix + status.ToLowerInvariant();
        var metafields = new Dictionary<string, string> { ["sync_status"] = status };
        if (erpNumber is not null)
        {
            metafields["erp_order_no"] = erpNumber;
        }

        return new ShopifySyncStatus(shop, order.OrderId, [tag], previousTag is null || previousTag == tag ? [] : [previousTag], metafields);
    }
}
