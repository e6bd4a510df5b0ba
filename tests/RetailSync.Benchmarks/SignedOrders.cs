using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using RetailSync.Gateway.Webhooks;

namespace RetailSync.Benchmarks;

/// <summary>
/// Signed orders/create deliveries built from a real fixture: each gets its own order id and one of
/// <c>customers</c> buyers (customer id and email), patched into fixed-width slots of the body, so building
/// one costs a copy and an HMAC, not a JSON rewrite. Buyers repeat as in a real shop: identity resolution
/// sees returning customers, not one customer buying everything.
/// </summary>
public sealed class SignedOrders
{
    public const long Base = 100_000_000_000_000_000;
    private const long CustomerBase = 200_000_000_000_000_000;
    private const string EmailTemplate = "buyer0000000000@bench.example";
    private readonly byte[] template;
    private readonly int idOffset;
    private readonly int customerIdOffset;
    private readonly int[] emailOffsets;
    private readonly int customers;
    private readonly string secret;
    private readonly long firstBuyer;

    /// <param name="firstBuyer">The first buyer's number: sets of orders with buyers of their own (a warm-up, then the load).</param>
    public SignedOrders(string secret, string fixture = "orders_create__hookdeck-2024-10.json", int customers = 2_000, long firstBuyer = 0)
    {
        this.secret = secret;
        this.customers = customers;
        this.firstBuyer = firstBuyer;
        var node = JsonNode.Parse(File.ReadAllBytes(Path.Combine(RepoPaths.Fixtures, fixture)))!.AsObject();
        node["id"] = Base;
        node["email"] = EmailTemplate;
        node["contact_email"] = EmailTemplate;
        node["customer"]!["id"] = CustomerBase;
        node["customer"]!["email"] = EmailTemplate;
        // The fixture is a cancelled, voided order; a sale's orders are paid and open.
        node["cancelled_at"] = null;
        node["cancel_reason"] = null;
        node["financial_status"] = "paid";
        template = Encoding.UTF8.GetBytes(node.ToJsonString());
        var text = Encoding.UTF8.GetString(template);
        idOffset = text.IndexOf($"\"id\":{Base}", StringComparison.Ordinal) + 5;
        customerIdOffset = text.IndexOf($"\"id\":{CustomerBase}", StringComparison.Ordinal) + 5;
        var offsets = new List<int>();
        for (var at = text.IndexOf(EmailTemplate, StringComparison.Ordinal); at >= 0; at = text.IndexOf(EmailTemplate, at + 1, StringComparison.Ordinal))
        {
            offsets.Add(at + "buyer".Length);
        }

        emailOffsets = [.. offsets];
    }

    public int BodyBytes => template.Length;

    public HttpRequestMessage Create(string shop, long n, string topic = "orders/create")
    {
        var body = (byte[])template.Clone();
        Encoding.ASCII.GetBytes((Base + n).ToString(CultureInfo.InvariantCulture), body.AsSpan(idOffset, 18));
        var buyer = firstBuyer + (n % customers);
        Encoding.ASCII.GetBytes((CustomerBase + buyer).ToString(CultureInfo.InvariantCulture), body.AsSpan(customerIdOffset, 18));
        foreach (var at in emailOffsets)
        {
            Encoding.ASCII.GetBytes(buyer.ToString("D10", CultureInfo.InvariantCulture), body.AsSpan(at, 10));
        }
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
