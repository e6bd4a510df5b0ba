using System.Collections.Immutable;
using System.Text.Json;
using RetailSync.Model;
using RetailSync.Shops;

namespace RetailSync.Shopify;

/// <summary>Pure mappings from Shopify webhook payloads (any API version we have seen) to the canonical model.</summary>
public static class ShopifyMapper
{
    public static Order Order(JsonElement o)
    {
        var id = o.RequiredId("id", "order");
        // Every order payload carries its lines (an empty list at most): a body without them is not an order,
        // whatever the topic header says (the topic is not covered by the signature).
        if (o.Get("line_items") is not { ValueKind: JsonValueKind.Array })
        {
            throw new ShopifyPayloadException("order has no line_items");
        }

        var currency = o.Str("currency") ?? o.Obj("total_price_set")?.Obj("shop_money")?.Str("currency_code")
            ?? throw new ShopifyPayloadException("order has no currency");
        var presentment = o.Str("presentment_currency") ?? currency;
        var created = o.Time("created_at") ?? o.Time("updated_at") ?? throw new ShopifyPayloadException("order has no created_at");
        var shippingLines = o.Array("shipping_lines", s => ShippingLine(s, currency, presentment));
        var totalShipping = o.Obj("total_shipping_price_set") is not null
            ? o.Bag("total_shipping_price", currency, presentment)
            : Sum(shippingLines.Select(s => s.Price), currency, presentment);
        return new Order(
            OrderId: id,
            Name: o.Str("name"),
            OrderNumber: o.Long("order_number"),
            Email: o.Str("email") ?? o.Str("contact_email"),
            Phone: o.Str("phone"),
            Customer: o.Obj("customer") is { } c && c.Id("id") is not null ? Customer(c) : null,
            Currency: currency,
            PresentmentCurrency: presentment,
            Subtotal: o.Bag("subtotal_price", currency, presentment),
            TotalTax: o.Bag("total_tax", currency, presentment),
            TotalDiscounts: o.Bag("total_discounts", currency, presentment),
            TotalShipping: totalShipping,
            Total: o.Bag("total_price", currency, presentment),
            TaxesIncluded: o.Bool("taxes_included"),
            FinancialStatus: o.Str("financial_status"),
            FulfillmentStatus: o.Str("fulfillment_status"),
            BillingAddress: o.Obj("billing_address") is { } b ? Address(b) : null,
            ShippingAddress: o.Obj("shipping_address") is { } s ? Address(s) : null,
            Lines: o.Array("line_items", l => Line(l, currency, presentment)),
            Discounts: o.Array("discount_codes", Discount),
            TaxLines: o.Array("tax_lines", t => TaxLine(t, currency, presentment)),
            ShippingLines: shippingLines,
            Tags: o.Tags("tags"),
            Note: o.Str("note"),
            SourceName: o.Str("source_name"),
            Test: o.Bool("test"),
            CreatedAt: created,
            UpdatedAt: o.Time("updated_at") ?? created,
            CancelledAt: o.Time("cancelled_at"),
            CancelReason: o.Str("cancel_reason"));
    }

    private static OrderLine Line(JsonElement l, string currency, string presentment) => new(
        LineId: l.RequiredId("id", "line item"),
        ProductId: l.Id("product_id"),
        VariantId: l.Id("variant_id"),
        Sku: l.Str("sku"),
        Title: l.Str("title") ?? l.Str("name") ?? "",
        VariantTitle: l.Str("variant_title"),
        Quantity: l.Int("quantity"),
        UnitPrice: l.Bag("price", currency, presentment),
        TotalDiscount: l.Bag("total_discount", currency, presentment),
        TaxLines: l.Array("tax_lines", t => TaxLine(t, currency, presentment)),
        RequiresShipping: l.Bool("requires_shipping"),
        FulfillmentStatus: l.Str("fulfillment_status"));

    private static TaxLine TaxLine(JsonElement t, string currency, string presentment) =>
        new(t.Str("title") ?? "", t.Dec("rate") ?? 0m, t.Bag("price", currency, presentment));

