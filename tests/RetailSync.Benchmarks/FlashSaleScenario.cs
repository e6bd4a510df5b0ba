using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace RetailSync.Benchmarks;

/// <summary>
/// A flash sale against the embedded default: orders/create webhooks at a steady rate while the
/// sandbox ERP admits at most <c>--erp-limit</c> requests per second. Orders queue in the ERP
/// dispatcher and go out in $batch calls. Afterwards the sandbox ERP's sales orders are compared with
/// the orders sent: lost and duplicated ids are printed, and the run fails if any differ. The
/// baseline is the ERP's own limit: requests per second are reported as a share of it.
/// </summary>
public static class FlashSaleScenario
{
    private const string ApiKey = "bench-api-key-not-for-production";
    private const string Shop = "bench.myshopify.com";
    private const string Secret = "bench-webhook-secret-not-for-production";

    private static string[] Embedded(params string[] extra) =>
    [
        "--Logging:LogLevel:Default=Warning", "--RetailSync:Dashboard:Enabled=false",
        $"--RetailSync:Embedded:SiloPort={PostgresServer.FreePort()}", $"--RetailSync:Embedded:GatewayPort={PostgresServer.FreePort()}", .. extra,
    ];

    public static async Task<int> RunAsync(BenchOptions options, string[] args)
    {
        var orders = int.Parse(BenchOptions.Option(args, "orders", "20000"), CultureInfo.InvariantCulture);
        var seconds = int.Parse(BenchOptions.Option(args, "over", "60"), CultureInfo.InvariantCulture);
        var erpLimit = int.Parse(BenchOptions.Option(args, "erp-limit", "50"), CultureInfo.InvariantCulture);
        var batch = int.Parse(BenchOptions.Option(args, "batch", "50"), CultureInfo.InvariantCulture);
        var concurrency = int.Parse(BenchOptions.Option(args, "concurrency", "8"), CultureInfo.InvariantCulture);
        var headroom = double.Parse(BenchOptions.Option(args, "headroom", "0.97"), CultureInfo.InvariantCulture);
        // Orders before the sale, from buyers of their own, at the sale's rate: a shop's RetailSync has been
        // running when a sale starts, so the sale does not meet code not yet compiled to its final tier.
        var warmup = int.Parse(BenchOptions.Option(args, "warmup", "1500"), CultureInfo.InvariantCulture);
        // Where the simulated vendors run in the embedded topology: in a process of their own (as a real ERP
        // is another system, whose rate limiter does not wait for our thread pool) or inside the silo.
        var vendorsHost = BenchOptions.Option(args, "vendors", "in-process");
        var signed = new SignedOrders(Secret);

        string[] settings =
        [
            $"--RetailSync:Connectors:BusinessCentral:RequestsPerSecond={erpLimit}", $"--RetailSync:Connectors:RateLimitHeadroom={headroom.ToString(CultureInfo.InvariantCulture)}",
            $"--RetailSync:Outbound:BatchSize={batch}", $"--RetailSync:Outbound:Concurrency={concurrency}",
        ];
        async Task PrepareVendors(HttpClient vendors)
        {
            (await vendors.PostAsJsonAsync("/sandbox/bc/items", new { number = "IPOD2008PINK", displayName = "iPod Nano 8GB pink", unitPrice = 199m, inventory = 10_000_000m })).EnsureSuccessStatusCode();
            (await vendors.PostAsJsonAsync("/sandbox/faults", new { system = "bc", rateLimitPerSecond = erpLimit })).EnsureSuccessStatusCode();
            (await vendors.PostAsJsonAsync("/sandbox/shopify/orders/range", new { firstId = SignedOrders.Base, count = warmup + orders })).EnsureSuccessStatusCode();
        }

        // Embedded: one process holds everything. Cluster: PostgreSQL, the sandbox, two silos and a gateway, each a process.
        var topology = options.Topologies.SequenceEqual(["cluster"]) ? "cluster" : "embedded";
        await using var cluster = topology == "cluster" ? await MultiProcessCluster.StartAsync(Shop, Secret, ApiKey, PrepareVendors, settings) : null;
        await using var sandbox = cluster is null && vendorsHost == "process" ? SiloProcess.Start(Embedded()) : null;
        HttpClient? sandboxHttp = null;
        if (sandbox is not null)
        {
            await sandbox.WaitReadyAsync(TimeSpan.FromSeconds(60));
            sandboxHttp = new HttpClient { BaseAddress = new Uri(sandbox.HttpUrl), Timeout = TimeSpan.FromSeconds(60) };
            await PrepareVendors(sandboxHttp);
        }

        await using var silo = cluster is null
            ? SiloProcess.Start(Embedded(
            [
                $"--RetailSync:Shops:{Shop}:Tenant=bench", $"--RetailSync:Shops:{Shop}:WebhookSecret={Secret}", $"--RetailSync:ApiKeys:0={ApiKey}", .. settings,
                .. sandbox is null ? [] : SandboxedCluster.VendorArgs(sandbox.HttpUrl),
            ]))
            : null;
        if (silo is not null)
        {
            await silo.WaitReadyAsync(TimeSpan.FromSeconds(60));
        }

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = new Uri((cluster?.Gateway ?? silo!).HttpUrl), Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        var vendors = cluster?.Vendors ?? sandboxHttp ?? http;
        if (cluster is null && sandbox is null)
        {
            await PrepareVendors(vendors);
        }
        else
        {
            Console.WriteLine("  " + (cluster?.Describe() ?? $"RetailSync {silo!.HttpUrl}, sandbox vendors {sandbox!.HttpUrl}"));
        }

        // The sale: one order every 1/rate seconds, whatever the answers' latency.
        var rate = (double)orders / seconds;
        var warmedUp = 0;
        if (warmup > 0)
        {
            var warmupOrders = new SignedOrders(Secret, customers: Math.Min(warmup, 2_000), firstBuyer: 1_000_000);
            warmedUp = (await PacedSender.SendAsync(http, warmup, rate, n => warmupOrders.Create(Shop, n))).Accepted;
            var warm = Stopwatch.StartNew();
            while (warm.Elapsed < TimeSpan.FromSeconds(120))
            {
                var kpis = await http.GetFromJsonAsync<JsonElement>("/api/v1/kpis");
                if (Answered(kpis) >= warmedUp && kpis.GetProperty("backlog").GetProperty("erp").GetProperty("pending").GetInt32() == 0)
                {
                    break;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }

            // A quiet second, so the sale starts with the ERP's window empty.
            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        var clock = Stopwatch.StartNew();
        var sending = PacedSender.SendAsync(http, orders, rate, n => signed.Create(Shop, warmup + n));

        // Once a second: the ERP's admitted requests (the sandbox counts them) and our backlog.
        var samples = new List<(double At, DateTimeOffset When, int Backlog)>();
        var deadline = TimeSpan.FromSeconds(seconds * 10 + 120);
        while (clock.Elapsed < deadline)
        {
            var kpis = await http.GetFromJsonAsync<JsonElement>("/api/v1/kpis");
            var erp = kpis.GetProperty("backlog").GetProperty("erp");
            // Backlog: submissions waiting in the dispatcher's queue, not those in a call to the ERP right now.
            samples.Add((clock.Elapsed.TotalSeconds, DateTimeOffset.UtcNow, erp.GetProperty("pending").GetInt32() - erp.GetProperty("running").GetInt32()));
            // Done when every accepted webhook's order has the ERP's answer.
            if (sending.IsCompleted && Answered(kpis) >= warmedUp + sending.Result.Accepted)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        var (accepted, refused, _) = await sending;
        var finalState = await vendors.GetFromJsonAsync<JsonElement>("/sandbox/state");
        var traffic = finalState.GetProperty("traffic").GetProperty("bc");
        var erpIds = finalState.GetProperty("bc").GetProperty("salesOrders").EnumerateArray()
            .Select(o => o.GetProperty("externalDocumentNumber").GetString()!).ToList();
        var expected = Enumerable.Range(0, warmup + orders).Select(n => (SignedOrders.Base + n).ToString(CultureInfo.InvariantCulture)).ToHashSet();
        var lost = expected.Except(erpIds).ToList();
        var duplicated = erpIds.GroupBy(i => i).Where(g => g.Count() > 1).Select(g => g.Key).ToList();

        // The ERP's own count (its admission times, on the same machine's clock) over the spans in which orders
        // were waiting for it: between two samples that both found more than a batch queued.
        var admissions = await vendors.GetFromJsonAsync<DateTimeOffset[]>("/sandbox/state/traffic/bc/admissions") ?? [];
        var spans = samples.Zip(samples.Skip(1)).Where(p => p.First.Backlog > batch && p.Second.Backlog > batch)
            .Select(p => (From: p.First.When, To: p.Second.When)).ToList();
        int Admitted(DateTimeOffset from, DateTimeOffset to) => admissions.Count(a => a >= from && a < to);
        var busy = spans.Select(s => Admitted(s.From, s.To) / (s.To - s.From).TotalSeconds).ToList();
        var busySeconds = spans.Sum(s => (s.To - s.From).TotalSeconds);
        var busyRate = busySeconds > 0 ? spans.Sum(s => Admitted(s.From, s.To)) / busySeconds : 0;
        var done = samples.Count > 0 ? samples[^1].At : clock.Elapsed.TotalSeconds;
        var culture = CultureInfo.InvariantCulture;
        var ratios = new List<(string, string)>
        {
            ("warm-up orders before the sale (accepted)", $"{warmup} ({warmedUp})"),
            ("orders sent / accepted / refused", $"{orders} / {accepted} / {refused}"),
            ("ERP sales orders / lost / duplicated", $"{erpIds.Count} / {lost.Count} / {duplicated.Count}"),
            ("all in the ERP after (s)", done.ToString("F1", culture) + $" (sale lasted {seconds} s)"),
            ("ERP limit (sandbox-enforced) req/s", erpLimit.ToString(culture)),
            ("ERP req/s while backlogged: overall / lowest span", busy.Count == 0 ? "no backlog" : string.Create(culture, $"{busyRate:F1} / {busy.Min():F1} = {busyRate / erpLimit:F3} / {busy.Min() / erpLimit:F2} of the limit ({busySeconds:F1} s)")),
            ("ERP req/s in each backlogged second", string.Join(" ", busy.Select(b => b.ToString("F0", culture)))),
            ("ERP busiest 1 s window (sandbox) / rejected", $"{traffic.GetProperty("maxPerSecond").GetInt32()} / {traffic.GetProperty("rejectedByRateLimit").GetInt64()}"),
            ("ERP requests in all / orders per request", string.Create(culture, $"{traffic.GetProperty("admitted").GetInt64()} / {(double)erpIds.Count / Math.Max(1, traffic.GetProperty("admitted").GetInt64()):F1}")),
        };
        // What crowded the vendor's second before each refusal: how long before it the requests of that second came,
        // and the longest quiet gap among them (a pause in our process shows as a gap followed by a huddle).
        var refusals = await vendors.GetFromJsonAsync<DateTimeOffset[]>("/sandbox/state/traffic/bc/refusals") ?? [];
        foreach (var (refusal, n) in refusals.Take(6).Select((r, n) => (r, n)))
        {
            var before = admissions.Where(a => a > refusal - TimeSpan.FromSeconds(1) && a <= refusal).Select(a => (refusal - a).TotalMilliseconds).ToList();
            var gaps = before.Zip(before.Skip(1)).Select(p => (Gap: p.First - p.Second, At: p.First)).OrderByDescending(g => g.Gap).FirstOrDefault();
            ratios.Add(($"refusal {n + 1}: admitted in the second before", string.Create(culture,
                $"{before.Count}; first {before.FirstOrDefault():F0} ms before, last ten {string.Join(" ", before.TakeLast(10).Select(b => b.ToString("F0", culture)))}; longest gap {gaps.Gap:F0} ms ending {gaps.At - gaps.Gap:F0} ms before")));
        }

        // The longest quiet spells while orders waited: where the rate was lost.
        var quiet = spans.SelectMany(span =>
            {
                // Within one span: the spans need not adjoin (the backlog can run out and come back).
                var within = admissions.Where(a => a >= span.From && a < span.To).ToList();
                return within.Zip(within.Skip(1)).Select(p => (Gap: (p.Second - p.First).TotalMilliseconds, At: (p.First - span.From).TotalMilliseconds));
            })
            .OrderByDescending(g => g.Gap).Take(10).ToList();
        ratios.Add(("longest gaps between ERP requests while backlogged (ms @ ms after a KPI sample)", string.Join(" ", quiet.Select(q => string.Create(culture, $"{q.Gap:F0}@{q.At:F0}")))));
        // The ERP's requests and our backlog per sample, the whole run: shows when the backlog formed and drained.
        ratios.Add(("whole run: ERP requests / backlog per sample", string.Join(" ", samples.Zip(samples.Skip(1)).Select(p => string.Create(culture, $"{Admitted(p.First.When, p.Second.When)}/{p.First.Backlog}")))));
        var endKpis = await http.GetFromJsonAsync<JsonElement>("/api/v1/kpis");
        ratios.Add(("ERP dispatcher at the end", endKpis.GetProperty("backlog").GetProperty("erp").GetRawText()));
        if (lost.Count > 0 || duplicated.Count > 0)
        {
            var exceptions = await http.GetFromJsonAsync<JsonElement>("/api/v1/ops/exceptions");
            ratios.Add(("exceptions (first 3)", string.Join(" | ", exceptions.GetProperty("items").EnumerateArray().Take(3)
                .Select(e => $"{e.GetProperty("id").GetString()}: {e.GetProperty("vendorCode").GetString()} {e.GetProperty("vendorMessage").GetString()}"))));
            ratios.Add(("lost ids (first 20)", string.Join(",", lost.Take(20))));
            ratios.Add(("duplicated ids (first 20)", string.Join(",", duplicated.Take(20))));
        }

        ratios.Insert(0, ("topology", cluster is not null ? "PostgreSQL 15 + 2 silo processes + 1 gateway process + sandbox process, loopback"
            : sandbox is null ? "embedded (one process, the simulated vendors inside it)" : "embedded (one process) + sandbox vendors in a process of their own"));
        await Report.WriteAsync("flash-sale", [], ratios, new { orders, warmup, seconds, erpLimit, batch, concurrency, headroom, topology, vendors = cluster is null ? vendorsHost : "process" });
        return lost.Count == 0 && duplicated.Count == 0 && refused == 0 && warmedUp == warmup ? 0 : 1;
    }

    // Orders with the ERP's answer (done when every accepted webhook's order has one).
    private static long Answered(JsonElement kpis) => kpis.GetProperty("ordersByStatus").EnumerateObject()
        .Where(s => s.Name is "Accepted" or "Rejected" or "OnHold" or "Backordered").Sum(s => s.Value.GetInt64());
}
