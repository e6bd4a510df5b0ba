using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Webhooks;

/// <summary>shop/redact erases what the cluster holds of the shop; customers/data_request gives the person's data as a document.</summary>
public sealed class ShopErasureTests(EmbeddedHostFixture host) : IClassFixture<EmbeddedHostFixture>
{
    private const string Closing = "closing.myshopify.com";
    private const string ClosingSecret = "closing-secret";

    [Fact]
    public async Task shop_redact_erases_the_shops_orders_customers_refunds_and_timelines_and_no_other_shops()
    {
        var run = Random.Shared.NextInt64(1_000_000, 9_000_000);
        var (customerId, firstOrder, guestOrder, refundId, otherShopOrder) = (run, run + 1, run + 2, run + 3, run + 4);
        var buyer = $"grace-{run}@example.com";
        var guest = $"guest-{run}@example.com";
        var elsewhere = $"elsewhere-{run}@example.com";

        await SendAsync(Closing, "customers/create", Customer(customerId, buyer, "Grace", "Hopper"));
        await SendAsync(Closing, "orders/create", ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", firstOrder, DateTimeOffset.UtcNow, buyer));
        await SendAsync(Closing, "orders/create", ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", guestOrder, DateTimeOffset.UtcNow, guest));
        await SendAsync(Closing, "refunds/create", Refund(refundId, firstOrder, $"Grace Hopper asked for it back, write to {buyer}"));
        await SendAsync(ShopifyFixtures.Shop, "orders/create", ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", otherShopOrder, DateTimeOffset.UtcNow, elsewhere));
        var (_, before) = await host.Http.GetApiAsync($"/api/v1/sources/shopify/{Closing}/customers/{customerId}");
        var goldenId = before.GetProperty("goldenId").GetString()!;
        Assert.Contains(buyer, (await host.Http.GetApiAsync($"/api/v1/customers/closing/{goldenId}")).Body.GetRawText(), StringComparison.Ordinal);

        await SendAsync(Closing, "shop/redact", Encoding.UTF8.GetBytes($$"""{"shop_id":{{run}},"shop_domain":"{{Closing}}"}"""));

        var (_, shop) = await host.Http.GetApiAsync($"/api/v1/shops/{Closing}");
        var request = shop.GetProperty("privacyRequests").EnumerateArray().Last(r => r.GetProperty("request").GetProperty("kind").GetString() == "ShopRedact");
        Assert.NotEqual(JsonValueKind.Null, request.GetProperty("completedAt").ValueKind);
        Assert.Contains(shop.GetProperty("timeline").EnumerateArray(), e => e.GetProperty("kind").GetString() == "privacy:shopErased"
            && e.GetProperty("correlationId").GetString() == request.GetProperty("correlationId").GetString());

        var held = new StringBuilder();
        foreach (var orderId in new[] { firstOrder, guestOrder })
        {
            var (_, order) = await host.Http.GetApiAsync($"/api/v1/orders/{Closing}/{orderId}");
            Assert.True(order.GetProperty("redacted").GetBoolean());
            held.Append(order.GetRawText());
        }

        var (_, customer) = await host.Http.GetApiAsync($"/api/v1/sources/shopify/{Closing}/customers/{customerId}");
        Assert.True(customer.GetProperty("redacted").GetBoolean());
        var (_, golden) = await host.Http.GetApiAsync($"/api/v1/customers/closing/{goldenId}");
        Assert.True(golden.GetProperty("redacted").GetBoolean());
        var (_, refund) = await host.Http.GetApiAsync($"/api/v1/refunds/{Closing}/{refundId}");
        Assert.Equal(JsonValueKind.Null, refund.GetProperty("refund").GetProperty("note").ValueKind);
        var (_, exceptions) = await host.Http.GetApiAsync("/api/v1/ops/exceptions?includeResolved=true");
        held.Append(customer.GetRawText()).Append(golden.GetRawText()).Append(refund.GetRawText()).Append(exceptions.GetRawText());
        foreach (var personal in new[] { buyer, guest, "Hopper", "asked for it back" })
        {
            Assert.DoesNotContain(personal, held.ToString(), StringComparison.OrdinalIgnoreCase);
        }

        // Another shop's buyer is not this shop's to erase.
        var (_, untouched) = await host.Http.GetApiAsync($"/api/v1/orders/{ShopifyFixtures.Shop}/{otherShopOrder}");
        Assert.False(untouched.GetProperty("redacted").GetBoolean());
        Assert.Contains(elsewhere, untouched.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_data_request_is_answered_by_a_document_of_the_persons_data()
    {
        var run = Random.Shared.NextInt64(1_000_000, 9_000_000);
        var (customerId, orderId, requestId) = (run, run + 1, run + 2);
        var email = $"ada-{run}@example.com";
        await SendAsync(ShopifyFixtures.Shop, "customers/create", Customer(customerId, email, "Ada", "Lovelace"));
        await SendAsync(ShopifyFixtures.Shop, "orders/create", ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", orderId, DateTimeOffset.UtcNow, email));
        var path = $"/api/v1/shops/{ShopifyFixtures.Shop}/data-requests/{requestId}";
        Assert.Equal(HttpStatusCode.NotFound, (await host.Http.GetApiAsync(path)).Status);

        await SendAsync(ShopifyFixtures.Shop, "customers/data_request", JsonSerializer.SerializeToUtf8Bytes(new
        {
            shop_id = 954889, shop_domain = ShopifyFixtures.Shop, orders_requested = new[] { orderId },
            customer = new { id = customerId, email, phone = "+15555550100" }, data_request = new { id = requestId },
        }));

        using var ask = new HttpRequestMessage(HttpMethod.Get, path);
        ask.Headers.Authorization = new("Bearer", "dev-api-key");
        using var answer = await host.Http.SendAsync(ask);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("attachment", answer.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal($"data-request-{requestId}.json", answer.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        Assert.True(answer.Headers.CacheControl?.NoStore);
        var document = JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(requestId.ToString(CultureInfo.InvariantCulture), document.GetProperty("dataRequestId").GetString());
        Assert.Equal(email, document.GetProperty("shopifyCustomer").GetProperty("customer").GetProperty("email").GetString());
        Assert.Contains(email, document.GetProperty("goldenCustomer").GetRawText(), StringComparison.Ordinal);
        var order = Assert.Single(document.GetProperty("orders").EnumerateArray());
        Assert.Equal(orderId.ToString(CultureInfo.InvariantCulture), order.GetProperty("orderId").GetString());
        Assert.Equal(email, order.GetProperty("order").GetProperty("email").GetString());

        // Each copy handed out is on the shop's timeline; the API key guards it like every query.
        var (_, shop) = await host.Http.GetApiAsync($"/api/v1/shops/{ShopifyFixtures.Shop}");
        Assert.Contains(shop.GetProperty("timeline").EnumerateArray(), e => e.GetProperty("kind").GetString() == "privacy:document"
            && e.GetProperty("detail").GetString()!.Contains(requestId.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Http.GetAsync(path)).StatusCode);
    }

    private async Task SendAsync(string shop, string topic, byte[] body)
    {
        var secret = shop == Closing ? ClosingSecret : ShopifyFixtures.Secret;
        var (status, answer, _) = await host.Http.SendJsonAsync(ShopifyFixtures.Delivery(topic, body, shop: shop, secret: secret));
        Assert.True(status == HttpStatusCode.OK, $"{topic} to {shop}: {status} {answer}");
    }

    private static byte[] Customer(long id, string email, string first, string last) => JsonSerializer.SerializeToUtf8Bytes(new
    {
        id, email, first_name = first, last_name = last, phone = "+15555550100",
        updated_at = "2026-01-01T10:00:00Z", created_at = "2026-01-01T10:00:00Z",
    });

    private static byte[] Refund(long refundId, long orderId, string note)
    {
        var node = JsonNode.Parse(ShopifyFixtures.Bytes("refunds_create__hookdeck-2024-10.json"))!.AsObject();
        node["id"] = refundId;
        node["order_id"] = orderId;
        node["note"] = note;
        return Encoding.UTF8.GetBytes(node.ToJsonString());
    }
}
