using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RetailSync.Gateway.Configuration;
using RetailSync.Gateway.Hosting;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Webhooks;

/// <summary>What an outside probe of the gateway tried, each refused at the edge with nothing recorded.</summary>
public sealed class EdgeSecurityTests(EmbeddedHostFixture host) : IClassFixture<EmbeddedHostFixture>
{
    private static long NewOrderId() => Random.Shared.NextInt64(1_000_000_000, 9_000_000_000_000);

    private async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpRequestMessage request)
    {
        var (status, body, _) = await host.Http.SendJsonAsync(request);
        return (status, body);
    }

    private async Task AssertNoOrderAsync(long id) =>
        Assert.Equal(HttpStatusCode.NotFound, (await host.Http.GetApiAsync($"/api/v1/orders/{ShopifyFixtures.Shop}/{id}")).Status);

    [Fact]
    public void a_standalone_gateway_never_takes_the_public_development_connectors()
    {
        // No RetailSync:Mode set, as in the README's gateway example: the ERP and CRM callbacks stay unconfigured.
        var app = GatewayClient.Build([
            "--RetailSync:Cluster:ConnectionString=Host=127.0.0.1;Port=1;Database=none",
            "--RetailSync:Shops:acme.myshopify.com:Tenant=acme",
            "--RetailSync:Shops:acme.myshopify.com:WebhookSecret=a-real-secret-from-the-shopify-app-0123456789",
            "--RetailSync:ApiKeys:0=an-operations-key-of-enough-length-0123456789"]);
        var options = app.Services.GetRequiredService<IOptionsMonitor<RetailSyncOptions>>().CurrentValue;

        Assert.Empty(options.ErpCallbacks);
        Assert.Empty(options.CrmCallbacks);
        Assert.Equal(["acme.myshopify.com"], options.Shops.Keys);
        Assert.DoesNotContain(DevelopmentDefaults.ApiKey, options.ApiKeys);
    }

    [Fact]
    public void a_standalone_gateway_without_explicit_settings_refuses_to_start()
    {
        var refused = Assert.Throws<ClusterModeRefusedException>(() => GatewayClient.Build([]));
        Assert.Contains("RetailSync:Shops", refused.Message, StringComparison.Ordinal);
        Assert.Contains("RetailSync:ApiKeys", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task an_unknown_shop_a_missing_signature_and_a_wrong_one_get_the_same_answer()
    {
        var body = ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", NewOrderId(), DateTimeOffset.UtcNow);
        var unknown = ShopifyFixtures.Delivery("orders/create", body, shop: "nobody.myshopify.com");
        var wrong = ShopifyFixtures.Delivery("orders/create", body, secret: "not-the-secret");
        var missing = ShopifyFixtures.Delivery("orders/create", body);
        missing.Headers.Remove("X-Shopify-Hmac-Sha256");

        var answers = new List<string>();
        foreach (var request in new[] { unknown, wrong, missing })
        {
            var (status, problem) = await SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            answers.Add(problem.GetProperty("title").GetString() + "|" + problem.GetProperty("detail").GetString());
        }

        Assert.Single(answers.Distinct());
    }

    [Fact]
    public async Task an_unknown_shop_is_refused_before_its_body_is_read()
    {
        // Announce the maximum body and send none of it: the answer must come without waiting for the body.
        using var client = new TcpClient();
        await client.ConnectAsync(host.Http.BaseAddress!.Host, host.Http.BaseAddress.Port);
        var stream = client.GetStream();
        var head = "POST /webhooks/shopify HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 65536\r\n"
            + "X-Shopify-Shop-Domain: nobody.myshopify.com\r\nX-Shopify-Hmac-Sha256: AAAA\r\nX-Shopify-Topic: orders/create\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[512];
        var read = await stream.ReadAsync(buffer, timeout.Token);
        Assert.StartsWith("HTTP/1.1 401", Encoding.ASCII.GetString(buffer, 0, read), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("overlong")]
    [InlineData("nul")]
    [InlineData("control")]
    public async Task an_event_id_that_is_too_long_or_holds_a_control_character_is_a_bad_request(string kind)
    {
        var id = NewOrderId();
        var body = ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", id, DateTimeOffset.UtcNow);
        var eventId = kind switch { "overlong" => new string('7', 3000), "nul" => "evt\0x", _ => "evt\u0001x" };
        var request = ShopifyFixtures.Delivery("orders/create", body);
        request.Headers.Remove("X-Shopify-Event-Id");
        request.Headers.TryAddWithoutValidation("X-Shopify-Event-Id", eventId);
        if (kind == "nul")
        {
            // HttpClient refuses to send a NUL in a header; the id of the order itself carries it instead.
            request = ShopifyFixtures.Delivery("orders/create", Encoding.UTF8.GetBytes(
                Encoding.UTF8.GetString(body).Replace($"\"id\":{id},", $"\"id\":\"{id}\\u0000\",", StringComparison.Ordinal)));
        }

        var (status, problem) = await SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(kind == "overlong" ? "longer than 256" : "control character", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await AssertNoOrderAsync(id);
    }

    [Theory]
    [InlineData("\"shop_money\":{\"amount\":\"388.00\"", "\"shop_money\":{\"amount\":1e309")]
    [InlineData("\"quantity\":1,", "\"quantity\":1e20,")]
    [InlineData("\"order_number\":1234", "\"order_number\":99999999999999999999999")]
    public async Task a_signed_payload_with_values_out_of_range_is_a_bad_request_not_a_server_error(string from, string to)
    {
        var id = NewOrderId();
        var text = Encoding.UTF8.GetString(ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", id, DateTimeOffset.UtcNow));
        Assert.Contains(from, text, StringComparison.Ordinal);
        var (status, _) = await SendAsync(ShopifyFixtures.Delivery("orders/create", Encoding.UTF8.GetBytes(text.Replace(from, to, StringComparison.Ordinal))));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        await AssertNoOrderAsync(id);
    }

    [Fact]
    public async Task a_signed_payload_with_invalid_utf8_inside_a_string_is_a_bad_request()
    {
        var id = NewOrderId();
        var text = Encoding.UTF8.GetString(ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", id, DateTimeOffset.UtcNow));
        var marker = "\"email\":\"";
        var at = text.IndexOf(marker, StringComparison.Ordinal) + marker.Length;
        var bytes = Encoding.UTF8.GetBytes(text).ToList();
        var offset = Encoding.UTF8.GetByteCount(text[..at]);
        bytes.InsertRange(offset, new byte[] { 0xC3, 0x28 });
        var (status, _) = await SendAsync(ShopifyFixtures.Delivery("orders/create", bytes.ToArray()));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        await AssertNoOrderAsync(id);
    }

    [Theory]
    [InlineData("""{"eventId":"e-neg","type":"stock.changed","sku":"SKU-NEG","location":"WH","onHand":-5,"version":1}""", "negative")]
    [InlineData("""{"eventId":"e-ver","type":"stock.changed","sku":"SKU-NEG","location":"WH","onHand":5,"version":-1}""", "negative")]
    [InlineData("""{"eventId":"e-ctl\u0001","type":"stock.changed","sku":"SKU-NEG","location":"WH","onHand":5,"version":1}""", "control character")]
    public async Task erp_callbacks_with_negative_figures_or_bad_keys_are_refused(string json, string why)
    {
        var (status, problem) = await SendAsync(ShopifyFixtures.SignedCallback("/webhooks/erp/bc", Encoding.UTF8.GetBytes(json), DevelopmentDefaults.ErpCallbackSecret));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(why, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await host.Http.GetApiAsync("/api/v1/inventory/sandbox/SKU-NEG")).Status);
    }

    [Theory]
    [InlineData("../../x", "not a RetailSync golden id")]
    [InlineData(null, "in the future")]
    public async Task crm_callbacks_with_a_foreign_golden_id_or_a_time_far_ahead_are_refused(string? goldenId, string why)
    {
        var contact = $"003{Random.Shared.Next(100_000, 999_999)}";
        var json = new JsonObject
        {
            ["eventId"] = "crm-" + contact, ["type"] = "contact.changed", ["id"] = contact, ["goldenId"] = goldenId,
            ["occurredAt"] = goldenId is null ? "9999-12-31T00:00:00Z" : DateTimeOffset.UtcNow.ToString("O"),
            ["fields"] = new JsonObject { ["email"] = $"{contact}@example.com", ["lastName"] = "Probe" },
        }.ToJsonString();

        var (status, problem) = await SendAsync(ShopifyFixtures.SignedCallback("/webhooks/crm/salesforce", Encoding.UTF8.GetBytes(json), DevelopmentDefaults.CrmCallbackSecret));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(why, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var (_, found) = await host.Http.GetApiAsync($"/api/v1/customers/sandbox?email={contact}@example.com");
        Assert.DoesNotContain(contact, found.ValueKind == JsonValueKind.Undefined ? "" : found.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_flood_of_readiness_probes_writes_the_probe_grain_once_every_few_seconds()
    {
        var grains = host.Host.App.Services.GetRequiredService<IGrainFactory>();
        var probe = grains.GetGrain<RetailSync.Platform.IHealthProbeGrain>("ready");
        Assert.Equal(HttpStatusCode.OK, (await host.Http.GetAsync("/health/ready")).StatusCode);
        var before = (await probe.ReadAsync()).Touches;

        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => host.Http.GetAsync("/health/ready")));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        // Without the cache: 40 writes. With it: none, or one if the cached answer expired during the flood.
        Assert.InRange((await probe.ReadAsync()).Touches - before, 0, 1);
    }

    [Theory]
    [InlineData("customers/redact")]
    [InlineData("customers/data_request")]
    [InlineData("orders/create")]
    [InlineData("shop/redact")]
    public async Task a_signed_customer_body_under_another_topic_is_refused_and_nothing_is_recorded(string topic)
    {
        // The topic header is not signed: a captured customers/create body resent as a redaction or an order.
        var customerId = Random.Shared.NextInt64(1_000_000_000, 9_000_000_000);
        var customer = JsonNode.Parse(ShopifyFixtures.Bytes("customers_create__hookdeck-2024-10.json"))!.AsObject();
        customer["id"] = customerId;
        var body = Encoding.UTF8.GetBytes(customer.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(ShopifyFixtures.Delivery("customers/create", body))).Status);

        var (status, problem) = await SendAsync(ShopifyFixtures.Delivery(topic, body));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(topic.StartsWith("orders", StringComparison.Ordinal) ? "line_items" : "shop_domain", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await AssertNoOrderAsync(customerId);
        var (found, source) = await host.Http.GetApiAsync($"/api/v1/sources/shopify/{ShopifyFixtures.Shop}/customers/{customerId}");
        Assert.Equal(HttpStatusCode.OK, found);
        Assert.False(string.IsNullOrEmpty(source.GetProperty("goldenId").GetString()));
        var (_, shop) = await host.Http.GetApiAsync($"/api/v1/shops/{ShopifyFixtures.Shop}");
        Assert.False(shop.GetProperty("redacted").GetBoolean());
        Assert.Equal(0, shop.GetProperty("privacyRequests").GetArrayLength());
    }
}
