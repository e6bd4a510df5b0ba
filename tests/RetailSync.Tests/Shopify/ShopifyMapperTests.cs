using System.Text.Json;
using RetailSync.Shopify;
using RetailSync.Shops;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Shopify;

public sealed class ShopifyMapperTests
{
    public static TheoryData<string, string> Fixtures()
    {
        var data = new TheoryData<string, string>();
        foreach (var (file, topic) in ShopifyFixtures.Payloads())
        {
            data.Add(file, topic);
        }

        return data;
    }

    private static object Map(string topic, JsonElement payload) => topic switch
    {
        "orders/create" or "orders/updated" or "orders/paid" or "orders/cancelled" or "orders/fulfilled" => ShopifyMapper.Order(payload),
        "fulfillments/create" => ShopifyMapper.Fulfillment(payload),
        "refunds/create" => ShopifyMapper.Refund(payload),
        "returns/request" or "returns/approve" => ShopifyMapper.Return(payload),
        "customers/create" or "customers/update" or "customers/delete" => ShopifyMapper.Customer(payload),
        "customers/redact" => ShopifyMapper.PrivacyRequest(PrivacyRequestKind.CustomerRedact, payload),
        "inventory_levels/update" => ShopifyMapper.InventoryLevel(payload),
        "inventory_items/update" => ShopifyMapper.InventoryItem(payload),
        "products/update" => ShopifyMapper.Product(payload),
        "app/uninstalled" => ShopifyMapper.ShopId(payload),
        _ => throw new InvalidOperationException(topic),
    };

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void every_fixture_maps_through_the_mapper_of_its_topic(string file, string topic) =>
        Assert.NotNull(Map(topic, ShopifyFixtures.Json(file)));

    [Fact]
    public void an_order_keeps_its_64_bit_id_exact_and_its_money_in_both_currencies()
    {
        var order = ShopifyMapper.Order(ShopifyFixtures.Json("orders_create__hookdeck-2024-10.json"));
        Assert.Equal("820982911946154500", order.OrderId);
        Assert.Equal(388.00m, order.Total.Shop.Amount);
        Assert.Equal("USD", order.Total.Presentment.Currency);
        Assert.Equal(10.00m, order.TotalShipping.Shop.Amount);
        Assert.Equal(2, order.Lines.Length);
        Assert.Equal("IPOD2008PINK", order.Lines[0].Sku);
        Assert.Equal("808950810", order.Lines[0].VariantId);
        Assert.Equal("115310627314723950", order.Customer?.CustomerId);
        Assert.Equal(new DateTimeOffset(2022, 1, 1, 0, 0, 0, TimeSpan.Zero), order.UpdatedAt);
        Assert.True(order.Test);
        Assert.Equal(1234, order.OrderNumber);
    }

    [Fact]
    public void an_order_without_customer_and_with_an_empty_email_maps_to_no_email()
    {
        var order = ShopifyMapper.Order(ShopifyFixtures.Json("orders_paid__activepieces.json"));
        Assert.Equal("5324830114101", order.OrderId);
        Assert.Null(order.Email);
        Assert.Null(order.Customer);
        Assert.Equal(2629.95m, order.Total.Shop.Amount);
        Assert.Single(order.Lines);
        Assert.Equal("sku-hosted-1", order.Lines[0].Sku);
        Assert.Equal(DateTimeOffset.Parse("2023-03-24T16:37:27Z", System.Globalization.CultureInfo.InvariantCulture), order.UpdatedAt);
    }

    [Fact]
    public void a_cancelled_order_carries_when_and_why()
    {
        var order = ShopifyMapper.Order(ShopifyFixtures.Json("orders_cancelled__activepieces.json"));
        Assert.Equal("5324790137142", order.OrderId);
        Assert.Equal("other", order.CancelReason);
        Assert.NotNull(order.CancelledAt);
        Assert.Equal(1806.38m, order.Total.Shop.Amount);
    }

    [Fact]
    public void the_2026_docs_order_sample_maps_five_lines()
    {
        var order = ShopifyMapper.Order(ShopifyFixtures.Json("orders_updated__gadget-docs-2026-01.json"));
        Assert.Equal(5, order.Lines.Length);
        Assert.Equal(404.95m, order.Total.Shop.Amount);
        Assert.Equal("voided", order.FinancialStatus);
    }

    [Fact]
    public void a_customer_maps_tags_addresses_and_consent()
    {
        var customer = ShopifyMapper.Customer(ShopifyFixtures.Json("customers_create__activepieces.json"));
        Assert.Equal("6972943892790", customer.CustomerId);
        Assert.Equal("john@ensemble.com", customer.Email);
        Assert.Equal<string>(["tag", "VIP"], customer.Tags);
        Assert.Single(customer.Addresses);
        Assert.Equal("19931", customer.Addresses[0].PostalCode);
        Assert.Equal("not_subscribed", customer.EmailConsent?.State);
    }

    [Fact]
    public void a_deleted_customer_payload_has_only_an_id()
    {
        var customer = ShopifyMapper.Customer(ShopifyFixtures.Json("customers_delete__gadget-docs-2026-01.json"));
        Assert.Equal("706405506930370000", customer.CustomerId);
        Assert.Null(customer.Email);
        Assert.Empty(customer.Addresses);
    }

