using System.Net;
using Npgsql;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Webhooks;

[Collection(PostgresCollection.Name)]
public sealed class ClusterIntakeTests(PostgresFixture postgres)
{
    private static readonly string[] Secrets =
    [
        "--RetailSync:Silo:ServeApi=true",
        "--RetailSync:Shops:sandbox.myshopify.com:Tenant=sandbox",
        "--RetailSync:Shops:sandbox.myshopify.com:WebhookSecret=sandbox-webhook-secret-but-for-cluster",
        "--RetailSync:ApiKeys:0=cluster-test-key-0123456789abcdef0123",
    ];

    [Fact]
    public async Task an_accepted_delivery_is_in_postgresql_and_an_outage_answers_503_until_it_ends()
    {
        var db = await postgres.Server.CreateDatabaseAsync();
        await using var host = await InProcessHost.StartClusterAsync(db, Secrets);
        var orderId = Random.Shared.NextInt64(1_000_000, 9_000_000_000);
        var body = ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", orderId, DateTimeOffset.UtcNow);
        HttpRequestMessage Delivery(string eventId) => ShopifyFixtures.Delivery("orders/create", body, eventId: eventId, secret: "sandbox-webhook-secret-but-for-cluster");

        // Cluster mode serves no dashboard unless an operator turns it on (it has no sign-in).
        Assert.Equal(HttpStatusCode.NotFound, (await host.Http.GetAsync("/dashboard")).StatusCode);

        // Answered once the webhook inbox's row is committed; the order grain has it moments later.
        var accepted = await host.Http.SendJsonAsync(Delivery("first"));
        Assert.Equal(HttpStatusCode.OK, accepted.Status);
        Assert.Equal(1L, await ScalarAsync(db, "SELECT count(*) FROM rs_webhook_inbox WHERE dedupe_key = 'first'"));
        await Eventually.TrueAsync(async () => await CountOrderRowsAsync(db, orderId) == 1, TimeSpan.FromSeconds(30), "the order grain's state row");

        await postgres.Server.StopServerAsync();
        try
        {
            var during = await host.Http.SendJsonAsync(Delivery("during-outage"));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, during.Status);
            Assert.Equal("application/problem+json", during.MediaType);
        }
        finally
        {
            await postgres.Server.StartServerAsync();
        }

        // Shopify's retry of the refused delivery is accepted once storage is back; nothing was half-recorded.
        var retried = await Eventually.SucceedsAsync(async () =>
        {
            var r = await host.Http.SendJsonAsync(Delivery("during-outage"));
            return r.Status == HttpStatusCode.OK ? r : throw new InvalidOperationException(r.Status.ToString());
        }, TimeSpan.FromSeconds(30));
        Assert.Equal("accepted", retried.Body.GetProperty("status").GetString());
        List<string?> correlations = [];
        await Eventually.TrueAsync(async () =>
        {
            var (_, order) = await host.Http.GetApiAsync($"/api/v1/orders/sandbox.myshopify.com/{orderId}", "cluster-test-key-0123456789abcdef0123");
            correlations = [.. order.GetProperty("timeline").EnumerateArray()
                .Where(e => e.GetProperty("kind").GetString()!.StartsWith("shopify:", StringComparison.Ordinal) && e.GetProperty("kind").GetString()!.Contains('/', StringComparison.Ordinal))
                .Select(e => e.GetProperty("correlationId").GetString())];
            return correlations.Count == 2;
        }, TimeSpan.FromSeconds(30), "the retried delivery on the order's timeline");
        Assert.Equal(["first", "during-outage"], correlations);

        // A re-delivery is answered from the inbox's key, and every row ends forwarded without its body.
        var again = await host.Http.SendJsonAsync(Delivery("first"));
        Assert.Equal("duplicate", again.Body.GetProperty("status").GetString());
        await Eventually.TrueAsync(async () => await ScalarAsync(db, "SELECT count(*) FROM rs_webhook_inbox WHERE forwarded_at IS NULL OR body IS NOT NULL") == 0,
            TimeSpan.FromSeconds(30), "every inbox row forwarded");
        var (_, kpis) = await host.Http.GetApiAsync("/api/v1/kpis", "cluster-test-key-0123456789abcdef0123");
        Assert.Equal(0, kpis.GetProperty("webhookInbox").GetProperty("pending").GetInt64());
    }

    private static async Task<long> ScalarAsync(string db, string sql)
    {
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<long> CountOrderRowsAsync(string db, long orderId)
    {
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM rs_grain_state WHERE GrainIdExtensionString LIKE @key AND PayloadBinary IS NOT NULL", connection);
        command.Parameters.AddWithValue("key", $"%/{orderId}");
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
