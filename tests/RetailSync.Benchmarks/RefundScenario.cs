using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RetailSync.Gateway.Webhooks;
using RetailSync.Testing;

namespace RetailSync.Benchmarks;

/// <summary>
/// Refund cycle time in the embedded default (or, with <c>--topology cluster</c>, across separate processes): accepted orders get a refunds/create each at a steady rate
/// while the sandbox takes <c>--latency</c> ms per call; each refund's cycle is read from its own view
/// (webhook received → the saga's last confirmation). The vendors' own time on a refund's path (CRM case,
/// ERP credit memo lookup + create, CRM case closed: four calls one after another) is measured by the
/// sandbox and reported next to it.
/// </summary>
public static class RefundScenario
{
    private const string ApiKey = "bench-api-key-not-for-production";
    private const string Shop = "bench.myshopify.com";
    private const string Secret = "bench-webhook-secret-not-for-production";

    public static async Task<int> RunAsync(BenchOptions options, string[] args)
    {
        var refunds = int.Parse(BenchOptions.Option(args, "refunds", "500"), CultureInfo.InvariantCulture);
        var rate = double.Parse(BenchOptions.Option(args, "rate", "25"), CultureInfo.InvariantCulture);
        var latency = int.Parse(BenchOptions.Option(args, "latency", "20"), CultureInfo.InvariantCulture);
        var signed = new SignedOrders(Secret);
        string[] limits = ["--RetailSync:Connectors:BusinessCentral:RequestsPerSecond=1000", "--RetailSync:Connectors:Salesforce:RequestsPerSecond=1000"];
        async Task PrepareVendors(HttpClient vendors)
        {
            (await vendors.PostAsJsonAsync("/sandbox/bc/items", new { number = "IPOD2008PINK", displayName = "iPod Nano 8GB pink", unitPrice = 199m, inventory = 10_000_000m })).EnsureSuccessStatusCode();
            (await vendors.PostAsJsonAsync("/sandbox/shopify/limits", new { maximumAvailable = 20_000, restoreRate = 4_000 })).EnsureSuccessStatusCode();
            (await vendors.PostAsJsonAsync("/sandbox/shopify/orders/range", new { firstId = SignedOrders.Base, count = refunds })).EnsureSuccessStatusCode();
        }

        // Embedded: one process. Cluster: PostgreSQL, the sandbox, two silos and a gateway, each a process.
        var topology = options.Topologies.SequenceEqual(["cluster"]) ? "cluster" : "embedded";
        await using var cluster = topology == "cluster" ? await MultiProcessCluster.StartAsync(Shop, Secret, ApiKey, PrepareVendors, limits) : null;
        await using var silo = cluster is null
            ? SiloProcess.Start(
            [
                "--Logging:LogLevel:Default=Warning", "--RetailSync:Dashboard:Enabled=false",
                $"--RetailSync:Embedded:SiloPort={PostgresServer.FreePort()}", $"--RetailSync:Embedded:GatewayPort={PostgresServer.FreePort()}",
                $"--RetailSync:Shops:{Shop}:Tenant=bench", $"--RetailSync:Shops:{Shop}:WebhookSecret={Secret}", $"--RetailSync:ApiKeys:0={ApiKey}", .. limits,
            ])
            : null;
        if (silo is not null)
        {
            await silo.WaitReadyAsync(TimeSpan.FromSeconds(60));
        }

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = new Uri((cluster?.Gateway ?? silo!).HttpUrl), Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        var vendors = cluster?.Vendors ?? http;
        if (cluster is null)
        {
            await PrepareVendors(vendors);
        }
        else
        {
            Console.WriteLine("  " + cluster.Describe());
        }

        // The orders first, with the sandbox answering at once, until all are accepted.
        await Task.WhenAll(Enumerable.Range(0, refunds).Chunk(50).Select(async chunk =>
        {
            foreach (var n in chunk)
            {
                (await http.SendAsync(signed.Create(Shop, n))).EnsureSuccessStatusCode();
            }
        }));
        await Eventually.ValueAsync(async () =>
            (await http.GetFromJsonAsync<JsonElement>("/api/v1/kpis")).GetProperty("ordersByStatus").TryGetProperty("Accepted", out var accepted)
                && accepted.GetInt64() >= refunds ? true : (bool?)null,
            DateTime.UtcNow.AddMinutes(3), TimeSpan.FromMilliseconds(500));

        foreach (var system in new[] { "shopify", "salesforce", "bc" })
        {
            (await vendors.PostAsJsonAsync("/sandbox/faults", new { system, latencyMs = latency })).EnsureSuccessStatusCode();
        }

        var before = await vendors.GetFromJsonAsync<JsonElement>("/sandbox/state/traffic");
        var template = JsonNode.Parse(File.ReadAllBytes(Path.Combine(RepoPaths.Fixtures, "refunds_create__hookdeck-2024-10.json")))!.AsObject();
        var sent = await PacedSender.SendAsync(http, refunds, rate, n =>
        {
            var refund = (JsonObject)template.DeepClone();
            refund["id"] = 500_000_000_000 + n;
            refund["order_id"] = SignedOrders.Base + n;
            refund["created_at"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture);
            var body = Encoding.UTF8.GetBytes(refund.ToJsonString());
            var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/shopify") { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.Add("X-Shopify-Topic", "refunds/create");
            request.Headers.Add("X-Shopify-Shop-Domain", Shop);
            request.Headers.Add("X-Shopify-Hmac-Sha256", ShopifyHmac.Sign(body, Secret));
            request.Headers.Add("X-Shopify-Event-Id", $"refund-{n}");
            return request;
        });
        var cycles = new List<double>();
        var unfinished = 0;
        var deadline = DateTime.UtcNow.AddSeconds(120);
        for (var n = 0; n < refunds; n++)
        {
            var id = 500_000_000_000 + n;
            var cycle = await Eventually.ValueAsync(async () =>
            {
                var view = await http.GetFromJsonAsync<JsonElement>($"/api/v1/refunds/{Shop}/{id}");
                return view.TryGetProperty("completedAt", out var done) && done.ValueKind == JsonValueKind.String
                    ? (done.GetDateTimeOffset() - view.GetProperty("receivedAt").GetDateTimeOffset()).TotalMilliseconds
                    : (double?)null;
            }, deadline);

            if (cycle is { } c)
            {
                cycles.Add(c);
            }
            else
            {
                unfinished++;
            }
        }

        var after = await vendors.GetFromJsonAsync<JsonElement>("/sandbox/state/traffic");
        double Mean(string system) =>
            (after.GetProperty(system).GetProperty("servedMs").GetDouble() - before.GetProperty(system).GetProperty("servedMs").GetDouble())
            / Math.Max(1, after.GetProperty(system).GetProperty("served").GetDouble() - before.GetProperty(system).GetProperty("served").GetDouble());
        var vendor = 2 * Mean("salesforce") + 2 * Mean("bc");
        cycles.Sort();
        double P(double p) => cycles.Count == 0 ? double.NaN : cycles[Math.Min(cycles.Count - 1, (int)(cycles.Count * p))];
        var kpis = await http.GetFromJsonAsync<JsonElement>("/api/v1/kpis");
        var culture = CultureInfo.InvariantCulture;
        await Report.WriteAsync("refund", [new LoadResult($"refund cycle, sandbox {latency} ms per call", 1, cycles.Count, unfinished, sent.Seconds, refunds / sent.Seconds, P(0.5), P(0.99))],
        [
            ("refunds / rate", $"{refunds} / {rate.ToString(culture)} per s"),
            ("cycle p50 / p99 ms", string.Create(culture, $"{P(0.5):F1} / {P(0.99):F1}")),
            ("vendors' own time on the path (4 calls, measured by the sandbox)", string.Create(culture, $"{vendor:F1} ms")),
            ("cycle minus the vendors' time: p50 / p99 ms", string.Create(culture, $"{P(0.5) - vendor:F1} / {P(0.99) - vendor:F1}")),
            ("KPI refund cycle p50 / p99 ms, completed", $"{kpis.GetProperty("refundCycleP50Ms")} / {kpis.GetProperty("refundCycleP99Ms")}, {kpis.GetProperty("refundsCompleted")}"),
            ("refunds refused by the webhook / not completed within the deadline", $"{sent.Refused} / {unfinished}"),
            ("topology", cluster is null ? "embedded (one process)" : "PostgreSQL 15 + 2 silo processes + 1 gateway process + sandbox process, loopback"),
        ], new { refunds, rate, latency, topology });
        return unfinished == 0 && sent.Refused == 0 ? 0 : 1;
    }
}