    private static Discount Discount(JsonElement d) => new(d.Str("code") ?? "", d.Str("type") ?? "", d.Dec("amount") ?? 0m);

    private static ShippingLine ShippingLine(JsonElement s, string currency, string presentment) => new(
        s.Str("title") ?? "",
        s.Str("code"),
        s.Bag("price", currency, presentment),
        s.Array("tax_lines", t => TaxLine(t, currency, presentment)));

    private static MoneyBag Sum(IEnumerable<MoneyBag> bags, string currency, string presentment)
    {
        var list = bags.ToList();
        return new MoneyBag(
            new Money(list.Sum(b => b.Shop.Amount), currency),
            new Money(list.Sum(b => b.Presentment.Amount), presentment));
    }

    public static Address Address(JsonElement a) => new(
        a.Str("first_name"), a.Str("last_name"), a.Str("company"), a.Str("address1"), a.Str("address2"),
        a.Str("city"), a.Str("province"), a.Str("province_code"), a.Str("zip"), a.Str("country") ?? a.Str("country_name"),
        a.Str("country_code"), a.Str("phone"));

    public static Customer Customer(JsonElement c) => new(
        CustomerId: c.RequiredId("id", "customer"),
        Email: c.Str("email"),
        Phone: c.Str("phone"),
        FirstName: c.Str("first_name"),
        LastName: c.Str("last_name"),
        State: c.Str("state"),
        EmailConsent: c.Obj("email_marketing_consent") is { } e ? Consent(e) : null,
        SmsConsent: c.Obj("sms_marketing_consent") is { } s ? Consent(s) : null,
        DefaultAddress: c.Obj("default_address") is { } d ? Address(d) : null,
        Addresses: c.Array("addresses", Address),
        Tags: c.Tags("tags"),
        Note: c.Str("note"),
        TaxExempt: c.Bool("tax_exempt"),
        CreatedAt: c.Time("created_at"),
        UpdatedAt: c.Time("updated_at"));

    private static MarketingConsent Consent(JsonElement c) =>
        new(c.Str("state") ?? "unknown", c.Str("opt_in_level"), c.Time("consent_updated_at"));

    public static Fulfillment Fulfillment(JsonElement f)
    {
        var created = f.Time("created_at") ?? f.Time("updated_at") ?? throw new ShopifyPayloadException("fulfillment has no created_at");
        var numbers = f.Get("tracking_numbers") is not null ? f.Array("tracking_numbers", x => x.GetString() ?? "")
            : f.Str("tracking_number") is { } n ? [n] : [];
        var urls = f.Get("tracking_urls") is not null ? f.Array("tracking_urls", x => x.GetString() ?? "")
            : f.Str("tracking_url") is { } u ? [u] : [];
        return new Fulfillment(
            FulfillmentId: f.RequiredId("id", "fulfillment"),
            OrderId: f.RequiredId("order_id", "fulfillment"),
            Status: f.Str("status"),
            TrackingCompany: f.Str("tracking_company"),
            TrackingNumbers: numbers,
            TrackingUrls: urls,
            Lines: f.Array("line_items", l => new FulfillmentLine(l.RequiredId("id", "fulfillment line"), l.Str("sku"), l.Int("quantity"))),
            LocationId: f.Id("location_id"),
            CreatedAt: created,
            UpdatedAt: f.Time("updated_at") ?? created);
    }

    public static Refund Refund(JsonElement r)
    {
        var lines = r.Array("refund_line_items", RefundLine);
        var currency = lines.Select(l => l.Subtotal.Shop.Currency).FirstOrDefault();
        var refunds = r.Get("transactions") is { ValueKind: JsonValueKind.Array } t
            ? t.EnumerateArray().Where(x => x.Str("kind") == "refund" && x.Str("status") is null or "success").ToList()
            : [];
        Money? transacted = refunds.Count == 0 ? null
            : new Money(refunds.Sum(x => x.Dec("amount") ?? 0m), refunds.Select(x => x.Str("currency")).FirstOrDefault(x => x is not null) ?? currency ?? "XXX");
        return new Refund(
            RefundId: r.RequiredId("id", "refund"),
            OrderId: r.RequiredId("order_id", "refund"),
            Note: r.Str("note"),
            Restock: r.Bool("restock"),
            Lines: lines,
            Transacted: transacted,
            ReturnId: r.Obj("return")?.Id("id"),
            CreatedAt: r.Time("created_at") ?? r.Time("processed_at") ?? throw new ShopifyPayloadException("refund has no created_at"));
    }

