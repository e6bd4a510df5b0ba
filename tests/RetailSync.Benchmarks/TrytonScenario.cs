using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using RetailSync.Connectors;
using RetailSync.Connectors.Tryton;
using RetailSync.Silo.Erp;

namespace RetailSync.Benchmarks;

/// <summary>
/// Orders/s the Tryton adapter gets into a real Tryton server against bare JSON-RPC calls doing the same
/// work (create, quote, confirm, process, read back) with every id known in advance. Bare runs go first
/// and last; the baseline is their mean, so a server that slows as its tables grow does not flatter us.
/// </summary>
public static class TrytonScenario
{
    private const string Sku = "BENCH-1";
    private const string Customer = "BENCH-CUSTOMER";

    public static async Task<int> RunAsync(string[] args)
    {
        var orders = int.Parse(BenchOptions.Option(args, "orders", "60"), CultureInfo.InvariantCulture);
        var batch = int.Parse(BenchOptions.Option(args, "batch", "10"), CultureInfo.InvariantCulture);
        if (!LocalTryton.Installed)
        {
            Console.Error.WriteLine("Tryton is not installed: the Debian packages scripts/test.sh installs (tryton-server, its sale and credit-limit modules, tryton-modules-country with python3-pycountry and tryton-proteus)");
            return 2;
        }

        await using var server = await LocalTryton.StartAsync([new TrytonProduct(Sku, 10m, 1_000_000m)]);
        var erp = server.Client();
        await erp.UpsertCustomerAsync(new ErpCustomer(Customer, "Benchmark Buyer", "bench@example.com", null, "1 Main St", "Ottawa", "K1A 0B1", "CA"));
        var bare = await BareClient.CreateAsync(server.Client().Rpc);
        var run = Guid.NewGuid().ToString("N")[..6];
        ErpSalesOrder Order(string series, int i) => new($"{series}-{run}-{i}", Customer, DateOnly.FromDateTime(DateTime.UtcNow), "USD", [new ErpLine(Sku, 1 + (i % 3), 10m)]);

        // Warm both paths (connections, caches, Tryton's own caches).
        for (var i = 0; i < 3; i++)
        {
            await bare.SubmitAsync($"warm-bare-{run}-{i}");
            await erp.SubmitSalesOrderAsync(Order("warm", i));
        }

        var bareFirst = await MeasureAsync("bare JSON-RPC (create, quote, confirm, process, read)", orders, 1, i => bare.SubmitAsync($"bare1-{run}-{i}"));
        var single = await MeasureAsync("adapter, one order per call", orders, 1, async i =>
        {
            if (await erp.SubmitSalesOrderAsync(Order("single", i)) is { Status: not "processing" } sale)
            {
                throw new InvalidOperationException($"sale {sale.Number} is {sale.Status}");
            }
        });
        var batched = await MeasureAsync($"adapter, batches of {batch} (as the dispatcher sends)", orders, batch, async i =>
        {
            var results = await erp.SubmitSalesOrdersAsync([.. Enumerable.Range(i, batch).Select(k => Order("batch", k))]);
            if (results.FirstOrDefault(r => r.Order?.Status != "processing") is { } failed)
            {
                throw new InvalidOperationException($"{failed.ExternalDocumentNumber}: {failed.Error?.Message ?? failed.Order?.Status}");
            }
        });
        var bareLast = await MeasureAsync("bare JSON-RPC again", orders, 1, i => bare.SubmitAsync($"bare2-{run}-{i}"));

        var baseline = (bareFirst.PerSecond + bareLast.PerSecond) / 2;
        await Report.WriteAsync("tryton", [bareFirst, single, batched, bareLast],
        [
            ("baseline: bare JSON-RPC orders/s (mean)", baseline.ToString("F2", CultureInfo.InvariantCulture)),
            ("adapter, one order per call / baseline", (single.PerSecond / baseline).ToString("F2", CultureInfo.InvariantCulture)),
            ("adapter, batched / baseline", (batched.PerSecond / baseline).ToString("F2", CultureInfo.InvariantCulture)),
        ], new { orders, batch, trytond = "6.0 (Debian), SQLite" });
        return 0;
    }

