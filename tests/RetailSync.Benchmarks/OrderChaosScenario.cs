using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using RetailSync.Testing;

namespace RetailSync.Benchmarks;

/// <summary>
/// <c>order-e2e --topology cluster</c>: the order workflow across separate processes on loopback — a
/// throwaway PostgreSQL, two silos, one gateway (Orleans client serving the webhooks) and the sandbox in
/// a process of its own — with a silo killed with SIGKILL a third of the way through and PostgreSQL
/// restarted at two thirds. Shopify's side is played faithfully: each delivery is repeated until a 200,
/// and some are delivered twice. Afterwards every accepted order must be in the sandbox ERP and CRM
/// exactly once: lost and duplicated ids are printed and the run fails if any differ.
/// </summary>
public static class OrderChaosScenario
{
    private const string ApiKey = "bench-api-key-not-for-production";
    private const string Shop = "bench.myshopify.com";
    private const string Secret = "bench-webhook-secret-not-for-production";

    /// <summary>How soon the simulated Shopify sends a delivery again after a non-200 (Shopify's own backoff is longer; this keeps the run short).</summary>
    private static readonly TimeSpan RedeliveryInterval = TimeSpan.FromMilliseconds(500);

    public static async Task<int> RunAsync(string[] args)
    {
        var orders = int.Parse(BenchOptions.Option(args, "orders", "5000"), CultureInfo.InvariantCulture);
        var rate = double.Parse(BenchOptions.Option(args, "rate", "50"), CultureInfo.InvariantCulture);
        var signed = new SignedOrders(Secret);
        var culture = CultureInfo.InvariantCulture;
        void Say(string what) => Console.WriteLine($"  [{DateTime.UtcNow:HH:mm:ss}] {what}");

        await using var cluster = await MultiProcessCluster.StartAsync(Shop, Secret, ApiKey, async vendors =>
        {
            (await vendors.PostAsJsonAsync("/sandbox/bc/items", new { number = "IPOD2008PINK", displayName = "iPod Nano 8GB pink", unitPrice = 199m, inventory = 10_000_000m })).EnsureSuccessStatusCode();
            (await vendors.PostAsJsonAsync("/sandbox/shopify/limits", new { maximumAvailable = 20_000, restoreRate = 4_000 })).EnsureSuccessStatusCode();
            (await vendors.PostAsJsonAsync("/sandbox/shopify/orders/range", new { firstId = SignedOrders.Base, count = orders })).EnsureSuccessStatusCode();
        },
            "--RetailSync:Connectors:Salesforce:RequestsPerSecond=1000", "--RetailSync:Connectors:BusinessCentral:RequestsPerSecond=1000",
            "--RetailSync:Outbound:RetryBaseDelay=00:00:00.200", "--RetailSync:Outbound:MaxDelay=00:00:02", "--RetailSync:Outbound:MaxAttempts=1000",
            "--RetailSync:Outbound:SweepPeriod=00:00:03", "--RetailSync:Outbound:SweepAge=00:00:05");
        var (postgres, b, gateway, vendors) = (cluster.Postgres, cluster.B, cluster.Gateway, cluster.Vendors);
        Say(cluster.Describe());

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = new Uri(gateway.HttpUrl), Timeout = TimeSpan.FromSeconds(15) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        var retried = 0;
        var duplicates = 0;

        // Shopify's side: a delivery is sent again (same event id) until it is answered 200.
        async Task DeliverAsync(int n)
        {
            var deadline = DateTime.UtcNow.AddMinutes(5);
            while (true)
            {
                try
                {
                    using var response = await http.SendAsync(signed.Create(Shop, n));
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        return;
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"order {n} was never accepted");
                }

                Interlocked.Increment(ref retried);
                await Task.Delay(RedeliveryInterval);
            }
        }