    [Fact]
    public void a_refund_maps_lines_restock_type_and_refunded_money()
    {
        var refund = ShopifyMapper.Refund(ShopifyFixtures.Json("refunds_create__gadget-docs-2026-01.json"));
        Assert.Equal("890088186047892400", refund.RefundId);
        Assert.Equal("820982911946154500", refund.OrderId);
        Assert.Equal(5, refund.Lines.Length);
        Assert.Equal("SKU2006-001", refund.Lines[0].Sku);
        Assert.Equal("no_restock", refund.Lines[0].RestockType);
        Assert.Equal(89.99m, refund.Lines[0].Subtotal.Shop.Amount);
        Assert.Equal(85.00m, refund.Transacted?.Amount);
    }

    [Fact]
    public void refund_amounts_given_as_numbers_map_like_strings()
    {
        var refund = ShopifyMapper.Refund(ShopifyFixtures.Json("refunds_create__hookdeck-2024-10.json"));
        Assert.Equal(2, refund.Lines.Length);
        Assert.Equal("866550311766439000", refund.Lines[0].LineId);
        Assert.Null(refund.Transacted);
    }

    [Fact]
    public void a_return_request_maps_its_lines_to_order_line_items()
    {
        var @return = ShopifyMapper.Return(ShopifyFixtures.Json("returns_request__hookdeck-2024-10.json"));
        Assert.Equal("123134564567890", @return.ReturnId);
        Assert.Equal("4783296544821", @return.OrderId);
        Assert.Equal("requested", @return.Status);
        Assert.Equal(2, @return.Lines.Length);
        Assert.Equal("4176556606960", @return.Lines[0].LineId);
        Assert.Equal("size_too_small", @return.Lines[0].Reason);
    }

    [Fact]
    public void an_inventory_level_with_untracked_stock_maps_to_null_available()
    {
        var level = ShopifyMapper.InventoryLevel(ShopifyFixtures.Json("inventory_levels_update__hookdeck-2024-10.json"));
        Assert.Equal("271878346596884000", level.InventoryItemId);
        Assert.Equal("24826418", level.LocationId);
        Assert.Null(level.Available);
    }

    [Fact]
    public void a_product_with_a_plus_three_offset_and_an_empty_sku_maps()
    {
        var product = ShopifyMapper.Product(ShopifyFixtures.Json("products_update__activepieces.json"));
        Assert.Equal("8282295566587", product.ProductId);
        Assert.Equal(new DateTimeOffset(2024, 1, 2, 17, 36, 40, TimeSpan.Zero), product.UpdatedAt);
        var variant = Assert.Single(product.Variants);
        Assert.Null(variant.Sku);
        Assert.Equal("47200507134203", variant.InventoryItemId);
    }

    [Fact]
    public void a_fulfillment_carries_tracking()
    {
        var fulfillment = ShopifyMapper.Fulfillment(ShopifyFixtures.Json("fulfillments_create__hookdeck-2024-10.json"));
        Assert.Equal("123456", fulfillment.FulfillmentId);
        Assert.Equal("820982911946154500", fulfillment.OrderId);
        Assert.Equal("UPS", fulfillment.TrackingCompany);
        Assert.Equal<string>(["1z827wk74630"], fulfillment.TrackingNumbers);
    }

    [Fact]
    public void a_customer_redaction_lists_the_customer_and_orders_only()
    {
        var request = ShopifyMapper.PrivacyRequest(PrivacyRequestKind.CustomerRedact, ShopifyFixtures.Json("customers_redact__gadget-docs-2026-01.json"));
        Assert.Equal("191167", request.CustomerId);
        Assert.Equal<string>(["299938", "280263", "220458"], request.OrderIds);
    }

    [Fact]
    public void graphql_ids_lose_their_query_string_and_unknown_fields_are_ignored()
    {
        var level = ShopifyMapper.InventoryLevel(JsonDocument.Parse("""
            {"inventory_item_id":"gid://shopify/InventoryItem/42?x=1","location_id":7,"available":3,
             "updated_at":"2026-01-01T00:00:00Z","brand_new_field":{"nested":[1,2]}}
            """).RootElement);
        Assert.Equal("42", level.InventoryItemId);
        Assert.Equal(3, level.Available);
    }

    [Fact]
    public void a_payload_without_its_id_is_rejected_with_a_reason()
    {
        var ex = Assert.Throws<ShopifyPayloadException>(() => ShopifyMapper.Order(JsonDocument.Parse("""{"currency":"USD"}""").RootElement));
        Assert.Contains("'id'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void the_hmac_test_vector_of_shopify_api_php_verifies()
    {
        var body = ShopifyFixtures.Bytes("hmac_test_vector__shopify-api-php.body.json");
        Assert.Equal(13, body.Length);
        Assert.True(RetailSync.Gateway.Webhooks.ShopifyHmac.Verify(body, "/Redz4YXHLnSmmSN8grr5/Jl/Ua3d7yX3iWbjb8R8wo=", "steffi"));
        Assert.False(RetailSync.Gateway.Webhooks.ShopifyHmac.Verify(body, "/Redz4YXHLnSmmSN8grr5/Jl/Ua3d7yX3iWbjb8R8wo=", "steffi2"));
        body[5] ^= 1;
        Assert.False(RetailSync.Gateway.Webhooks.ShopifyHmac.Verify(body, "/Redz4YXHLnSmmSN8grr5/Jl/Ua3d7yX3iWbjb8R8wo=", "steffi"));
    }
}