    /// <summary>Runs <paramref name="orders"/> orders as calls of <paramref name="perCall"/> orders each, one after another.</summary>
    private static async Task<LoadResult> MeasureAsync(string name, int orders, int perCall, Func<int, Task> call)
    {
        var latencies = new List<double>();
        var total = Stopwatch.StartNew();
        for (var i = 0; i < orders; i += perCall)
        {
            var one = Stopwatch.StartNew();
            await call(i);
            latencies.Add(one.Elapsed.TotalMilliseconds / perCall);
        }

        var seconds = total.Elapsed.TotalSeconds;
        latencies.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name}: {orders / seconds:F2} orders/s"));
        return new LoadResult(name, 1, orders, 0, seconds, orders / seconds, latencies[latencies.Count / 2], latencies[Math.Min(latencies.Count - 1, (int)(latencies.Count * 0.99))]);
    }


    /// <summary>What a hand-written integration would do with every id looked up once: no searches, no idempotency.</summary>
    private sealed class BareClient(TrytonRpc rpc, JsonObject template)
    {
        public static async Task<BareClient> CreateAsync(TrytonRpc rpc)
        {
            async Task<JsonObject> One(string model, JsonArray domain, params string[] fields) =>
                (await rpc.SearchReadAsync(model, domain, fields, 1))[0]!.AsObject();
            var party = await One("party.party", [new JsonArray("code", "=", Customer)], "id", "addresses");
            var product = await One("product.product", [new JsonArray("code", "=", Sku)], "id", "default_uom");
            var currency = await One("currency.currency", [new JsonArray("code", "=", "USD")], "id");
            var warehouse = await One("stock.location", [new JsonArray("type", "=", "warehouse")], "id");
            var address = party["addresses"]![0]!.GetValue<long>();
            return new BareClient(rpc, new JsonObject
            {
                ["company"] = (await rpc.ContextAsync())["company"]!.GetValue<long>(), ["party"] = party["id"]!.GetValue<long>(),
                ["currency"] = currency["id"]!.GetValue<long>(), ["warehouse"] = warehouse["id"]!.GetValue<long>(),
                ["invoice_address"] = address, ["shipment_address"] = address,
                ["product"] = product["id"]!.GetValue<long>(), ["unit"] = product["default_uom"]!.GetValue<long>(),
            });
        }

        public async Task SubmitAsync(string reference)
        {
            var values = (JsonObject)template.DeepClone();
            var line = new JsonObject
            {
                ["type"] = "line", ["product"] = values["product"]!.GetValue<long>(), ["unit"] = values["unit"]!.GetValue<long>(),
                ["quantity"] = 2.0, ["unit_price"] = TrytonRpc.Decimal(10m), ["description"] = Sku,
            };
            values.Remove("product");
            values.Remove("unit");
            values["reference"] = reference;
            values["sale_date"] = TrytonRpc.Date(DateOnly.FromDateTime(DateTime.UtcNow));
            values["lines"] = new JsonArray(new JsonArray("create", new JsonArray(line)));
            var id = (await rpc.CreateAsync("sale.sale", [values]))[0];
            await rpc.ButtonAsync("sale.sale", "quote", [id]);
            await rpc.ButtonAsync("sale.sale", "confirm", [id]);
            await rpc.ButtonAsync("sale.sale", "process", [id]);
            var state = await rpc.ModelAsync("sale.sale", "read", [new JsonArray(id), new JsonArray("state")]);
            if (state![0]!["state"]!.GetValue<string>() != "processing")
            {
                throw new InvalidOperationException($"bare sale {id} is {state[0]!["state"]}");
            }
        }
    }
}