        var clock = Stopwatch.StartNew();
        var killed = false;
        var restarted = false;
        var sending = new List<Task>();
        using (var gate = new SemaphoreSlim(128))
        {
            for (var n = 0; n < orders; n++)
            {
                var due = TimeSpan.FromSeconds(n / rate);
                if (due > clock.Elapsed)
                {
                    await Task.Delay(due - clock.Elapsed);
                }

                if (!killed && n >= orders / 3)
                {
                    killed = true;
                    b.Kill();
                    Say($"silo B killed with SIGKILL after {n} orders");
                }

                if (!restarted && n >= 2 * orders / 3)
                {
                    restarted = true;
                    var pause = Task.Run(async () =>
                    {
                        await postgres.StopServerAsync();
                        Say("PostgreSQL stopped");
                        await Task.Delay(TimeSpan.FromSeconds(5));
                        await postgres.StartServerAsync();
                        Say("PostgreSQL started again");
                    });
                    sending.Add(pause);
                }

                await gate.WaitAsync();
                var id = n;
                sending.Add(Task.Run(async () =>
                {
                    try
                    {
                        await DeliverAsync(id);
                        if (id % 20 == 0)
                        {
                            // Shopify delivers a few events twice.
                            Interlocked.Increment(ref duplicates);
                            await DeliverAsync(id);
                        }
                    }
                    finally
                    {
                        gate.Release();
                    }
                }));
            }

            await Task.WhenAll(sending);
        }

        var sent = clock.Elapsed.TotalSeconds;
        Say($"{orders} orders accepted in {sent:F1} s ({retried} deliveries repeated after a non-200, {duplicates} delivered twice)");

        // Reconcile against the vendors' own records: every order once in the ERP and once in the CRM.
        var expected = Enumerable.Range(0, orders).Select(n => (SignedOrders.Base + n).ToString(culture)).ToHashSet();
        List<string> erp = [], crm = [];
        var settle = Stopwatch.StartNew();
        while (settle.Elapsed < TimeSpan.FromMinutes(5))
        {
            var state = await vendors.GetFromJsonAsync<JsonElement>("/sandbox/state");
            erp = [.. state.GetProperty("bc").GetProperty("salesOrders").EnumerateArray().Select(o => o.GetProperty("externalDocumentNumber").GetString()!)];
            crm = [.. state.GetProperty("salesforce").GetProperty("records").GetProperty("Order").EnumerateArray()
                .Where(o => o.TryGetProperty("RetailSync_Status__c", out var s) && s.GetString() == "Accepted")
                .Select(o => o.GetProperty("Shopify_Order_Id__c").GetString()!)];
            if (expected.IsSubsetOf(erp) && expected.IsSubsetOf(crm))
            {
                break;
            }

            await Task.Delay(TimeSpan.FromSeconds(3));
        }

        var settled = clock.Elapsed.TotalSeconds;
        var lostErp = expected.Except(erp).ToList();
        var lostCrm = expected.Except(crm).ToList();
        var dupErp = erp.GroupBy(i => i).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        var dupCrm = crm.GroupBy(i => i).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        await Report.WriteAsync("order-e2e-cluster", [],
        [
            ("topology", "PostgreSQL 15 + 2 silo processes + 1 gateway process + sandbox process, loopback"),
            ("orders / rate", $"{orders} / {rate.ToString(culture)} per s"),
            ("faults", $"silo B SIGKILL at {orders / 3}, PostgreSQL stopped 5 s at {2 * orders / 3}, every 20th delivery twice"),
            ("deliveries repeated after a non-200 answer", retried.ToString(culture)),
            ("accepted after (s) / all in ERP and CRM after (s)", string.Create(culture, $"{sent:F1} / {settled:F1}")),
            ("ERP: sales orders / lost / duplicated", $"{erp.Count} / {lostErp.Count} / {dupErp.Count}"),
            ("CRM: orders accepted / lost / duplicated", $"{crm.Count} / {lostCrm.Count} / {dupCrm.Count}"),
            ("lost ids (first 20)", string.Join(",", lostErp.Concat(lostCrm).Distinct().Take(20))),
            ("duplicated ids (first 20)", string.Join(",", dupErp.Concat(dupCrm).Distinct().Take(20))),
        ], new { orders, rate, topology = "cluster" });
        return lostErp.Count + lostCrm.Count + dupErp.Count + dupCrm.Count == 0 ? 0 : 1;
    }
}
