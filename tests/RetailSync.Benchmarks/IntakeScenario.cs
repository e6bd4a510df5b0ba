using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using RetailSync.Platform;

namespace RetailSync.Benchmarks;

/// <summary>
/// Durable webhook intake, embedded and in cluster mode on PostgreSQL, each next to a baseline
/// measured in the same run on the same processes.
/// </summary>
public static class IntakeScenario
{
    private const string Shop = "bench.myshopify.com";
    private const string Secret = "bench-webhook-secret-not-for-production";

    public static async Task RunAsync(BenchOptions options)
    {
        var orders = new SignedOrders(Secret);
        var rows = new List<LoadResult>();
        var ratios = new List<(string, string)>();
        string[] common =
        [
            "--Logging:LogLevel:Default=Warning",
            $"--RetailSync:Dashboard:Enabled={options.Dashboard}",
            $"--RetailSync:Shops:{Shop}:Tenant=bench",
            $"--RetailSync:Shops:{Shop}:WebhookSecret={Secret}",
            "--RetailSync:ApiKeys:0=bench-api-key-not-for-production",
        ];

        if (options.Topologies.Contains("embedded"))
        {
            var gatewayPort = PostgresServer.FreePort();
            await using var silo = SiloProcess.Start([.. common, $"--RetailSync:Embedded:SiloPort={PostgresServer.FreePort()}", $"--RetailSync:Embedded:GatewayPort={gatewayPort}"]);
            await silo.WaitReadyAsync(TimeSpan.FromSeconds(60));
            using var client = Client(c => c.UseLocalhostClustering(gatewayPort));
            await client.StartAsync();
            var http = Http(silo.HttpUrl, options.Concurrency);

            var ignored = await Drive("embedded: HTTP + HMAC, no grain (ignored topic)", http, options, n => orders.Create(Shop, n, "carts/create"));
            var grainCall = await GrainWrites("embedded: one grain call + memory write (client)", client, options);
            // Kestrel and one grain call with its state write: the readiness probe is exactly that.
            var kestrel = await Drive("embedded: Kestrel + one grain call + memory write (GET /health/ready)", http, options, _ => new HttpRequestMessage(HttpMethod.Get, "/health/ready"));
            var intake = await Drive("embedded: signed orders/create accepted", http, options, n => orders.Create(Shop, n));
            rows.AddRange([ignored, grainCall, kestrel, intake]);
            ratios.Add(("embedded intake / HTTP path without grain", Ratio(intake, ignored)));
            ratios.Add(("embedded intake / Kestrel + one grain call", Ratio(intake, kestrel) + " (target >= 0.50)"));
            ratios.Add(("embedded intake / grain calls from an Orleans client", Ratio(intake, grainCall)));
        }

        if (options.Topologies.Contains("cluster"))
        {
            // Intake alone: the sandbox ERP is down, so new orders wait in their dispatchers (memory)
            // and PostgreSQL serves intake only. Then with the ERP taking orders at its own limit while
            // intake runs: the same PostgreSQL also stores every ERP answer and what follows from it.
            await RunClusterAsync("ERP down, orders queue", async sandbox =>
                (await sandbox.PostAsJsonAsync("/sandbox/faults", new { system = "bc", outage = true })).EnsureSuccessStatusCode());
            await RunClusterAsync("ERP draining at its limit", async sandbox =>
                (await sandbox.PostAsJsonAsync("/sandbox/shopify/orders/range", new { firstId = SignedOrders.Base, count = 300_000 })).EnsureSuccessStatusCode());
            await RunSeparateProcessesAsync();
        }
        else if (options.Topologies.Contains("processes"))
        {
            // The production shape alone (--topology processes).
            await RunSeparateProcessesAsync();
        }

        // The production shape: two silos, a gateway process serving the webhooks and the sandbox, each a process (ERP down).
        async Task RunSeparateProcessesAsync()
        {
            const string downstream = "separate processes, ERP down";
            await using var cluster = await MultiProcessCluster.StartAsync(Shop, Secret, "bench-api-key-not-for-production", async vendors =>
            {
                (await vendors.PostAsJsonAsync("/sandbox/bc/items", new { number = "IPOD2008PINK", displayName = "iPod Nano 8GB pink", unitPrice = 199m, inventory = 10_000_000m })).EnsureSuccessStatusCode();
                (await vendors.PostAsJsonAsync("/sandbox/faults", new { system = "bc", outage = true })).EnsureSuccessStatusCode();
            });
            Console.WriteLine("  " + cluster.Describe());
            using var client = Client(c =>
            {
                c.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (cluster.ClusterId, "retailsync"));
                c.UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = ("Npgsql", cluster.ConnectionString));
            });
            await client.StartAsync();
            var http = Http(cluster.Gateway.HttpUrl, options.Concurrency);
            var writes = await GrainWrites($"cluster ({downstream}): grain writes to PostgreSQL (client)", client, options);
            var intake = await Drive($"cluster ({downstream}): signed orders/create accepted (durable)", http, options, n => orders.Create(Shop, n));
            rows.AddRange([writes, intake]);
            ratios.Add(($"cluster intake / PostgreSQL grain-write rate ({downstream})", Ratio(intake, writes) + " (target >= 0.80, p99 < 100 ms)"));
            ratios.Add(($"webhook inbox after intake ({downstream})", await http.DrainAsync("bench-api-key-not-for-production")));
        }

        async Task RunClusterAsync(string downstream, Func<HttpClient, Task> prepare)
        {
            await using var postgres = await PostgresServer.StartAsync(durable: true);
            var db = await postgres.CreateDatabaseAsync();
            var clusterId = "bench-" + Guid.NewGuid().ToString("N")[..6];
            await using var silo = SiloProcess.Start([
                .. common, "--RetailSync:Mode=Cluster", "--RetailSync:Silo:ServeApi=true", "--RetailSync:Sandbox:Enabled=true", "--RetailSync:Sandbox:AllowInCluster=true",
                $"--RetailSync:Cluster:ConnectionString={db}", $"--RetailSync:Cluster:ClusterId={clusterId}",
                $"--RetailSync:Cluster:SiloPort={PostgresServer.FreePort()}", $"--RetailSync:Cluster:GatewayPort={PostgresServer.FreePort()}"]);
            await silo.WaitReadyAsync(TimeSpan.FromSeconds(60));
            using var client = Client(c =>
            {
                c.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, "retailsync"));
                c.UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = ("Npgsql", db));
            });
            await client.StartAsync();
            var http = Http(silo.HttpUrl, options.Concurrency);
            (await http.PostAsJsonAsync("/sandbox/bc/items", new { number = "IPOD2008PINK", displayName = "iPod Nano 8GB pink", unitPrice = 199m, inventory = 10_000_000m })).EnsureSuccessStatusCode();
            await prepare(http);

            var writes = await GrainWrites($"cluster ({downstream}): grain writes to PostgreSQL (client)", client, options);
            var intake = await Drive($"cluster ({downstream}): signed orders/create accepted (durable)", http, options, n => orders.Create(Shop, n));
            var drained = await http.DrainAsync("bench-api-key-not-for-production");
            var kpis = await http.BacklogAsync("bench-api-key-not-for-production");
            rows.AddRange([writes, intake]);
            ratios.Add(($"cluster intake / PostgreSQL grain-write rate ({downstream})", Ratio(intake, writes) + " (target >= 0.80, p99 < 100 ms)"));
            ratios.Add(($"webhook inbox after intake ({downstream})", drained));
            ratios.Add(($"outbound backlog at the end ({downstream})", kpis));
        }

        await Report.WriteAsync("intake", rows, ratios, new { options.Concurrency, options.Seconds, options.WarmupSeconds, options.Dashboard, bodyBytes = orders.BodyBytes });
    }

    private static string Ratio(LoadResult a, LoadResult b) => (a.PerSecond / b.PerSecond).ToString("F2", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// What intake left in the webhook inbox, and how fast the cluster forwarded it once intake stopped: the
    /// processing rate behind the intake figure (deliveries accepted during a flood wait there, durably).
    /// </summary>
    private static async Task<string> DrainAsync(this HttpClient http, string apiKey)
    {
        async Task<long> PendingAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/kpis");
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
            using var response = await http.SendAsync(request);
            var kpis = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync());
            return kpis?["webhookInbox"]?["pending"]?.GetValue<long>() ?? throw new InvalidOperationException("no webhookInbox in /api/v1/kpis");
        }

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var left = await PendingAsync();
        var pending = left;
        while (pending > 0 && watch.Elapsed < TimeSpan.FromMinutes(3))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            pending = await PendingAsync();
        }

        var seconds = watch.Elapsed.TotalSeconds;
        return pending == 0
            ? $"{left} deliveries waiting when intake stopped; forwarded in {seconds:F1} s ({(left / Math.Max(seconds, 0.001)):F0}/s)"
            : $"{left} deliveries waiting when intake stopped; {pending} still waiting after {seconds:F0} s";
    }

    private static async Task<string> BacklogAsync(this HttpClient http, string apiKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/kpis");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        // Only the per-system backlog: queued commands, vendor calls made and batch sizes.
        return System.Text.Json.Nodes.JsonNode.Parse(body)?["backlog"]?.ToJsonString() ?? body;
    }

    private static HttpClient Http(string url, int concurrency) =>
        new(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            BaseAddress = new Uri(url),
            Timeout = TimeSpan.FromSeconds(30),
        };

    private static IHost Client(Action<IClientBuilder> configure) =>
        Host.CreateDefaultBuilder()
            .ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning))
            .UseOrleansClient(configure)
            .Build();

    private static Task<LoadResult> Drive(string name, HttpClient http, BenchOptions options, Func<long, HttpRequestMessage> request) =>
        LoadGenerator.RunAsync(name, options.Concurrency, options.Warmup, options.Duration, async (_, n) =>
        {
            using var message = request(n);
            using var response = await http.SendAsync(message);
            return response.IsSuccessStatusCode;
        });

    private static Task<LoadResult> GrainWrites(string name, IHost client, BenchOptions options)
    {
        var grains = client.Services.GetRequiredService<IClusterClient>();
        var run = Guid.NewGuid().ToString("N")[..6];
        return LoadGenerator.RunAsync(name, options.Concurrency, options.Warmup, options.Duration, async (_, n) =>
        {
            await grains.GetGrain<IHealthProbeGrain>($"bench-{run}-{n}").TouchAsync();
            return true;
        });
    }
}
