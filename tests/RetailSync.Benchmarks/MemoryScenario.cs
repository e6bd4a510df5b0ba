using System.Collections.Immutable;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RetailSync.Intake;
using RetailSync.Inventory;
using RetailSync.Model;
using RetailSync.Orders;
using RetailSync.Shopify;

namespace RetailSync.Benchmarks;

/// <summary>
/// Memory per active grain in the embedded default: the managed heap of the silo process (after a full,
/// compacting collection, read through <c>GET /api/v1/ops/memory</c>) before and after activating
/// <c>--grains</c> SKU grains (each with an ERP figure) and then as many order grains (each a 5-line order).
/// The sandbox vendors are down meanwhile, so each order's planned commands wait in memory: the order figure
/// includes its share of the dispatchers' queues and of its buyer's golden record, i.e. what an accepted
/// order costs while it waits for the ERP. The embedded default keeps state in memory storage too, so each
/// grain's state is counted twice (the activation and the stored copy); <c>--topology cluster</c> measures
/// a silo in cluster mode on a throwaway PostgreSQL, where the stored copy is not in the process.
/// </summary>
public static class MemoryScenario
{
    private const string Shop = "bench.myshopify.com";
    private const string Tenant = "bench";
    private const string ApiKey = "bench-api-key-not-for-production";

    public static async Task<int> RunAsync(string[] args, BenchOptions options)
    {
        var count = int.Parse(BenchOptions.Option(args, "grains", "100000"), CultureInfo.InvariantCulture);
        var cluster = options.Topologies.SequenceEqual(["cluster"]);
        string[] common =
        [
            "--Logging:LogLevel:Default=Warning", "--RetailSync:Dashboard:Enabled=false",
            $"--RetailSync:Shops:{Shop}:Tenant={Tenant}", $"--RetailSync:Shops:{Shop}:WebhookSecret=bench-webhook-secret-not-for-production",
            $"--RetailSync:ApiKeys:0={ApiKey}",
        ];
        await using var postgres = cluster ? await PostgresServer.StartAsync(durable: false) : null;
        var db = postgres is null ? null : await postgres.CreateDatabaseAsync();
        var clusterId = "mem-" + Guid.NewGuid().ToString("N")[..6];
        var gatewayPort = PostgresServer.FreePort();
        await using var silo = cluster
            ? SiloProcess.Start([.. common, "--RetailSync:Mode=Cluster", "--RetailSync:Silo:ServeApi=true", "--RetailSync:Sandbox:Enabled=true", "--RetailSync:Sandbox:AllowInCluster=true",
                $"--RetailSync:Cluster:ConnectionString={db}", $"--RetailSync:Cluster:ClusterId={clusterId}",
                $"--RetailSync:Cluster:SiloPort={PostgresServer.FreePort()}", $"--RetailSync:Cluster:GatewayPort={gatewayPort}"])
            : SiloProcess.Start([.. common, $"--RetailSync:Embedded:SiloPort={PostgresServer.FreePort()}", $"--RetailSync:Embedded:GatewayPort={gatewayPort}"]);
        await silo.WaitReadyAsync(TimeSpan.FromSeconds(60));
        using var http = new HttpClient { BaseAddress = new Uri(silo.HttpUrl), Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        foreach (var system in new[] { "shopify", "salesforce", "bc" })
        {
            (await http.PostAsJsonAsync("/sandbox/faults", new { system, outage = true })).EnsureSuccessStatusCode();
        }

        using var client = Host.CreateDefaultBuilder().ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning))
            .UseOrleansClient(c =>
            {
                if (cluster)
                {
                    c.Configure<Orleans.Configuration.ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, "retailsync"));
                    c.UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = ("Npgsql", db));
                }
                else
                {
                    c.UseLocalhostClustering(gatewayPort);
                }
            }).Build();
        await client.StartAsync();
        var grains = client.Services.GetRequiredService<IClusterClient>();

        var baseline = await HeapAsync(http);
        var now = DateTimeOffset.UtcNow;
        await ForEachAsync(count, options.Concurrency, i => grains.GetGrain<ISkuGrain>(EntityKeys.ForShop(Tenant, $"MEM-{i:D7}"))
            .ErpStockChangedAsync(ErpDelivery($"sku-{i}", now), new ErpStockChange($"MEM-{i:D7}", "MAIN", i % 500, 1, now)));
        var afterSkus = await HeapAsync(http);

        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(RepoPaths.Fixtures, "orders_create__hookdeck-2024-10.json")));
        var template = ShopifyMapper.Order(doc.RootElement);
        var line = template.Lines[0];
        var lines = Enumerable.Range(1, 5).Select(n => line with { LineId = $"{line.LineId}{n}", Sku = $"UNCOUNTED-{n}", Quantity = n }).ToImmutableArray();
        await ForEachAsync(count, options.Concurrency, i => grains.GetGrain<IOrderGrain>(EntityKeys.ForShop(Shop, $"{9_000_000_000L + i}"))
            .ReceiveOrderAsync(Delivery($"order-{i}", now), template with { OrderId = $"{9_000_000_000L + i}", Lines = lines, CancelledAt = null, CancelReason = null }));
        var afterOrders = await HeapAsync(http);
        await client.StopAsync();

        var f = CultureInfo.InvariantCulture;
        var perSku = (afterSkus.Heap - baseline.Heap) / (double)count;
        var perOrder = (afterOrders.Heap - afterSkus.Heap) / (double)count;
        var ratios = new List<(string, string)>
        {
            ("managed heap: start / + SKUs / + orders", string.Create(f, $"{baseline.Heap / 1048576.0:F0} / {afterSkus.Heap / 1048576.0:F0} / {afterOrders.Heap / 1048576.0:F0} MiB (working set {afterOrders.WorkingSet / 1048576.0:F0} MiB)")),
            ($"per SKU grain ({count:N0} active)", string.Create(f, $"{perSku / 1024:F1} KB (target <= 4 KB)")),
            ($"per order grain, 5 lines ({count:N0} active)", string.Create(f, $"{perOrder / 1024:F1} KB (target <= 16 KB; includes its waiting commands)")),
        };
        await Report.WriteAsync("memory", [], ratios, new { count, options.Concurrency, topology = cluster ? "cluster" : "embedded" });
        return 0;
    }

    private static ShopifyDelivery Delivery(string id, DateTimeOffset at) => new(Shop, Tenant, "orders/create", id, null, at, "2026-01", false, at);

    /// <summary>As the gateway hands an ERP stock callback to the SKU grain (topic and event id of the connector's event).</summary>
    private static ShopifyDelivery ErpDelivery(string id, DateTimeOffset at) => new(Tenant, Tenant, "erp:bc/stock.changed", $"erp:bc:{id}", null, at, null, false, at);

    private static async Task<(long Heap, long WorkingSet)> HeapAsync(HttpClient http)
    {
        var answer = await http.GetFromJsonAsync<JsonElement>("/api/v1/ops/memory");
        return (answer.GetProperty("heapBytes").GetInt64(), answer.GetProperty("workingSetBytes").GetInt64());
    }

    private static Task ForEachAsync(int count, int concurrency, Func<int, Task> call) =>
        Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (i, _) => await call(i));
}
