using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Orleans.Streams;
using RetailSync.Orders;
using RetailSync.Platform;
using RetailSync.Sandbox.BusinessCentral;
using RetailSync.Sandbox.Shopify;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Orders;

/// <summary>What both KPI tests do: one order from a signed orders/create to Accepted, over HTTP, and the counts read back.</summary>
internal static class OrderCountsScenario
{
    public const string Shop = ShopifyFixtures.Shop;

    public static async Task<long> DeliverAcceptedOrderAsync(InProcessHost host, string secret, string apiKey)
    {
        var id = Random.Shared.NextInt64(1_000_000_000, 9_000_000_000);
        var idText = id.ToString(CultureInfo.InvariantCulture);
        host.App.Services.GetRequiredService<BusinessCentralSimulator>().SeedItem(OrderHarness.Sku, "iPod Nano 8GB pink", 199m, 100m);
        host.App.Services.GetRequiredService<ShopifySimulator>().SeedOrder(idText, "#9999");
        var body = ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", id, DateTimeOffset.UtcNow);
        // Delivered twice, as Shopify does when an answer is lost: still one order.
        for (var i = 0; i < 2; i++)
        {
            var answer = await host.Http.SendJsonAsync(ShopifyFixtures.Delivery("orders/create", body, eventId: "kpi-" + idText, secret: secret));
            Assert.Equal(HttpStatusCode.OK, answer.Status);
        }

        JsonElement last = default;
        try
        {
            await Eventually.TrueAsync(async () =>
            {
                var (status, order) = await host.Http.GetApiAsync($"/api/v1/orders/{Shop}/{idText}", apiKey);
                last = order;
                return status == HttpStatusCode.OK && order.GetProperty("status").GetString() == "Accepted"
                    && order.GetProperty("outbox").EnumerateArray().All(e => e.GetProperty("status").GetString() == "Succeeded");
            }, TimeSpan.FromSeconds(60), "the order accepted by the ERP and told everywhere");
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}; last seen: {(last.ValueKind == JsonValueKind.Object ? last.GetRawText()[..Math.Min(3000, last.GetRawText().Length)] : "-")}", ex);
        }

        return id;
    }

    /// <summary>Polls the KPIs until the counts satisfy <paramref name="done"/>; the last KPIs read.</summary>
    public static async Task<JsonElement> KpisAsync(HttpClient http, string apiKey, Func<JsonElement, bool> done, string what)
    {
        JsonElement last = default;
        try
        {
            await Eventually.TrueAsync(async () =>
            {
                var (status, kpis) = await http.GetApiAsync("/api/v1/kpis", apiKey);
                last = kpis;
                return status == HttpStatusCode.OK && done(kpis);
            }, TimeSpan.FromSeconds(30), what);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}; last ordersByStatus {(last.ValueKind == JsonValueKind.Object ? last.GetProperty("ordersByStatus").GetRawText() : "-")}", ex);
        }

        return last;
    }

    public static Dictionary<string, long> ByStatus(JsonElement kpis) =>
        kpis.GetProperty("ordersByStatus").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());

    public static bool HasAccepted(JsonElement kpis) => kpis.GetProperty("ordersByStatus").TryGetProperty("Accepted", out _);

    public static DateTimeOffset? StoredAt(JsonElement kpis) =>
        kpis.GetProperty("ordersStoredAt") is { ValueKind: JsonValueKind.String } at ? at.GetDateTimeOffset() : null;
}

/// <summary>The orders-by-status KPI of a fresh embedded host (its own: the shared sandbox host has other tests' orders).</summary>
public sealed class OrderCountsKpiTests : IAsyncLifetime
{
    private InProcessHost host = null!;

    public async Task InitializeAsync() => host = await InProcessHost.StartEmbeddedAsync(
        "--RetailSync:Dashboard:Enabled=false",
        "--RetailSync:Connectors:Salesforce:RequestsPerSecond=1000",
        "--RetailSync:Connectors:BusinessCentral:RequestsPerSecond=1000",
        "--RetailSync:Outbound:RetryBaseDelay=00:00:00.100",
        "--RetailSync:Outbound:MaxDelay=00:00:01");

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task one_order_accepted_by_the_erp_counts_exactly_once_in_orders_by_status()
    {
        await OrderCountsScenario.DeliverAcceptedOrderAsync(host, ShopifyFixtures.Secret, "dev-api-key");

        var kpis = await OrderCountsScenario.KpisAsync(host.Http, "dev-api-key", OrderCountsScenario.HasAccepted, "the order counted as Accepted");

        // Received, SubmittedToErp and Accepted were each its status: counted by where it is now, not by its events.
        Assert.Equal(new Dictionary<string, long> { ["Accepted"] = 1 }, OrderCountsScenario.ByStatus(kpis));
        Assert.Equal(1, OrderCountsScenario.ByStatus(kpis).Values.Sum());
        var tenant = Assert.Single(kpis.GetProperty("ordersByTenant").EnumerateObject());
        Assert.Equal("sandbox", tenant.Name);
        Assert.Equal(1, tenant.Value.GetProperty("Accepted").GetInt64());
        Assert.True(kpis.GetProperty("acceptanceP50Ms").GetDouble() > 0);
        Assert.Equal(JsonValueKind.String, kpis.GetProperty("ordersAsOf").ValueKind);
    }
}

