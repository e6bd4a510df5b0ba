using System.Net;
using System.Text;
using System.Text.Json;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Webhooks;

public sealed class PrivacyWebhookTests(EmbeddedHostFixture host) : IClassFixture<EmbeddedHostFixture>
{
    [Fact]
    public async Task customers_redact_removes_the_persons_data_from_customer_orders_and_timelines()
    {
        var customerId = Random.Shared.NextInt64(1_000_000, 9_000_000_000);
        var orderId = Random.Shared.NextInt64(1_000_000, 9_000_000_000);
        var email = $"redact-me-{customerId}@example.com";

        var customer = JsonSerializer.Serialize(new
        {
            id = customerId, email, first_name = "Ada", last_name = "Lovelace", phone = "+15555550100",
            updated_at = "2026-01-01T10:00:00Z", created_at = "2026-01-01T10:00:00Z",
        });
        Assert.Equal(HttpStatusCode.OK, (await host.Http.SendJsonAsync(ShopifyFixtures.Delivery("customers/create", customer))).Status);
        var order = ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", orderId, DateTimeOffset.UtcNow, email);
        Assert.Equal(HttpStatusCode.OK, (await host.Http.SendJsonAsync(ShopifyFixtures.Delivery("orders/create", order))).Status);

        var redact = JsonSerializer.Serialize(new
        {
            shop_id = 954889, shop_domain = ShopifyFixtures.Shop,
            customer = new { id = customerId, email, phone = "+15555550100" },
            orders_to_redact = new[] { orderId },
        });
        var answer = await host.Http.SendJsonAsync(ShopifyFixtures.Delivery("customers/redact", redact));
        Assert.Equal("accepted", answer.Body.GetProperty("status").GetString());

        var (_, shopifyCustomer) = await host.Http.GetApiAsync($"/api/v1/sources/shopify/{ShopifyFixtures.Shop}/customers/{customerId}");
        Assert.True(shopifyCustomer.GetProperty("redacted").GetBoolean());
        Assert.Equal(JsonValueKind.Null, shopifyCustomer.GetProperty("customer").ValueKind);
        var (_, redactedOrder) = await host.Http.GetApiAsync($"/api/v1/orders/{ShopifyFixtures.Shop}/{orderId}");
        Assert.True(redactedOrder.GetProperty("redacted").GetBoolean());
        var text = redactedOrder.GetRawText() + shopifyCustomer.GetRawText();
        Assert.DoesNotContain(email, text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Lovelace", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Jon", redactedOrder.GetProperty("order").GetRawText(), StringComparison.Ordinal);
        Assert.Equal(388.00m, redactedOrder.GetProperty("order").GetProperty("total").GetProperty("shop").GetProperty("amount").GetDecimal());

        var (_, shop) = await host.Http.GetApiAsync($"/api/v1/shops/{ShopifyFixtures.Shop}");
        var request = shop.GetProperty("privacyRequests").EnumerateArray()
            .Single(r => r.GetProperty("request").GetProperty("customerId").GetString() == customerId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("CustomerRedact", request.GetProperty("request").GetProperty("kind").GetString());
        Assert.NotEqual(JsonValueKind.Null, request.GetProperty("completedAt").ValueKind);

        // A later update of the redacted customer does not bring the data back.
        var update = await host.Http.SendJsonAsync(ShopifyFixtures.Delivery("customers/update", customer.Replace("2026-01-01T10", "2026-01-02T10", StringComparison.Ordinal)));
        Assert.Equal("ignored", update.Body.GetProperty("effect").GetString());
    }

    [Fact]
    public async Task data_requests_and_shop_redaction_are_recorded()
    {
        var shop = "other.myshopify.com";
        var dataRequest = """{"shop_id":1,"shop_domain":"other.myshopify.com","orders_requested":[11,12],"customer":{"id":77,"email":"x@example.com"},"data_request":{"id":9999}}""";
        var sent = await host.Http.SendAsync(ShopifyFixtures.Delivery("customers/data_request", Encoding.UTF8.GetBytes(dataRequest), shop: shop, secret: "other-secret"));
        Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
        var redact = await host.Http.SendAsync(ShopifyFixtures.Delivery("shop/redact", """{"shop_id":1,"shop_domain":"other.myshopify.com"}"""u8.ToArray(), shop: shop, secret: "other-secret"));
        Assert.Equal(HttpStatusCode.OK, redact.StatusCode);

        var (_, view) = await host.Http.GetApiAsync($"/api/v1/shops/{shop}");
        Assert.True(view.GetProperty("redacted").GetBoolean());
        Assert.False(view.GetProperty("installed").GetBoolean());
        var kinds = view.GetProperty("privacyRequests").EnumerateArray().Select(r => r.GetProperty("request").GetProperty("kind").GetString()).ToList();
        Assert.Equal(["DataRequest", "ShopRedact"], kinds);
        var data = view.GetProperty("privacyRequests")[0].GetProperty("request");
        Assert.Equal("9999", data.GetProperty("dataRequestId").GetString());
        Assert.Equal(2, data.GetProperty("orderIds").GetArrayLength());
        Assert.DoesNotContain("x@example.com", view.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task the_query_api_requires_an_api_key()
    {
        var anonymous = await host.Http.GetAsync($"/api/v1/shops/{ShopifyFixtures.Shop}");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("application/problem+json", anonymous.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Http.GetApiAsync($"/api/v1/shops/{ShopifyFixtures.Shop}", apiKey: "wrong")).Status);
    }
}
