using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using RetailSync.Testing;

namespace RetailSync.Benchmarks;

/// <summary>
/// End-to-end latency of the order workflow in the embedded default: signed orders/create at a steady
/// rate; for each order, from the webhook's acceptance to the last of "ERP accepted", "Shopify tagged"
/// and "CRM order written", read from the order's own timeline. Two phases in one run on one process:
/// the sandbox answering at once (what is left is RetailSync's own time: the overhead) and the sandbox
/// taking <c>--latency</c> ms per call (the total a retailer would see).
/// </summary>
public static class OrderE2eScenario
{
    private const string Shop = EmbeddedBench.Shop;

    /// <summary>
    /// Vendor calls one after another on a returning buyer's order (every buyer of the measured phases bought in
    /// the warm-up or the first phase): CRM context (1 SOQL), ERP customer and order lookups (1 $batch), ERP order
    /// create (1 $batch), then Shopify tags + metafields (2) alongside the CRM upsert (1).
    /// </summary>
    private const int CallsOnPath = 5;

    public static async Task<int> RunAsync(string[] args)
    {
        var rate = double.Parse(BenchOptions.Option(args, "rate", "100"), CultureInfo.InvariantCulture);
        var seconds = int.Parse(BenchOptions.Option(args, "seconds", "20"), CultureInfo.InvariantCulture);
        var latency = int.Parse(BenchOptions.Option(args, "latency", "20"), CultureInfo.InvariantCulture);
        var concurrency = int.Parse(BenchOptions.Option(args, "concurrency", "8"), CultureInfo.InvariantCulture);
        var signed = new SignedOrders(EmbeddedBench.Secret);
        var count = (int)(rate * seconds);
        await using var bench = await EmbeddedBench.StartAsync(3 * count, $"--RetailSync:Outbound:Concurrency={concurrency}");
        var http = bench.Http;

        // Warm-up at a tenth of the rate, then the two measured phases on fresh order ids.
        await PhaseAsync(http, signed, 0, (int)rate, rate / 10, 0, "warm-up");
        var instant = await PhaseAsync(http, signed, count, count, rate, 0, "sandbox answering at once");
        var slow = await PhaseAsync(http, signed, 2 * count, count, rate, latency, $"sandbox taking {latency} ms per call");

        var culture = CultureInfo.InvariantCulture;
        var vendor = slow.VendorOnPath;
        await Report.WriteAsync("order-e2e", [instant.Result, slow.Result],
        [
            ("orders per phase / rate / vendor calls in flight per system", $"{count} / {rate.ToString(culture)} per s / {concurrency}"),
            ("sandbox at once: total p50 / p99 ms", string.Create(culture, $"{instant.Result.P50Ms:F1} / {instant.Result.P99Ms:F1} (vendors' own time on the path {instant.VendorOnPath:F1} ms)")),
            ($"sandbox {latency} ms per call: total p50 / p99 ms", string.Create(culture, $"{slow.Result.P50Ms:F1} / {slow.Result.P99Ms:F1}")),
            ($"  vendors' own time on the path ({CallsOnPath} calls, measured by the sandbox)", string.Create(culture, $"{vendor:F1} ms")),
            ("  overhead = total - vendors' time: p50 / p99 ms", string.Create(culture, $"{slow.Result.P50Ms - vendor:F1} / {slow.Result.P99Ms - vendor:F1} (target 10 / 50)")),
            ("orders not finished within the deadline", $"{instant.Unfinished} / {slow.Unfinished}"),
        ], new { rate, seconds, latency, concurrency, callsOnPath = CallsOnPath });
        return instant.Unfinished + slow.Unfinished == 0 ? 0 : 1;
    }

