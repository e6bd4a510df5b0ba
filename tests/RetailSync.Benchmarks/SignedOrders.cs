using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using RetailSync.Gateway.Webhooks;

namespace RetailSync.Benchmarks;

/// <summary>
/// Signed orders/create deliveries built from a real fixture: each gets its own order id (patched
/// into a fixed-width slot of the body, so building one costs a copy and an HMAC, not a JSON rewrite).
/// </summary>
public sealed class SignedOrders
{
    public const long Base = 100_000_000_000_000_000;
    private readonly byte[] template;
    private readonly int idOffset;
    private readonly string secret;

    public SignedOrders(string secret, string fixture = "orders_create__hookdeck-2024-10.json")
    {
        this.secret = secret;
        var node = JsonNode.Parse(File.ReadAllBytes(Path.Combine(RepoPaths.Fixtures, fixture)))!.AsObject();
        node["id"] = Base;
        // The fixture is a cancelled, voided order; a sale's orders are paid and open.
        node["cancelled_at"] = null;
        node["cancel_reason"] = null;
        node["financial_status"] = "paid";
        template = Encoding.UTF8.GetBytes(node.ToJsonString());
        idOffset = Encoding.UTF8.GetString(template).IndexOf($"\"id\":{Base}", StringComparison.Ordinal) + 5;
    }

    public int BodyBytes => template.Length;

    public HttpRequestMessage Create(string shop, long n, string topic = "orders/create")
    {
        var body = (byte[])template.Clone();
        Encoding.ASCII.GetBytes((Base + n).ToString(CultureInfo.InvariantCulture), body.AsSpan(idOffset, 18));
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/shopify") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-Shopify-Topic", topic);
        request.Headers.Add("X-Shopify-Shop-Domain", shop);
        request.Headers.Add("X-Shopify-Hmac-Sha256", ShopifyHmac.Sign(body, secret));
        request.Headers.Add("X-Shopify-Event-Id", n.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("X-Shopify-Webhook-Id", Guid.NewGuid().ToString());
        request.Headers.Add("X-Shopify-API-Version", "2026-01");
        return request;
    }
}
