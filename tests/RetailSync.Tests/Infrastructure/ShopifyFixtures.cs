using System.Text;
using System.Text.Json;
using RetailSync.Gateway.Webhooks;

namespace RetailSync.Tests.Infrastructure;

/// <summary>The Shopify webhook fixtures shipped in tests/fixtures/shopify (see SOURCES.md there).</summary>
public static class ShopifyFixtures
{
    public const string Shop = "sandbox.myshopify.com";
    public const string Secret = "sandbox-webhook-secret";

    private static readonly string[] KnownTopics =
    [
        "orders/create", "orders/updated", "orders/paid", "orders/cancelled", "orders/fulfilled", "fulfillments/create",
        "refunds/create", "returns/request", "returns/approve", "customers/create", "customers/update", "customers/delete",
        "customers/redact", "inventory_levels/update", "inventory_items/update", "products/update", "app/uninstalled",
    ];

    /// <summary>Every top-level payload fixture with the topic its file name says (the HMAC vector excluded).</summary>
    public static IEnumerable<(string File, string Topic)> Payloads() =>
        Directory.GetFiles(RepoPaths.Fixtures, "*.json")
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(f => !f.StartsWith("hmac_test_vector", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(f => (f, TopicOf(f)));

    public static string TopicOf(string file)
    {
        var prefix = file.Split("__")[0];
        return KnownTopics.Single(t => t.Replace('/', '_') == prefix);
    }

    public static byte[] Bytes(string file) => File.ReadAllBytes(Path.Combine(RepoPaths.Fixtures, file));

    public static JsonElement Json(string file) => JsonDocument.Parse(Bytes(file)).RootElement.Clone();

    /// <summary>A delivery as Shopify sends it: raw body, signed headers, fresh ids unless given.</summary>
    public static HttpRequestMessage Delivery(string topic, byte[] body, string? eventId = null, string? webhookId = null,
        string shop = Shop, string secret = Secret, string? apiVersion = "2026-01")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/shopify") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-Shopify-Topic", topic);
        request.Headers.Add("X-Shopify-Shop-Domain", shop);
        request.Headers.Add("X-Shopify-Hmac-Sha256", ShopifyHmac.Sign(body, secret));
        request.Headers.Add("X-Shopify-Webhook-Id", webhookId ?? Guid.NewGuid().ToString());
        request.Headers.Add("X-Shopify-Event-Id", eventId ?? Random.Shared.NextInt64(1, long.MaxValue).ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("X-Shopify-Triggered-At", DateTimeOffset.UtcNow.ToString("O"));
        if (apiVersion is not null)
        {
            request.Headers.Add("X-Shopify-API-Version", apiVersion);
        }

        return request;
    }

    public static HttpRequestMessage Delivery(string topic, string json, string? eventId = null) =>
        Delivery(topic, Encoding.UTF8.GetBytes(json), eventId);

    /// <summary>An ERP or CRM callback to <paramref name="path"/>, signed like the connectors' (base64 HMAC-SHA256 of the body).</summary>
    public static HttpRequestMessage SignedCallback(string path, byte[] body, string secret)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-RetailSync-Hmac-Sha256", Convert.ToBase64String(System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body)));
        return request;
    }

    /// <summary>The orders/create fixture as a new order with one line: <paramref name="quantity"/> of <paramref name="sku"/>.</summary>
    public static byte[] OrderOfOneLine(long orderId, string sku, int quantity)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(OrderVariant("orders_create__hookdeck-2024-10.json", orderId, DateTimeOffset.UtcNow))!.AsObject();
        var line = node["line_items"]![0]!.DeepClone().AsObject();
        line["sku"] = sku;
        line["quantity"] = quantity;
        node["line_items"] = new System.Text.Json.Nodes.JsonArray(line);
        return Encoding.UTF8.GetBytes(node.ToJsonString());
    }

    /// <summary>
    /// A copy of an order payload with another id and updated_at, for scenarios on fresh orders. Shopify's
    /// sample payloads all carry a cancelled_at; it is cleared unless the scenario is a cancellation.
    /// </summary>
    public static byte[] OrderVariant(string file, long orderId, DateTimeOffset updatedAt, string? email = null, bool cancelled = false)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(Bytes(file))!.AsObject();
        node["id"] = orderId;
        if (!cancelled)
        {
            node["cancelled_at"] = null;
            node["cancel_reason"] = null;
        }

        node["updated_at"] = updatedAt.ToString("yyyy-MM-ddTHH:mm:sszzz", System.Globalization.CultureInfo.InvariantCulture);
        if (email is not null)
        {
            node["email"] = email;
        }

        return Encoding.UTF8.GetBytes(node.ToJsonString());
    }
}