    private static async Task<(LoadResult Result, int Unfinished, double VendorOnPath)> PhaseAsync(HttpClient http, SignedOrders signed, int first, int count, double rate, int latency, string name)
    {
        foreach (var system in new[] { "shopify", "salesforce", "bc" })
        {
            (await http.PostAsJsonAsync("/sandbox/faults", new { system, latencyMs = latency })).EnsureSuccessStatusCode();
        }

        var before = await http.GetFromJsonAsync<JsonElement>("/sandbox/state/traffic");
        var (_, refused, sent) = await PacedSender.SendAsync(http, count, rate, n => signed.Create(Shop, first + n));

        // Every fifth order, read back once all of them are through (or the deadline passes).
        var sample = Enumerable.Range(first, count).Where(n => n % 5 == 0).ToList();
        var totals = new List<double>();
        var stages = new List<double[]>();
        var unfinished = 0;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        foreach (var n in sample)
        {
            var id = (SignedOrders.Base + n).ToString(CultureInfo.InvariantCulture);
            var total = await Eventually.ValueAsync(async () =>
            {
                var order = await http.GetFromJsonAsync<JsonElement>($"/api/v1/orders/{Shop}/{id}");
                var total = Total(order);
                if (total is not null && Stages(order) is { } parts)
                {
                    stages.Add(parts);
                }

                return total;
            }, deadline, TimeSpan.FromMilliseconds(200));

            if (total is { } t)
            {
                totals.Add(t);
            }
            else
            {
                unfinished++;
            }
        }

        totals.Sort();
        var after = await http.GetFromJsonAsync<JsonElement>("/sandbox/state/traffic");
        double Delta(string system, string field) => after.GetProperty(system).GetProperty(field).GetDouble() - before.GetProperty(system).GetProperty(field).GetDouble();
        var mean = new[] { "shopify", "salesforce", "bc" }.ToDictionary(system => system, system => Delta(system, "servedMs") / Math.Max(1, Delta(system, "served")));
        Console.WriteLine("    vendor requests per order: " + string.Join(", ", mean.Keys.Select(system => string.Create(CultureInfo.InvariantCulture,
            $"{system} {Delta(system, "requests") / count:F2} (mean {mean[system]:F1} ms inside the sandbox)"))));
        // The vendors' own time on one order's path, from what the sandbox measured: CRM context, three ERP calls,
        // then the longer of Shopify's two calls and the CRM upsert.
        var vendorOnPath = mean["salesforce"] + 2 * mean["bc"] + Math.Max(2 * mean["shopify"], mean["salesforce"]);
        double Percentile(double p) => totals.Count == 0 ? double.NaN : totals[Math.Min(totals.Count - 1, (int)(totals.Count * p))];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name}: {count} orders in {sent:F1} s, {refused} refused, p50 {Percentile(0.5):F1} ms, p99 {Percentile(0.99):F1} ms"));
        if (stages.Count > 0)
        {
            // Where the time goes, as medians: intake → CRM context answered → ERP accepted → Shopify synced / CRM written.
            var medians = Enumerable.Range(0, stages[0].Length).Select(i => stages.Select(st => st[i]).Order().ElementAt(stages.Count / 2)).ToArray();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    medians: context {medians[0]:F1} ms, then ERP {medians[1]:F1} ms, then Shopify {medians[2]:F1} ms / CRM {medians[3]:F1} ms"));
        }
        return (new LoadResult(name, 256, totals.Count, refused + unfinished, sent, count / sent, Percentile(0.5), Percentile(0.99)), unfinished, vendorOnPath);
    }

    /// <summary>Webhook accepted → the last of ERP accepted, Shopify synced, CRM written; null until all three happened.</summary>
    private static double? Total(JsonElement order)
    {
        if (order.ValueKind != JsonValueKind.Object || !order.TryGetProperty("timeline", out var timeline))
        {
            return null;
        }

        DateTimeOffset? start = null, accepted = null, shopify = null, crm = null;
        foreach (var entry in timeline.EnumerateArray())
        {
            var kind = entry.GetProperty("kind").GetString();
            var detail = entry.GetProperty("detail").GetString() ?? "";
            var at = entry.GetProperty("at").GetDateTimeOffset();
            switch (kind)
            {
                case "shopify:orders/create":
                    start ??= at;
                    break;
                case "status" when detail.Contains("→ Accepted", StringComparison.Ordinal):
                    accepted = at;
                    break;
                case "shopify:syncStatus" when detail.StartsWith("done", StringComparison.Ordinal):
                    shopify = at;
                    break;
                case "crm:upsert" when detail.StartsWith("done", StringComparison.Ordinal):
                    crm = at;
                    break;
            }
        }

        return start is { } s && accepted is { } a && shopify is { } sh && crm is { } c
            ? (new[] { a, sh, c }.Max() - s).TotalMilliseconds
            : null;
    }

    /// <summary>Stage durations (ms): to the CRM context answer, on to ERP acceptance, on to Shopify synced and to CRM written.</summary>
    private static double[]? Stages(JsonElement order)
    {
        var at = new Dictionary<string, DateTimeOffset>();
        foreach (var entry in order.GetProperty("timeline").EnumerateArray())
        {
            var kind = entry.GetProperty("kind").GetString() ?? "";
            var detail = entry.GetProperty("detail").GetString() ?? "";
            var key = kind == "status" && detail.Contains("→ Accepted", StringComparison.Ordinal) ? "accepted" : kind;
            at.TryAdd(key, entry.GetProperty("at").GetDateTimeOffset());
        }

        return at.TryGetValue("shopify:orders/create", out var start) && at.TryGetValue("crm:context", out var context) && at.TryGetValue("accepted", out var accepted)
            && at.TryGetValue("shopify:syncStatus", out var shopify) && at.TryGetValue("crm:upsert", out var crm)
            ? [(context - start).TotalMilliseconds, (accepted - context).TotalMilliseconds, (shopify - accepted).TotalMilliseconds, (crm - accepted).TotalMilliseconds]
            : null;
    }
}
