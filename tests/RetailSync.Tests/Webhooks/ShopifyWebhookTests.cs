using System.Net;
using System.Text;
using System.Text.Json;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Webhooks;

public sealed class ShopifyWebhookTests(EmbeddedHostFixture host) : IClassFixture<EmbeddedHostFixture>
{
    private static long NewOrderId() => Random.Shared.NextInt64(1_000_000_000, 9_000_000_000_000);

    private static int AppliedEntries(JsonElement order, string eventId) =>
        order.GetProperty("timeline").EnumerateArray().Count(e => e.GetProperty("correlationId").GetString() == eventId);

    [Fact]
    public async Task a_signed_order_is_accepted_and_can_be_queried()
    {
        var id = NewOrderId();
        var body = ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", id, DateTimeOffset.UtcNow);
        var (status, answer, _) = await host.Http.SendJsonAsync(ShopifyFixtures.Delivery("orders/create", body, eventId: "e-" + id));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("accepted", answer.GetProperty("status").GetString());
        Assert.Equal("applied", answer.GetProperty("effect").GetString());

        var (found, order) = await host.Http.GetApiAsync($"/api/v1/orders/{ShopifyFixtures.Shop}/{id}");
        Assert.Equal(HttpStatusCode.OK, found);
        Assert.Equal("SubmittedToErp", order.GetProperty("status").GetString());
        Assert.Equal(388.00m, order.GetProperty("order").GetProperty("total").GetProperty("shop").GetProperty("amount").GetDecimal());
        Assert.Equal("Synced", order.GetProperty("systems").GetProperty("shopify").GetProperty("status").GetString());
        Assert.Equal("Pending", order.GetProperty("systems").GetProperty("erp").GetProperty("status").GetString());
        var entry = order.GetProperty("timeline")[0];
        Assert.Equal("shopify:orders/create", entry.GetProperty("kind").GetString());
        Assert.Contains("e-" + id, entry.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_redelivered_event_is_a_duplicate_and_applied_once()
    {
        var id = NewOrderId();
        var body = ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", id, DateTimeOffset.UtcNow);
        var eventId = "e-" + id;
        var first = await host.Http.SendJsonAsync(ShopifyFixtures.Delivery("orders/create", body, eventId: eventId));
        var again = await host.Http.SendJsonAsync(ShopifyFixtures.Delivery("orders/create", body, eventId: eventId));
        Assert.Equal("accepted", first.Body.GetProperty("status").GetString());
        Assert.Equal("duplicate", again.Body.GetProperty("status").GetString());

        var (_, order) = await host.Http.GetApiAsync($"/api/v1/orders/{ShopifyFixtures.Shop}/{id}");
        Assert.Equal(1, AppliedEntries(order, eventId));
    }

    [Fact]
    public async Task without_an_event_id_the_webhook_id_dedupes()
    {
        var id = NewOrderId();
        var body = ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", id, DateTimeOffset.UtcNow);
        HttpRequestMessage Delivery()
        {
            var request = ShopifyFixtures.Delivery("orders/create", body, webhookId: "w-" + id);
            request.Headers.Remove("X-Shopify-Event-Id");
            return request;
        }

        Assert.Equal("accepted", (await host.Http.SendJsonAsync(Delivery())).Body.GetProperty("status").GetString());
        Assert.Equal("duplicate", (await host.Http.SendJsonAsync(Delivery())).Body.GetProperty("status").GetString());
    }

    [Fact]
    public async Task a_paid_event_before_its_create_creates_the_order_and_the_late_create_is_stale()
    {
        var id = NewOrderId();
        var now = DateTimeOffset.UtcNow;
        var paid = ShopifyFixtures.OrderVariant("orders_paid__hookdeck-2024-10.json", id, now);
        var create = ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", id, now.AddMinutes(-5));

        var first = await host.Http.SendJsonAsync(ShopifyFixtures.Delivery("orders/paid", paid));
        var late = await host.Http.SendJsonAsync(ShopifyFixtures.Delivery("orders/create", create));
        Assert.Equal("applied", first.Body.GetProperty("effect").GetString());
        Assert.Equal("stale", late.Body.GetProperty("effect").GetString());

        var (_, order) = await host.Http.GetApiAsync($"/api/v1/orders/{ShopifyFixtures.Shop}/{id}");
        Assert.Equal(now.ToUnixTimeSeconds(), order.GetProperty("order").GetProperty("updatedAt").GetDateTimeOffset().ToUnixTimeSeconds());
        var kinds = order.GetProperty("timeline").EnumerateArray()
            .Where(e => e.GetProperty("kind").GetString()!.StartsWith("shopify:", StringComparison.Ordinal) && e.GetProperty("kind").GetString()!.Contains('/', StringComparison.Ordinal))
            .Select(e => e.GetProperty("detail").GetString()!).ToList();
        Assert.StartsWith("applied: orders/paid", kinds[0], StringComparison.Ordinal);
        Assert.StartsWith("stale: orders/create", kinds[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("body")]
    [InlineData("header")]
    public async Task a_one_byte_change_is_refused_and_nothing_is_recorded(string tampered)
    {
        var id = NewOrderId();
        var body = ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", id, DateTimeOffset.UtcNow);
        var request = ShopifyFixtures.Delivery("orders/create", body);
        if (tampered == "body")
        {
            var bytes = body.ToArray();
            bytes[^3] ^= 0x01;
            request.Content = new ByteArrayContent(bytes);
        }
        else
        {
            var signature = request.Headers.GetValues("X-Shopify-Hmac-Sha256").Single().ToCharArray();
            signature[4] = signature[4] == 'A' ? 'B' : 'A';
            request.Headers.Remove("X-Shopify-Hmac-Sha256");
            request.Headers.Add("X-Shopify-Hmac-Sha256", new string(signature));
        }

        var (status, problem, mediaType) = await host.Http.SendJsonAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("application/problem+json", mediaType);
        Assert.Equal(401, problem.GetProperty("status").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, (await host.Http.GetApiAsync($"/api/v1/orders/{ShopifyFixtures.Shop}/{id}")).Status);
    }

    [Fact]
    public async Task the_previous_secret_is_accepted_during_rotation_and_another_shops_secret_is_not()
    {
        var id = NewOrderId();
        var body = ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", id, DateTimeOffset.UtcNow);
        var rotated = await host.Http.SendJsonAsync(ShopifyFixtures.Delivery("orders/create", body, secret: "old-secret-being-rotated"));
        Assert.Equal(HttpStatusCode.OK, rotated.Status);
        var foreign = await host.Http.SendJsonAsync(ShopifyFixtures.Delivery("orders/create", body, secret: "other-secret"));
        Assert.Equal(HttpStatusCode.Unauthorized, foreign.Status);
    }

    public static TheoryData<string, HttpStatusCode> BadDeliveries() => new()
    {
        { "malformed-json", HttpStatusCode.BadRequest },
        { "json-array", HttpStatusCode.BadRequest },
        { "no-topic", HttpStatusCode.BadRequest },
        { "no-ids", HttpStatusCode.BadRequest },
        { "order-without-id", HttpStatusCode.BadRequest },
        { "no-signature", HttpStatusCode.Unauthorized },
        { "no-shop", HttpStatusCode.Unauthorized },
        { "unknown-shop", HttpStatusCode.Unauthorized },
        { "oversize", HttpStatusCode.RequestEntityTooLarge },
        { "oversize-chunked", HttpStatusCode.RequestEntityTooLarge },
    };

    [Theory]
    [MemberData(nameof(BadDeliveries))]
    public async Task bad_input_gets_problem_details_nothing_is_recorded_and_the_host_keeps_serving(string kind, HttpStatusCode expected)
    {
        var id = NewOrderId();
        var valid = ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", id, DateTimeOffset.UtcNow);
        var request = kind switch
        {
            "malformed-json" => ShopifyFixtures.Delivery("orders/create", valid[..^5]),
            "json-array" => ShopifyFixtures.Delivery("orders/create", "[1,2,3]"),
            "order-without-id" => ShopifyFixtures.Delivery("orders/create", """{"currency":"USD","created_at":"2026-01-01T00:00:00Z"}"""),
            "unknown-shop" => ShopifyFixtures.Delivery("orders/create", valid, shop: "stranger.myshopify.com"),
            "oversize" => ShopifyFixtures.Delivery("orders/create", Pad(valid, 70_000)),
            _ => ShopifyFixtures.Delivery("orders/create", valid),
        };
        switch (kind)
        {
            case "no-topic":
                request.Headers.Remove("X-Shopify-Topic");
                break;
            case "no-ids":
                request.Headers.Remove("X-Shopify-Event-Id");
                request.Headers.Remove("X-Shopify-Webhook-Id");
                break;
            case "no-signature":
                request.Headers.Remove("X-Shopify-Hmac-Sha256");
                break;
            case "no-shop":
                request.Headers.Remove("X-Shopify-Shop-Domain");
                break;
            case "oversize-chunked":
                var big = Pad(valid, 70_000);
                request = ShopifyFixtures.Delivery("orders/create", big);
                request.Content = new StreamContent(new MemoryStream(big));
                request.Headers.TransferEncodingChunked = true;
                break;
        }

        var (status, problem, mediaType) = await host.Http.SendJsonAsync(request);
        Assert.Equal(expected, status);
        Assert.Equal("application/problem+json", mediaType);
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        Assert.Equal(HttpStatusCode.NotFound, (await host.Http.GetApiAsync($"/api/v1/orders/{ShopifyFixtures.Shop}/{id}")).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.Http.GetAsync("/health/ready")).StatusCode);
    }

    private static byte[] Pad(byte[] json, int size)
    {
        // Still valid JSON, just large: trailing whitespace.
        var padded = new byte[size];
        Array.Fill(padded, (byte)' ');
        json.CopyTo(padded, 0);
        return padded;
    }

    [Fact]
    public async Task a_topic_we_do_not_handle_is_ignored_after_its_signature_is_checked()
    {
        var ok = await host.Http.SendJsonAsync(ShopifyFixtures.Delivery("carts/create", """{"id":1}"""));
        Assert.Equal(HttpStatusCode.OK, ok.Status);
        Assert.Equal("ignored", ok.Body.GetProperty("status").GetString());

        var unsigned = ShopifyFixtures.Delivery("carts/create", """{"id":1}""");
        unsigned.Headers.Remove("X-Shopify-Hmac-Sha256");
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Http.SendJsonAsync(unsigned)).Status);
    }

    public static TheoryData<string> CapturedRequests()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(RepoPaths.Fixtures, "requests"), "*.request.json").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    /// <summary>
    /// Each captured Shopify delivery, replayed with its own headers (topic, API version, webhook id,
    /// and no event id in these versions) and body, re-signed with our shop's secret.
    /// </summary>
    [Theory]
    [MemberData(nameof(CapturedRequests))]
    public async Task every_captured_delivery_is_accepted_once(string file)
    {
        var capture = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(RepoPaths.Fixtures, "requests", file))).RootElement;
        var headers = capture.GetProperty("headers");
        var body = Encoding.UTF8.GetBytes(capture.GetProperty("body").GetRawText());
        var topic = headers.GetProperty("x-shopify-topic").GetString()!;
        HttpRequestMessage Replay()
        {
            // A fresh webhook id per test run: the same capture may be replayed by other tests on this host.
            var request = ShopifyFixtures.Delivery(topic, body, webhookId: headers.GetProperty("x-shopify-webhook-id").GetString() + "-" + RunId,
                apiVersion: headers.GetProperty("x-shopify-api-version").GetString());
            request.Headers.Remove("X-Shopify-Event-Id");
            request.Headers.Remove("X-Shopify-Triggered-At");
            if (headers.TryGetProperty("x-shopify-triggered-at", out var triggered))
            {
                request.Headers.Add("X-Shopify-Triggered-At", triggered.GetString());
            }

            request.Headers.Add("X-Shopify-Test", headers.GetProperty("x-shopify-test").GetString());
            return request;
        }

        var first = await host.Http.SendJsonAsync(Replay());
        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal("accepted", first.Body.GetProperty("status").GetString());
        var second = await host.Http.SendJsonAsync(Replay());
        Assert.Equal("duplicate", second.Body.GetProperty("status").GetString());
    }

    private static readonly string RunId = Guid.NewGuid().ToString("N")[..8];
}
