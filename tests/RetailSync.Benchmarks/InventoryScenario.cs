using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RetailSync.Benchmarks;

/// <summary>
/// Inventory freshness under load: <c>--skus</c> SKUs linked to Shopify items get ERP stock changes at
/// <c>--rate</c> per second (signed <c>stock.changed</c> callbacks, random SKUs, for <c>--seconds</c>) while the
/// sandbox Shopify holds its cost budget (2,000 points, 100 restored per second: a mutation of 10 points,
/// so at most 10 writes a second). Printed: freshness p50/p99 (ERP change → Shopify holding it, the SKU
/// grains' KPI), Shopify writes per second against that limit, items per write, THROTTLED answers, and a
/// check that Shopify ends at the ERP's figure for every SKU.
/// </summary>
public static class InventoryScenario
{
    private const string Shop = "bench.myshopify.com";
    private const string Tenant = "bench";
    private const string ApiKey = "bench-api-key-not-for-production";
    private const long FirstItem = 500_000_000;

    public static async Task<int> RunAsync(string[] args)
    {
        var skus = int.Parse(BenchOptions.Option(args, "skus", "10000"), CultureInfo.InvariantCulture);
        var rate = double.Parse(BenchOptions.Option(args, "rate", "2000"), CultureInfo.InvariantCulture);
        var seconds = int.Parse(BenchOptions.Option(args, "seconds", "20"), CultureInfo.InvariantCulture);
        await using var silo = SiloProcess.Start(
            "--Logging:LogLevel:Default=Warning", "--RetailSync:Dashboard:Enabled=false",
            $"--RetailSync:Embedded:SiloPort={PostgresServer.FreePort()}", $"--RetailSync:Embedded:GatewayPort={PostgresServer.FreePort()}",
            $"--RetailSync:Shops:{Shop}:Tenant={Tenant}", $"--RetailSync:Shops:{Shop}:WebhookSecret=bench-webhook-secret-not-for-production",
            $"--RetailSync:ApiKeys:0={ApiKey}");
        await silo.WaitReadyAsync(TimeSpan.FromSeconds(60));
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = new Uri(silo.HttpUrl), Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);

        // The catalogue: items stocked at Shopify location 1, linked to SKUs by products/update (100 variants a product).
        var watch = Stopwatch.StartNew();
        (await http.PostAsJsonAsync("/sandbox/shopify/inventory/range", new { firstItemId = FirstItem, count = skus, locationId = "1", available = 0 })).EnsureSuccessStatusCode();
        var template = JsonNode.Parse(File.ReadAllBytes(Path.Combine(RepoPaths.Fixtures, "products_update__hookdeck-2024-10.json")))!.AsObject();
        foreach (var chunk in Enumerable.Range(0, skus).Chunk(100))
        {
            var product = (JsonObject)template.DeepClone();
            product["id"] = 8_000_000_000 + chunk[0];
            var variant = template["variants"]![0]!;
            product["variants"] = new JsonArray([.. chunk.Select(i =>
            {
                var v = (JsonObject)variant.DeepClone();
                v["id"] = 9_000_000_000 + i;
                v["sku"] = Sku(i);
                v["inventory_item_id"] = FirstItem + i;
                return (JsonNode)v;
            })]);
            (await http.SendAsync(Signed("/webhooks/shopify", Encoding.UTF8.GetBytes(product.ToJsonString()), shopify: true))).EnsureSuccessStatusCode();
        }

        await Eventually.ValueAsync(async () =>
            (await http.GetAsync($"/api/v1/inventory/{Tenant}/{Sku(skus - 1)}")).IsSuccessStatusCode ? true : (bool?)null, DateTime.UtcNow.AddMinutes(2));
        Console.WriteLine($"{skus} SKUs linked in {watch.Elapsed.TotalSeconds:F1} s");

        var before = await StateAsync(http);
        var versions = new long[skus];
        var last = new int[skus];
        var count = (int)(rate * seconds);
        var started = Stopwatch.StartNew();
        var sent = await PacedSender.SendAsync(http, count, rate, n =>
        {
            // Spread over the catalogue; each SKU's versions rise (a per-SKU counter), its last figure is remembered.
            var i = (int)((n * 7919L) % skus);
            var version = Interlocked.Increment(ref versions[i]);
            var onHand = (n * 31) % 500;
            Volatile.Write(ref last[i], onHand);
            var body = JsonSerializer.SerializeToUtf8Bytes(new
            {
                eventId = $"bench-stock-{n}", type = "stock.changed", sku = Sku(i), location = "MAIN", onHand, version,
                occurredAt = DateTimeOffset.UtcNow,
            });
            return Signed("/webhooks/erp/bc", body, shopify: false);
        });
        var sendSeconds = started.Elapsed.TotalSeconds;