    private static RefundLine RefundLine(JsonElement l)
    {
        var currency = l.Obj("subtotal_set")?.Obj("shop_money")?.Str("currency_code") ?? "XXX";
        var presentment = l.Obj("subtotal_set")?.Obj("presentment_money")?.Str("currency_code") ?? currency;
        return new RefundLine(
            RefundLineId: l.RequiredId("id", "refund line"),
            LineId: l.Id("line_item_id") ?? l.Obj("line_item")?.Id("id") ?? throw new ShopifyPayloadException("refund line has no line_item_id"),
            Sku: l.Obj("line_item")?.Str("sku"),
            Quantity: l.Int("quantity"),
            RestockType: l.Str("restock_type") ?? "no_restock",
            LocationId: l.Id("location_id"),
            Subtotal: l.Bag("subtotal", currency, presentment),
            TotalTax: l.Bag("total_tax", currency, presentment));
    }

    public static Return Return(JsonElement r) => new(
        ReturnId: r.RequiredId("id", "return"),
        OrderId: r.Obj("order")?.Id("id") ?? r.Id("order_id") ?? throw new ShopifyPayloadException("return has no order"),
        Status: r.Str("status") ?? "unknown",
        Name: r.Str("name"),
        TotalLines: r.Int("total_return_line_items"),
        Lines: r.Array("return_line_items", l => new ReturnLine(
            l.RequiredId("id", "return line"),
            l.Obj("fulfillment_line_item")?.Obj("line_item")?.Id("id") ?? l.Obj("line_item")?.Id("id"),
            l.Int("quantity"),
            l.Str("return_reason"),
            l.Str("return_reason_note"))));

    public static InventoryLevel InventoryLevel(JsonElement l) => new(
        l.RequiredId("inventory_item_id", "inventory level"),
        l.RequiredId("location_id", "inventory level"),
        l.IntOrNull("available"),
        l.Time("updated_at") ?? throw new ShopifyPayloadException("inventory level has no updated_at"));

    public static InventoryItem InventoryItem(JsonElement i) => new(
        i.RequiredId("id", "inventory item"),
        i.Str("sku"),
        i.Bool("tracked"),
        i.Bool("requires_shipping"),
        i.Time("updated_at") ?? i.Time("created_at") ?? throw new ShopifyPayloadException("inventory item has no updated_at"));

    public static Product Product(JsonElement p) => new(
        ProductId: p.RequiredId("id", "product"),
        Title: p.Str("title") ?? "",
        Handle: p.Str("handle"),
        Status: p.Str("status"),
        Vendor: p.Str("vendor"),
        ProductType: p.Str("product_type"),
        Variants: p.Array("variants", v => new Variant(
            v.RequiredId("id", "variant"), v.Str("sku"), v.Str("title"), v.Dec("price"), v.Id("inventory_item_id"),
            v.IntOrNull("inventory_quantity"), v.Str("barcode"))),
        UpdatedAt: p.Time("updated_at") ?? p.Time("created_at") ?? throw new ShopifyPayloadException("product has no updated_at"));

    /// <summary>app/uninstalled carries the shop object; its id is all we keep.</summary>
    public static string ShopId(JsonElement shop) => shop.RequiredId("id", "shop");

    public static PrivacyRequest PrivacyRequest(PrivacyRequestKind kind, JsonElement p) => kind switch
    {
        PrivacyRequestKind.ShopRedact => new(kind, null, [], null),
        PrivacyRequestKind.CustomerRedact => new(kind, p.Obj("customer")?.Id("id"), p.Ids("orders_to_redact"), null),
        _ => new(kind, p.Obj("customer")?.Id("id"), p.Ids("orders_requested"), p.Obj("data_request")?.Id("id")),
    };
}
