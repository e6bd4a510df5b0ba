using System.Net;
using System.Text;
using System.Text.Json;
using Npgsql;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Webhooks;

/// <summary>shop/redact in cluster mode, checked in PostgreSQL itself: no stored grain state and no inbox row keeps the buyer.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ClusterErasureTests(PostgresFixture postgres)
{
    private const string Shop = "sandbox.myshopify.com";
    private const string Secret = "sandbox-webhook-secret-but-for-cluster";
    private const string ApiKey = "cluster-test-key-0123456789abcdef0123";

    [Fact]
    public async Task shop_redact_leaves_no_stored_state_or_inbox_body_with_the_buyers_data()
    {
        var db = await postgres.Server.CreateDatabaseAsync();
        await using var host = await InProcessHost.StartClusterAsync(db,
            "--RetailSync:Silo:ServeApi=true",
            $"--RetailSync:Shops:{Shop}:Tenant=sandbox",
            $"--RetailSync:Shops:{Shop}:WebhookSecret={Secret}",
            $"--RetailSync:ApiKeys:0={ApiKey}");
        var run = Random.Shared.NextInt64(1_000_000, 9_000_000);
        var email = $"erase-me-{run}@example.com";
        await SendAsync(host, "customers/create", JsonSerializer.SerializeToUtf8Bytes(new
        {
            id = run, email, first_name = "Grace", last_name = "Hopper", phone = "+15555550100",
            updated_at = "2026-01-01T10:00:00Z", created_at = "2026-01-01T10:00:00Z",
        }));
        foreach (var orderId in new[] { run + 1, run + 2 })
        {
            await SendAsync(host, "orders/create", ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", orderId, DateTimeOffset.UtcNow, email));
        }

        // The check can see the buyer: the customer and both orders are stored with the email.
        await Eventually.TrueAsync(async () => (await StatesHoldingAsync(db, email)).Count >= 3, TimeSpan.FromSeconds(30), "the buyer's states stored");

        await SendAsync(host, "shop/redact", Encoding.UTF8.GetBytes($$"""{"shop_id":{{run}},"shop_domain":"{{Shop}}"}"""));
        await Eventually.TrueAsync(async () =>
        {
            var (_, shop) = await host.Http.GetApiAsync($"/api/v1/shops/{Shop}", ApiKey);
            return shop.ValueKind == JsonValueKind.Object && shop.GetProperty("privacyRequests").EnumerateArray()
                .Any(r => r.GetProperty("request").GetProperty("kind").GetString() == "ShopRedact" && r.GetProperty("completedAt").ValueKind != JsonValueKind.Null);
        }, TimeSpan.FromSeconds(30), "the shop erased");

        Assert.Equal([], await StatesHoldingAsync(db, email));
        Assert.Equal([], await StatesHoldingAsync(db, "Hopper"));
        await Eventually.TrueAsync(async () => await ScalarAsync(db, "SELECT count(*) FROM rs_webhook_inbox WHERE body IS NOT NULL") == 0,
            TimeSpan.FromSeconds(30), "no inbox body left");
    }

    private static async Task SendAsync(InProcessHost host, string topic, byte[] body)
    {
        var (status, answer, _) = await host.Http.SendJsonAsync(ShopifyFixtures.Delivery(topic, body, secret: Secret));
        Assert.True(status == HttpStatusCode.OK, $"{topic}: {status} {answer}");
    }

    /// <summary>Stored grain states whose bytes contain the value (Orleans' binary format keeps strings as UTF-8).</summary>
    private static async Task<List<string>> StatesHoldingAsync(string db, string value)
    {
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT GrainTypeString || ' ' || GrainIdExtensionString FROM rs_grain_state WHERE position(convert_to($1, 'UTF8') in PayloadBinary) > 0", connection);
        command.Parameters.AddWithValue(value);
        var states = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            states.Add(reader.GetString(0));
        }

        return states;
    }

    private static async Task<long> ScalarAsync(string db, string sql)
    {
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
