using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using RetailSync.Model;
using RetailSync.Shopify;

namespace RetailSync.Benchmarks;

/// <summary>CPU cost of the pure parts of intake (JSON parse + mapping, state serialisation), one core.</summary>
public static class MappingScenario
{
    public static async Task RunAsync(BenchOptions options)
    {
        var body = File.ReadAllBytes(Path.Combine(RepoPaths.Fixtures, "orders_create__hookdeck-2024-10.json"));
        var parse = Measure("parse JSON only", options, () => JsonDocument.Parse(body).Dispose());
        var map = Measure("parse + map orders/create to canonical Order", options, () =>
        {
            using var doc = JsonDocument.Parse(body);
            ShopifyMapper.Order(doc.RootElement);
        });
        using var services = new ServiceCollection().AddSerializer(s => s.AddAssembly(typeof(Order).Assembly)).BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer>();
        using var d = JsonDocument.Parse(body);
        var order = ShopifyMapper.Order(d.RootElement);
        var serialize = Measure("Orleans-serialise the canonical Order", options, () => serializer.SerializeToArray(order));
        await Report.WriteAsync("mapping", [parse, map, serialize], [], new { bodyBytes = body.Length, stateBytes = serializer.SerializeToArray(order).Length });
    }

    private static LoadResult Measure(string name, BenchOptions options, Action action)
    {
        for (var i = 0; i < 2000; i++)
        {
            action();
        }

        var watch = Stopwatch.StartNew();
        long n = 0;
        while (watch.Elapsed < TimeSpan.FromSeconds(Math.Min(options.Seconds, 3)))
        {
            action();
            n++;
        }

        var perSecond = n / watch.Elapsed.TotalSeconds;
        return new LoadResult(name, 1, n, 0, watch.Elapsed.TotalSeconds, perSecond, 1000 / perSecond, double.NaN);
    }
}
