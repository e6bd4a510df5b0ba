using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Webhooks;

/// <summary>
/// The real fixtures, mutated (bytes, types, lengths, nesting, headers), signed and unsigned, thousands of
/// times through the real gateway: never a server error, never a record for a bad signature, and the host
/// still serves with its memory bounded afterwards.
/// </summary>
public sealed class WebhookFuzzTests(EmbeddedHostFixture host) : IClassFixture<EmbeddedHostFixture>
{
    private const int Deliveries = 3000;

    private static readonly (string File, string Topic)[] Fixtures = [.. ShopifyFixtures.Payloads()];

    private static readonly string[] Topics =
    [
        "orders/create", "orders/updated", "orders/cancelled", "refunds/create", "customers/create", "customers/redact",
        "customers/data_request", "shop/redact", "products/update", "inventory_levels/update", "app/uninstalled", "unknown/topic",
    ];

    /// <param name="Body">How the fixture's bytes are changed (see <see cref="Mutate"/>).</param>
    /// <param name="Header">Which header goes wrong: 0 none, 1 no topic, 2 another topic, 3 an overlong event id, 4 a bad timestamp, 5 no ids.</param>
    /// <param name="Signed">Signed with the shop's secret; otherwise a wrong secret or no signature.</param>
    private sealed record Probe(int Fixture, int Body, int Header, bool Signed, int Seed);

    private static readonly Gen<Probe> Probes = Gen.Select(Gen.Int[0, Fixtures.Length - 1], Gen.Int[0, 8], Gen.Int[0, 5], Gen.Bool, Gen.Int)
        .Select((fixture, body, header, signed, seed) => new Probe(fixture, body, header, signed, seed));

    private static byte[] Mutate(byte[] original, int kind, Random random, out long? orderId)
    {
        orderId = null;
        var node = JsonNode.Parse(original)!;
        if (node is JsonObject root && root["id"] is JsonValue)
        {
            // A fresh id for every delivery (not from the probe's seed, which repeats), so what it would have
            // created can be looked for afterwards.
            orderId = Random.Shared.NextInt64(1_000_000_000, 9_000_000_000_000);
            root["id"] = orderId;
        }

        var bytes = Encoding.UTF8.GetBytes(node.ToJsonString());
        switch (kind)
        {
            case 1:
                for (var i = random.Next(1, 8); i > 0; i--)
                {
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                }

                return bytes;
            case 2:
                return bytes[..random.Next(bytes.Length)];
            case 3:
            case 4:
            case 5:
                var values = Leaves(node).ToList();
                var (parent, key) = values[random.Next(values.Count)];
                JsonNode? replacement = kind switch
                {
                    3 => random.Next(6) switch
                    {
                        0 => JsonValue.Create("a string"), 1 => JsonValue.Create(-1), 2 => new JsonArray(1, 2), 3 => new JsonObject { ["x"] = 1 },
                        4 => JsonValue.Create(true), _ => null,
                    },
                    4 => Nest(random.Next(50, 300)),
                    _ => random.Next(4) switch
                    {
                        0 => JsonNode.Parse("1e309"), 1 => JsonNode.Parse("123456789012345678901234567890"),
                        2 => JsonValue.Create(new string('x', random.Next(300, 40_000))), _ => JsonValue.Create("id\u0000with nul"),
                    },
                };
                Set(parent, key, replacement);
                return Encoding.UTF8.GetBytes(node.ToJsonString());
            case 6:
                return [.. bytes, .. bytes];
            case 7:
                var noise = new byte[random.Next(0, 100_000)];
                random.NextBytes(noise);
                return noise;
            case 8:
                // Invalid UTF-8 inside the first string value.
                var at = Array.IndexOf(bytes, (byte)'"', Array.IndexOf(bytes, (byte)':') + 1) + 1;
                return at <= 0 ? bytes : [.. bytes[..at], 0xC3, 0x28, .. bytes[at..]];
            default:
                return bytes;
        }
    }

    private static JsonNode Nest(int depth)
    {
        JsonNode node = new JsonArray(1);
        for (var i = 0; i < depth; i++)
        {
            node = new JsonArray(node);
        }

        return node;
    }