/// <summary>The projection in cluster mode: stored in PostgreSQL, it survives a restart of the silo, and a rebuild keeps it.</summary>
[Collection(PostgresCollection.Name)]
public sealed class OrderCountsClusterTests(PostgresFixture postgres)
{
    private const string Secret = "sandbox-webhook-secret-but-for-cluster";
    private const string ApiKey = "cluster-test-key-0123456789abcdef0123";

    private static readonly string[] Args =
    [
        "--RetailSync:Silo:ServeApi=true",
        "--RetailSync:Dashboard:Enabled=false",
        // The vendors' simulators on the silo's own Kestrel, as in the embedded default.
        "--RetailSync:Sandbox:Enabled=true", "--RetailSync:Sandbox:AllowInCluster=true",
        $"--RetailSync:Shops:{OrderCountsScenario.Shop}:Tenant=sandbox",
        $"--RetailSync:Shops:{OrderCountsScenario.Shop}:WebhookSecret={Secret}",
        $"--RetailSync:ApiKeys:0={ApiKey}",
        "--RetailSync:Outbound:RetryBaseDelay=00:00:00.100",
        "--RetailSync:Outbound:MaxDelay=00:00:01",
    ];

    [Fact]
    public async Task the_counts_survive_a_restart_of_the_silo_and_a_rebuild_keeps_them()
    {
        var db = await postgres.Server.CreateDatabaseAsync();
        long id;
        await using (var first = await InProcessHost.StartClusterAsync(db, Args))
        {
            id = await OrderCountsScenario.DeliverAcceptedOrderAsync(first, Secret, ApiKey);
            // Stored after the acceptance it counts (ordersAsOf is that event's time; a store in the moment between the
            // order's decision and its event reaching the projection is followed by another, or by the one on deactivation).
            var stored = await OrderCountsScenario.KpisAsync(first.Http, ApiKey,
                k => OrderCountsScenario.HasAccepted(k) && OrderCountsScenario.StoredAt(k) > k.GetProperty("ordersAsOf").GetDateTimeOffset(),
                "the projection stored after counting the order");
            Assert.Equal(new Dictionary<string, long> { ["Accepted"] = 1 }, OrderCountsScenario.ByStatus(stored));
        }

        await using var second = await InProcessHost.StartClusterAsync(db, Args);

        // Read back from PostgreSQL by the new silo: nothing was replayed to it (memory streams keep nothing across a restart).
        var restarted = await OrderCountsScenario.KpisAsync(second.Http, ApiKey, k => OrderCountsScenario.StoredAt(k) is not null, "the stored projection read back");
        Assert.Equal(new Dictionary<string, long> { ["Accepted"] = 1 }, OrderCountsScenario.ByStatus(restarted));
        Assert.Equal(1, Assert.Single(restarted.GetProperty("ordersByTenant").EnumerateObject()).Value.GetProperty("Accepted").GetInt64());

        // The rebuild asks each known order to state its status again; the one order, reactivated from its stored state, says Accepted.
        var key = $"{OrderCountsScenario.Shop}/{id}";
        var restatements = new TaskCompletionSource<OrderStatusChanged>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stream = second.Grains.GetStreamProvider(StorageNames.Events).GetStream<OrderEvent>(StreamId.Create(OrderStreams.Namespace, OrderStreams.Key));
        var subscription = await stream.SubscribeAsync((e, _) =>
        {
            if (e is OrderStatusChanged { From: not null } c && c.Order == key && c.From == c.To)
            {
                restatements.TrySetResult(c);
            }

            return Task.CompletedTask;
        });
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/ops/projections/orders/rebuild");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
            using var response = await second.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            Assert.Equal(1, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("orders").GetInt32());

            var restated = await restatements.Task.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(OrderStatus.Accepted, restated.To);
            Assert.Equal("sandbox", restated.Tenant);
            // Its latest sequence (created 0, submitted 1, accepted 2): one the projection has, so it changes nothing.
            Assert.Equal(2, restated.Sequence);
        }
        finally
        {
            await subscription.UnsubscribeAsync();
        }

        var rebuilt = await OrderCountsScenario.KpisAsync(second.Http, ApiKey, OrderCountsScenario.HasAccepted, "the counts after the rebuild");
        Assert.Equal(new Dictionary<string, long> { ["Accepted"] = 1 }, OrderCountsScenario.ByStatus(rebuilt));
        var counts = await second.Grains.GetGrain<IOrderCountsGrain>(OrderStreams.Key).GetAsync();
        Assert.Equal(1, counts.ByStatus.Values.Sum());
    }
}
