using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RetailSync.Sandbox;
using RetailSync.Sandbox.BusinessCentral;
using RetailSync.Sandbox.Salesforce;
using RetailSync.Sandbox.Shopify;
using RetailSync.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RetailSync.Tests.Refunds;

/// <summary>
/// The refund saga in cluster mode on PostgreSQL (silo processes), its connectors pointed at a sandbox:
/// a silo killed while refunds wait between steps, and an ERP outage of 30 seconds.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class RefundClusterTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private const string Shop = "refunds.myshopify.com";
    private const string Secret = "refunds-webhook-secret-0123456789abcdef";
    private const string ApiKey = "refunds-api-key-0123456789abcdef01234";

    private sealed record Setup(InProcessHost Sandbox, BusinessCentralSimulator Bc, SalesforceSimulator Crm, string Db, string ClusterId) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Sandbox.DisposeAsync();
    }

    private async Task<Setup> SandboxAsync(IEnumerable<long> orderIds)
    {
        var sandbox = await InProcessHost.StartEmbeddedAsync("--RetailSync:Dashboard:Enabled=false");
        var bc = sandbox.App.Services.GetRequiredService<BusinessCentralSimulator>();
        bc.SeedItem("IPOD2008PINK", "iPod Nano 8GB pink", 199m, 100_000m);
        var shopify = sandbox.App.Services.GetRequiredService<ShopifySimulator>();
        shopify.RestoreRate = 1000;
        foreach (var id in orderIds)
        {
            shopify.SeedOrder(id.ToString(CultureInfo.InvariantCulture), null);
        }

        return new Setup(sandbox, bc, sandbox.App.Services.GetRequiredService<SalesforceSimulator>(), await postgres.Server.CreateDatabaseAsync(),
            "refunds-" + Guid.NewGuid().ToString("N")[..8]);
    }

    private static string[] Args(Setup setup) => SandboxedCluster.SiloArgs(setup.Db, setup.ClusterId, setup.Sandbox.Http.BaseAddress!.ToString(), Shop, Secret, ApiKey,
        "--RetailSync:Connectors:Salesforce:RequestsPerSecond=500", "--RetailSync:Connectors:BusinessCentral:RequestsPerSecond=500",
        "--RetailSync:Outbound:RetryBaseDelay=00:00:00.200", "--RetailSync:Outbound:MaxDelay=00:00:02", "--RetailSync:Outbound:MaxAttempts=500",
        "--RetailSync:Outbound:SweepPeriod=00:00:03", "--RetailSync:Outbound:SweepAge=00:00:05");

    private static async Task DeliverAsync(Func<HttpClient> http, string topic, byte[] body, string eventId) =>
        await Eventually.SucceedsAsync(async () =>
        {
            using var response = await http().SendAsync(ShopifyFixtures.Delivery(topic, body, eventId: eventId, shop: Shop, secret: Secret));
            return response.StatusCode == HttpStatusCode.OK ? true : throw new InvalidOperationException(response.StatusCode.ToString());
        }, TimeSpan.FromSeconds(120), TimeSpan.FromMilliseconds(300));

    private static byte[] Order(long id) => ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", id, DateTimeOffset.UtcNow);

    private static byte[] Refund(long refundId, long orderId, string? sku = null, bool firstLineOnly = false)
    {
        var node = JsonNode.Parse(ShopifyFixtures.Bytes("refunds_create__hookdeck-2024-10.json"))!.AsObject();
        node["id"] = refundId;
        node["order_id"] = orderId;
        node["created_at"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture);
        if (firstLineOnly)
        {
            node["refund_line_items"]!.AsArray().RemoveAt(1);
        }

        if (sku is not null)
        {
            foreach (var line in node["refund_line_items"]!.AsArray())
            {
                // Goods taken back: the ERP must know the item to put it back in stock.
                line!["line_item"]!["sku"] = sku;
                line["restock_type"] = "return";
            }
        }

        return Encoding.UTF8.GetBytes(node.ToJsonString());
    }

    private static HttpClient Api(string url)
    {
        var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        return http;
    }

    private static async Task<string?> StatusAsync(HttpClient api, string path)
    {
        try
        {
            return (await api.GetFromJsonAsync<JsonElement>(path)).GetProperty("status").GetString();
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
        {
            return null;
        }
    }

    private static async Task WaitAllAsync(HttpClient api, IEnumerable<string> paths, string status, TimeSpan within, string what)
    {
        var pending = paths.ToHashSet();
        await Eventually.TrueAsync(async () =>
        {
            foreach (var path in pending.ToList())
            {
                if (await StatusAsync(api, path) == status)
                {
                    pending.Remove(path);
                }
            }

            return pending.Count == 0;
        }, within, what);
    }

    [Fact]
    public async Task refunds_waiting_between_steps_on_a_silo_killed_with_kill_9_complete_once_on_the_other()
    {
        const int Count = 30;
        var orders = Enumerable.Range(0, Count).Select(i => 8_100_000_000L + i).ToList();
        await using var setup = await SandboxAsync(orders);
        await using var a = SiloProcess.Start(Args(setup));
        await using var b = SiloProcess.Start(Args(setup));
        await Task.WhenAll(a.WaitReadyAsync(TimeSpan.FromSeconds(60)), b.WaitReadyAsync(TimeSpan.FromSeconds(60)));
        using var httpA = Api(a.HttpUrl);
        using var httpB = Api(b.HttpUrl);
        var bAlive = true;
        foreach (var id in orders)
        {
            await DeliverAsync(() => httpA, "orders/create", Order(id), $"create-{id}");
        }

        await WaitAllAsync(httpA, orders.Select(id => $"/api/v1/orders/{Shop}/{id}"), "Accepted", TimeSpan.FromMinutes(2), "orders accepted");

        // The ERP answers slowly now: each refund's first step (the CRM case) completes, its credit memo waits.
        (await setup.Sandbox.Http.PostAsJsonAsync("/sandbox/faults", new { system = SandboxApi.BusinessCentral, latencyMs = 4000 })).EnsureSuccessStatusCode();
        var refunds = orders.Select((id, i) => (Refund: 8_200_000_000L + i, Order: id)).ToList();
        foreach (var (refund, order) in refunds)
        {
            await DeliverAsync(() => refund % 2 == 0 && bAlive ? httpB : httpA, "refunds/create", Refund(refund, order), $"refund-{refund}");
        }

        // Shopify delivers a few twice.
        foreach (var (refund, order) in refunds.Where((_, i) => i % 7 == 0))
        {
            await DeliverAsync(() => httpA, "refunds/create", Refund(refund, order), $"refund-{refund}");
        }

        var refundIds = refunds.Select(r => r.Refund.ToString(CultureInfo.InvariantCulture)).ToHashSet();
        await Eventually.TrueAsync(() => Task.FromResult(refundIds.IsSubsetOf(setup.Crm.Records("Case").Select(c => c["Shopify_Refund_Id__c"]?.GetValue<string>() ?? ""))),
            TimeSpan.FromSeconds(60), "every refund's CRM case opened");
        b.Kill();
        bAlive = false;
        (await setup.Sandbox.Http.PostAsJsonAsync("/sandbox/faults", new { system = SandboxApi.BusinessCentral, latencyMs = 0 })).EnsureSuccessStatusCode();

        await WaitAllAsync(httpA, refundIds.Select(id => $"/api/v1/refunds/{Shop}/{id}"), "Completed", TimeSpan.FromMinutes(3), "refunds completed");

        var memos = setup.Bc.Entities("salesCreditMemos").GroupBy(m => m["externalDocumentNumber"]!.GetValue<string>()).ToList();
        var cases = setup.Crm.Records("Case").GroupBy(c => c["Shopify_Refund_Id__c"]!.GetValue<string>()).ToList();
        output.WriteLine($"refunds {Count}; credit memos {memos.Count} (max per refund {memos.Max(g => g.Count())}); cases {cases.Count} (max per refund {cases.Max(g => g.Count())})");
        Assert.Equal(refundIds.Select(id => "RF-" + id).ToHashSet(), memos.Select(g => g.Key).ToHashSet());
        Assert.All(memos, g => Assert.Single(g));
        Assert.Equal(refundIds, cases.Select(g => g.Key).ToHashSet());
        Assert.All(cases, g => Assert.Equal("Closed", Assert.Single(g)["Status"]!.GetValue<string>()));
        await WaitAllAsync(httpA, orders.Select(id => $"/api/v1/orders/{Shop}/{id}"), "Refunded", TimeSpan.FromMinutes(1), "orders refunded");
    }

    [Fact]
    public async Task refunds_survive_a_30_second_erp_outage_and_complete_once_while_a_refused_one_is_compensated()
    {
        const int Count = 10;
        var orders = Enumerable.Range(0, Count + 1).Select(i => 8_300_000_000L + i).ToList();
        var late = 8_300_000_500L;
        await using var setup = await SandboxAsync([.. orders, late]);
        await using var silo = SiloProcess.Start(Args(setup));
        await silo.WaitReadyAsync(TimeSpan.FromSeconds(60));
        using var api = Api(silo.HttpUrl);
        foreach (var id in orders)
        {
            await DeliverAsync(() => api, "orders/create", Order(id), $"create-{id}");
        }

        await WaitAllAsync(api, orders.Select(id => $"/api/v1/orders/{Shop}/{id}"), "Accepted", TimeSpan.FromMinutes(2), "orders accepted");

        (await setup.Sandbox.Http.PostAsJsonAsync("/sandbox/faults", new { system = SandboxApi.BusinessCentral, outage = true })).EnsureSuccessStatusCode();
        var outageStarted = DateTime.UtcNow;
        var refunds = orders.Take(Count).Select((id, i) => (Refund: 8_400_000_000L + i, Order: id)).ToList();
        foreach (var (refund, order) in refunds)
        {
            await DeliverAsync(() => api, "refunds/create", Refund(refund, order), $"refund-{refund}");
        }

        // One refund names an item the ERP does not know: refused for good once the ERP is back.
        var refused = 8_400_000_999L;
        await DeliverAsync(() => api, "refunds/create", Refund(refused, orders[^1], sku: "DISCONTINUED-1"), $"refund-{refused}");

        // One refund comes before its order (one line of its two); the order arrives afterwards.
        var early = 8_400_000_500L;
        await DeliverAsync(() => api, "refunds/create", Refund(early, late, firstLineOnly: true), $"refund-{early}");
        await WaitAllAsync(api, [$"/api/v1/refunds/{Shop}/{early}"], "WaitingForOrder", TimeSpan.FromSeconds(30), "the early refund parked");
        await DeliverAsync(() => api, "orders/create", Order(late), $"create-{late}");

        await Eventually.TrueAsync(async () =>
        {
            var kpis = await api.GetFromJsonAsync<JsonElement>("/api/v1/kpis");
            return kpis.GetProperty("refundsWaitingOnErp").GetArrayLength() >= Count;
        }, TimeSpan.FromSeconds(30), "refunds listed as waiting on the ERP");
        Assert.Empty(setup.Bc.Entities("salesCreditMemos"));

        // The rest of the 30 seconds, then the ERP comes back.
        var remaining = TimeSpan.FromSeconds(30) - (DateTime.UtcNow - outageStarted);
        if (remaining > TimeSpan.Zero)
        {
            await Task.Delay(remaining);
        }

        (await setup.Sandbox.Http.PostAsJsonAsync("/sandbox/faults", new { system = SandboxApi.BusinessCentral, outage = false })).EnsureSuccessStatusCode();

        var refundIds = refunds.Select(r => r.Refund.ToString(CultureInfo.InvariantCulture)).Append(early.ToString(CultureInfo.InvariantCulture)).ToList();
        await WaitAllAsync(api, refundIds.Select(id => $"/api/v1/refunds/{Shop}/{id}"), "Completed", TimeSpan.FromMinutes(2), "refunds completed after the outage");
        await WaitAllAsync(api, [$"/api/v1/refunds/{Shop}/{refused}"], "Compensated", TimeSpan.FromMinutes(1), "the refused refund compensated");

        var memos = setup.Bc.Entities("salesCreditMemos").GroupBy(m => m["externalDocumentNumber"]!.GetValue<string>()).ToList();
        Assert.Equal(refundIds.Select(id => "RF-" + id).ToHashSet(), memos.Select(g => g.Key).ToHashSet());
        Assert.All(memos, g => Assert.Single(g));
        await Eventually.TrueAsync(() => Task.FromResult(setup.Crm.Records("Case").Single(c => c["Shopify_Refund_Id__c"]?.GetValue<string>() == refused.ToString(CultureInfo.InvariantCulture))["Status"]!.GetValue<string>() == "Escalated"),
            TimeSpan.FromSeconds(30), "the refused refund's case escalated");
        var exceptions = await api.GetFromJsonAsync<JsonElement>("/api/v1/ops/exceptions");
        Assert.Contains(exceptions.GetProperty("items").EnumerateArray(), e => e.GetProperty("id").GetString() == $"refund:creditMemo:{Shop}:{refused}");
        // The early refund was partial: its order keeps its status and says it is partially refunded.
        Assert.Single(memos.Single(g => g.Key == $"RF-{early}").Single()["salesCreditMemoLines"]!.AsArray());
        var lateOrder = await api.GetFromJsonAsync<JsonElement>($"/api/v1/orders/{Shop}/{late}");
        Assert.True(lateOrder.GetProperty("partiallyRefunded").GetBoolean());
        Assert.NotEqual("Refunded", lateOrder.GetProperty("status").GetString());
        var kpisAfter = await api.GetFromJsonAsync<JsonElement>("/api/v1/kpis");
        Assert.Equal(0, kpisAfter.GetProperty("refundsWaitingOnErp").GetArrayLength());
        Assert.True(kpisAfter.GetProperty("refundsCompleted").GetInt64() >= Count);
        output.WriteLine($"refunds {Count} + 1 refused; credit memos {memos.Count}; refund cycle p50 {kpisAfter.GetProperty("refundCycleP50Ms")} ms");
    }
}