    private static IEnumerable<(JsonNode Parent, object Key)> Leaves(JsonNode node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (name, child) in o.ToList())
                {
                    yield return (o, name);
                    if (child is not null)
                    {
                        foreach (var leaf in Leaves(child))
                        {
                            yield return leaf;
                        }
                    }
                }

                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    yield return (a, i);
                    if (a[i] is { } child)
                    {
                        foreach (var leaf in Leaves(child))
                        {
                            yield return leaf;
                        }
                    }
                }

                break;
        }
    }

    private static void Set(JsonNode parent, object key, JsonNode? value)
    {
        if (parent is JsonObject o)
        {
            o[(string)key] = value;
        }
        else
        {
            ((JsonArray)parent)[(int)key] = value;
        }
    }

    private static HttpRequestMessage Request(Probe probe, byte[] body, Random random)
    {
        var (_, fixtureTopic) = Fixtures[probe.Fixture];
        var topic = probe.Header == 2 ? Topics[random.Next(Topics.Length)] : fixtureTopic;
        var request = ShopifyFixtures.Delivery(topic, body, secret: probe.Signed ? ShopifyFixtures.Secret : "a-wrong-secret");
        if (!probe.Signed && random.Next(2) == 0)
        {
            request.Headers.Remove("X-Shopify-Hmac-Sha256");
        }

        switch (probe.Header)
        {
            case 1:
                request.Headers.Remove("X-Shopify-Topic");
                break;
            case 3:
                request.Headers.Remove("X-Shopify-Event-Id");
                request.Headers.Add("X-Shopify-Event-Id", new string('9', random.Next(257, 5000)));
                break;
            case 4:
                request.Headers.Remove("X-Shopify-Triggered-At");
                request.Headers.Add("X-Shopify-Triggered-At", "yesterday-ish");
                break;
            case 5:
                request.Headers.Remove("X-Shopify-Event-Id");
                request.Headers.Remove("X-Shopify-Webhook-Id");
                break;
        }

        return request;
    }

    [Fact]
    public async Task thousands_of_mutated_deliveries_never_end_in_a_server_error_and_unsigned_ones_record_nothing()
    {
        var originals = Fixtures.Select(f => ShopifyFixtures.Bytes(f.File)).ToArray();
        var unsignedOrders = new List<long>();
        var statuses = new Dictionary<HttpStatusCode, int>();
        var before = GC.GetTotalMemory(forceFullCollection: true);

        await Probes.SampleAsync(async probe =>
        {
            var random = new Random(probe.Seed);
            var body = Mutate(originals[probe.Fixture], probe.Body, random, out var orderId);
            using var request = Request(probe, body, random);
            using var response = await host.Http.SendAsync(request);
            var status = response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            Assert.True((int)status < 500, $"{(int)status} for {probe}: {await response.Content.ReadAsStringAsync()}");
            Assert.Contains(status, new[] { HttpStatusCode.OK, HttpStatusCode.BadRequest, HttpStatusCode.Unauthorized, HttpStatusCode.RequestEntityTooLarge });
            if (!probe.Signed)
            {
                // Refused unread: too large by its Content-Length, or not signed by the shop.
                Assert.Contains(status, new[] { HttpStatusCode.Unauthorized, HttpStatusCode.RequestEntityTooLarge });
                if (orderId is { } id && Fixtures[probe.Fixture].Topic.StartsWith("orders/", StringComparison.Ordinal))
                {
                    unsignedOrders.Add(id);
                }
            }
        }, iter: Deliveries, threads: 1);

        // Nothing an unsigned delivery named exists.
        foreach (var id in unsignedOrders.Take(200))
        {
            Assert.Equal(HttpStatusCode.NotFound, (await host.Http.GetApiAsync($"/api/v1/orders/{ShopifyFixtures.Shop}/{id}")).Status);
        }

        // Still serving: a plain delivery is accepted, and what the flood left on the heap is bounded.
        var fresh = Random.Shared.NextInt64(1_000_000_000, 9_000_000_000_000);
        var ok = await host.Http.SendAsync(ShopifyFixtures.Delivery("orders/create", ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", fresh, DateTimeOffset.UtcNow)));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var grown = GC.GetTotalMemory(forceFullCollection: true) - before;
        Assert.True(grown < 256L * 1024 * 1024, $"the heap grew by {grown / (1024 * 1024)} MB over {Deliveries} deliveries");
        Assert.True(statuses.GetValueOrDefault(HttpStatusCode.OK) > 0 && statuses.GetValueOrDefault(HttpStatusCode.BadRequest) > 0,
            "the mutations reach both the mapped and the refused paths: " + string.Join(", ", statuses.Select(s => $"{(int)s.Key}: {s.Value}")));
    }
}
