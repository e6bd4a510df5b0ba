using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RetailSync.Sandbox;
using RetailSync.Sandbox.BusinessCentral;
using RetailSync.Sandbox.Salesforce;
using RetailSync.Sandbox.Shopify;
using RetailSync.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RetailSync.Tests.Orders;

/// <summary>
/// Cluster mode on PostgreSQL with two silo processes and a sandbox: duplicated and reordered
/// deliveries, 30% ERP errors, a CRM throttling us (it allows 20 requests/s, we are configured
/// for 40) and a silo killed mid-run. Every order must end
/// accepted, exactly once in the ERP and in the CRM.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class OrderChaosTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private const int Orders = 500;
    private const string Shop = "chaos.myshopify.com";
    private const string Secret = "chaos-webhook-secret-0123456789abcdef";

    [Fact]
    public async Task every_order_ends_accepted_once_in_the_erp_and_the_crm_despite_faults_duplicates_and_a_killed_silo()
    {
        await using var sandbox = await InProcessHost.StartEmbeddedAsync("--RetailSync:Dashboard:Enabled=false");
        var bc = sandbox.App.Services.GetRequiredService<BusinessCentralSimulator>();
        var crm = sandbox.App.Services.GetRequiredService<SalesforceSimulator>();
        var shopify = sandbox.App.Services.GetRequiredService<ShopifySimulator>();
        bc.SeedItem("IPOD2008PINK", "iPod Nano 8GB pink", 199m, 100_000m);
        // A Shopify Plus shop (restore rate 1,000 points/s); on Standard (100/s) status tags alone would
        // take minutes for this many orders, which is Shopify's limit, not ours.
        shopify.RestoreRate = 1000;
        var ids = Enumerable.Range(0, Orders).Select(i => 7_000_000_000L + i).ToList();
        foreach (var id in ids)
        {
            shopify.SeedOrder(id.ToString(CultureInfo.InvariantCulture), null);
        }

        (await sandbox.Http.PostAsJsonAsync("/sandbox/faults", new { system = SandboxApi.BusinessCentral, errorRate = 0.3 })).EnsureSuccessStatusCode();
        (await sandbox.Http.PostAsJsonAsync("/sandbox/faults", new { system = SandboxApi.Salesforce, rateLimitPerSecond = 20 })).EnsureSuccessStatusCode();

        var db = await postgres.Server.CreateDatabaseAsync();
        var clusterId = "chaos-" + Guid.NewGuid().ToString("N")[..8];
        string[] Args() => SandboxedCluster.SiloArgs(db, clusterId, sandbox.Http.BaseAddress!.ToString(), Shop, Secret, "chaos-api-key-0123456789abcdef0123456",
            "--RetailSync:Connectors:Salesforce:RequestsPerSecond=40", "--RetailSync:Connectors:BusinessCentral:RequestsPerSecond=500",
            "--RetailSync:Outbound:RetryBaseDelay=00:00:00.200", "--RetailSync:Outbound:MaxDelay=00:00:02", "--RetailSync:Outbound:MaxAttempts=500",
            "--RetailSync:Outbound:SweepPeriod=00:00:03", "--RetailSync:Outbound:SweepAge=00:00:05");
        await using var a = SiloProcess.Start(Args());
        await using var b = SiloProcess.Start(Args());
        await Task.WhenAll(a.WaitReadyAsync(TimeSpan.FromSeconds(60)), b.WaitReadyAsync(TimeSpan.FromSeconds(60)));
        using var httpA = new HttpClient { BaseAddress = new Uri(a.HttpUrl), Timeout = TimeSpan.FromSeconds(10) };
        using var httpB = new HttpClient { BaseAddress = new Uri(b.HttpUrl), Timeout = TimeSpan.FromSeconds(10) };
        var bAlive = true;

        // Shopify's side: a delivery is repeated until some gateway answers 200.
        async Task DeliverAsync(string topic, byte[] body, string eventId, bool preferB)
        {
            await Eventually.SucceedsAsync(async () =>
            {
                var http = preferB && bAlive ? httpB : httpA;
                using var response = await http.SendAsync(ShopifyFixtures.Delivery(topic, body, eventId: eventId, shop: Shop, secret: Secret));
                return response.StatusCode == HttpStatusCode.OK ? true : throw new InvalidOperationException(response.StatusCode.ToString());
            }, TimeSpan.FromSeconds(120), TimeSpan.FromMilliseconds(300));
        }

        var created = DateTimeOffset.UtcNow;
        var random = new Random(42);
        var duplicated = 0;
        var reordered = 0;
        async Task SendOrderAsync(int i)
        {
            var id = ids[i];
            var create = ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", id, created);
            var paid = ShopifyFixtures.OrderVariant("orders_paid__hookdeck-2024-10.json", id, created.AddMinutes(1));
            var preferB = i % 2 == 1;
            if (random.NextDouble() < 0.1)
            {
                Interlocked.Increment(ref reordered);
                await DeliverAsync("orders/paid", paid, $"paid-{id}", preferB);
                await DeliverAsync("orders/create", create, $"create-{id}", !preferB);
            }
            else
            {
                await DeliverAsync("orders/create", create, $"create-{id}", preferB);
            }

            if (random.NextDouble() < 0.1)
            {
                Interlocked.Increment(ref duplicated);
                await DeliverAsync("orders/create", create, $"create-{id}", !preferB);
            }
        }

        var half = Orders / 2;
        await Parallel.ForEachAsync(Enumerable.Range(0, half), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) => await SendOrderAsync(i));

        // The ERP is being called for many of these right now: kill -9 one silo in the middle of it.
        b.Kill();
        bAlive = false;
        await Parallel.ForEachAsync(Enumerable.Range(half, Orders - half), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) => await SendOrderAsync(i));

        using var api = new HttpClient { BaseAddress = new Uri(a.HttpUrl), Timeout = TimeSpan.FromSeconds(10) };
        api.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "chaos-api-key-0123456789abcdef0123456");
        // First from the vendors' side, without reading any order (a query activates its grain, which
        // would resend its commands and hide a lost one): the CRM ends up with every order accepted.
        var expectedIds = ids.Select(i => i.ToString(CultureInfo.InvariantCulture)).ToHashSet();
        await Eventually.TrueAsync(() => Task.FromResult(crm.Records("Order")
            .Where(o => o["RetailSync_Status__c"]?.GetValue<string>() == "Accepted")
            .Select(o => o["Shopify_Order_Id__c"]!.GetValue<string>()).ToHashSet().SetEquals(expectedIds)),
            TimeSpan.FromMinutes(5), $"all {Orders} orders accepted in the CRM");

        var pending = new HashSet<long>(ids);
        var lastSeen = new Dictionary<long, string>();
        try
        {
        await Eventually.TrueAsync(async () =>
        {
            foreach (var id in pending.ToList())
            {
                try
                {
                    var order = await api.GetFromJsonAsync<JsonElement>($"/api/v1/orders/{Shop}/{id}");
                    lastSeen[id] = order.GetProperty("status").GetString() + " " + order.GetProperty("systems").GetRawText() + " " + order.GetProperty("outbox").GetRawText();
                    if (order.GetProperty("status").GetString() == "Accepted"
                        && order.GetProperty("systems").EnumerateObject().All(s => s.Value.GetProperty("status").GetString() == "Synced"))
                    {
                        pending.Remove(id);
                    }
                }
                catch (HttpRequestException)
                {
                }
                catch (TaskCanceledException)
                {
                }
            }

            return pending.Count == 0;
        }, TimeSpan.FromMinutes(5), $"all {Orders} orders accepted and synced");
        }
        catch (TimeoutException)
        {
            output.WriteLine($"{pending.Count} orders not done; first ones:");
            foreach (var id in pending.Take(5))
            {
                output.WriteLine($"{id}: {lastSeen.GetValueOrDefault(id, "never read")}");
                var order = await api.GetFromJsonAsync<JsonElement>($"/api/v1/orders/{Shop}/{id}");
                output.WriteLine("   outbox: " + order.GetProperty("outbox").GetRawText());
            }

            output.WriteLine("KPIs: " + await api.GetStringAsync("/api/v1/kpis"));
            output.WriteLine("silo A log tail: " + string.Join("\n", a.Log.Split('\n').TakeLast(30)));

            throw;
        }

        var erpOrders = bc.Entities("salesOrders").GroupBy(o => o["externalDocumentNumber"]!.GetValue<string>()).ToList();
        var crmOrders = crm.Records("Order").GroupBy(o => o["Shopify_Order_Id__c"]!.GetValue<string>()).ToList();
        var expected = ids.Select(i => i.ToString(CultureInfo.InvariantCulture)).ToHashSet();
        var traffic = sandbox.App.Services.GetRequiredService<SandboxTraffic>();
        output.WriteLine($"orders {Orders}, duplicated deliveries {duplicated}, reordered {reordered}; " +
            $"ERP sales orders {erpOrders.Count} (max per order {erpOrders.Max(g => g.Count())}), CRM orders {crmOrders.Count} (max per order {crmOrders.Max(g => g.Count())}); " +
            $"ERP injected errors {traffic.BusinessCentral.InjectedErrors}, CRM throttled {traffic.Salesforce.RejectedByRateLimit}");
        Assert.Equal(expected, erpOrders.Select(g => g.Key).ToHashSet());
        Assert.All(erpOrders, g => Assert.Single(g));
        Assert.Equal(expected, crmOrders.Select(g => g.Key).ToHashSet());
        Assert.All(crmOrders, g => Assert.Single(g));
        Assert.True(traffic.BusinessCentral.InjectedErrors > 0);
        Assert.True(traffic.Salesforce.RejectedByRateLimit > 0);
    }
}