        // Drained: Shopify holds the ERP's last figure of every SKU (or the deadline passes), polled every 2 s with progress.
        var mismatched = skus;
        await Eventually.ValueAsync(async () =>
        {
            var levels = (await StateAsync(http)).GetProperty("inventoryLevels").EnumerateArray()
                .ToDictionary(l => l.GetProperty("inventoryItemId").GetString()!, l => l.GetProperty("available").GetInt32());
            var behind = Enumerable.Range(0, skus).Where(i => versions[i] > 0 && levels.GetValueOrDefault((FirstItem + i).ToString(CultureInfo.InvariantCulture), -1) != last[i]).ToList();
            mismatched = behind.Count;
            if (mismatched == 0)
            {
                return true;
            }

            var shopify = (await http.GetFromJsonAsync<JsonElement>("/api/v1/kpis")).GetProperty("backlog").GetProperty("shopify");
            if (args.Contains("--explain"))
            {
                var first = behind[0];
                Console.WriteLine($"  {Sku(first)} (Shopify {levels.GetValueOrDefault((FirstItem + first).ToString(CultureInfo.InvariantCulture), -1)}, ERP {last[first]}): {await http.GetStringAsync($"/api/v1/inventory/{Tenant}/{Sku(first)}")}");
            }

            Console.WriteLine($"  {started.Elapsed.TotalSeconds:F0} s: {mismatched} SKUs not at the ERP's figure yet; Shopify queue {shopify.GetRawText()}");
            return (bool?)null;
        }, DateTime.UtcNow.AddMinutes(2), TimeSpan.FromSeconds(2));

        var drained = started.Elapsed.TotalSeconds;
        var after = await StateAsync(http);
        var kpis = await http.GetFromJsonAsync<JsonElement>("/api/v1/kpis");
        var writes = after.GetProperty("inventoryWrites").GetInt64() - before.GetProperty("inventoryWrites").GetInt64();
        var throttled = after.GetProperty("throttledAnswers").GetInt64() - before.GetProperty("throttledAnswers").GetInt64();
        var bucket = after.GetProperty("bucket");
        // What Shopify's bucket allows over the run: a full bucket at the start plus its restore rate, 10 points a mutation.
        var restore = bucket.GetProperty("restoreRate").GetDouble();
        var allowed = (bucket.GetProperty("maximumAvailable").GetDouble() + restore * drained) / 10;
        var touched = versions.Count(v => v > 0);
        var shopifyBacklog = kpis.GetProperty("backlog").GetProperty("shopify");
        var p50 = kpis.GetProperty("inventoryFreshnessP50Ms").GetDouble();
        var p99 = kpis.GetProperty("inventoryFreshnessP99Ms").GetDouble();
        var f = CultureInfo.InvariantCulture;
        var rows = new List<LoadResult>
        {
            new("ERP stock changes accepted (signed callbacks)", 256, sent.Accepted, sent.Refused, sent.Seconds, sent.Accepted / sent.Seconds, double.NaN, double.NaN),
            new("Shopify inventory writes (mutations)", 0, writes, throttled, drained, writes / drained, double.NaN, double.NaN),
        };
        var ratios = new List<(string, string)>
        {
            ("inventory freshness p50 / p99", string.Create(f, $"{p50:F0} ms / {p99:F0} ms (target p99 <= 2,000 ms; last {Math.Min(10_000, count)} writes)")),
            ("Shopify writes ÷ what its cost budget allows", string.Create(f, $"{writes / allowed:F2} ({writes} mutations in {drained:F1} s; the bucket allows {allowed:F0}: {bucket.GetProperty("maximumAvailable").GetDouble():F0} points + {restore:F0}/s, 10 a mutation; THROTTLED answers {throttled})")),
            ("SKU levels per write", string.Create(f, $"{(double)shopifyBacklog.GetProperty("succeeded").GetInt64() / Math.Max(1, writes):F0} on average; batch sizes {shopifyBacklog.GetProperty("batchSizes").GetRawText()}")),
            ("changes per SKU level written (coalescing)", string.Create(f, $"{(double)count / Math.Max(1, shopifyBacklog.GetProperty("succeeded").GetInt64()):F2}")),
            ("Shopify at the ERP's last figure", $"{touched - mismatched} of {touched} SKUs changed ({(mismatched == 0 ? "all" : mismatched + " differ")}) after {drained:F1} s (sending took {sendSeconds:F1} s)"),
        };
        await Report.WriteAsync("inventory", rows, ratios, new { skus, rate, seconds });
        return mismatched == 0 && throttled == 0 ? 0 : 1;
    }

    private static string Sku(int i) => $"BENCH-{i:D6}";

    private static async Task<JsonElement> StateAsync(HttpClient http) =>
        (await http.GetFromJsonAsync<JsonElement>("/sandbox/state")).GetProperty("shopify");

    private static HttpRequestMessage Signed(string path, byte[] body, bool shopify)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (shopify)
        {
            request.Headers.Add("X-Shopify-Topic", "products/update");
            request.Headers.Add("X-Shopify-Shop-Domain", Shop);
            request.Headers.Add("X-Shopify-Hmac-Sha256", Convert.ToBase64String(HMACSHA256.HashData("bench-webhook-secret-not-for-production"u8, body)));
            request.Headers.Add("X-Shopify-Event-Id", Guid.NewGuid().ToString("N"));
        }
        else
        {
            request.Headers.Add("X-RetailSync-Hmac-Sha256", Convert.ToBase64String(HMACSHA256.HashData("sandbox-erp-secret"u8, body)));
        }

        return request;
    }
}
