using System.Net.Http.Headers;
using System.Net.Http.Json;
using RetailSync.Testing;

namespace RetailSync.Benchmarks;

/// <summary>
/// The embedded default as the order scenarios run it: a silo process with one shop and an API key, vendor budgets out of
/// the way, the sandbox ERP stocked with the fixture's SKU and Shopify's bucket an Enterprise plan's.
/// </summary>
public sealed class EmbeddedBench : IAsyncDisposable
{
    public const string ApiKey = "bench-api-key-not-for-production";
    public const string Shop = "bench.myshopify.com";
    public const string Secret = "bench-webhook-secret-not-for-production";

    private EmbeddedBench(SiloProcess silo, HttpClient http) => (Silo, Http) = (silo, http);

    public SiloProcess Silo { get; }

    /// <summary>The silo's HTTP API, authorised with <see cref="ApiKey"/>.</summary>
    public HttpClient Http { get; }

    public static async Task<EmbeddedBench> StartAsync(int shopifyOrders, params string[] extra)
    {
        var silo = SiloProcess.Start([
            "--Logging:LogLevel:Default=Warning", "--RetailSync:Dashboard:Enabled=false",
            $"--RetailSync:Embedded:SiloPort={PostgresServer.FreePort()}", $"--RetailSync:Embedded:GatewayPort={PostgresServer.FreePort()}",
            $"--RetailSync:Shops:{Shop}:Tenant=bench", $"--RetailSync:Shops:{Shop}:WebhookSecret={Secret}", $"--RetailSync:ApiKeys:0={ApiKey}",
            // The vendors' limits are not what is measured: room for the rate.
            "--RetailSync:Connectors:BusinessCentral:RequestsPerSecond=1000", "--RetailSync:Connectors:Salesforce:RequestsPerSecond=1000",
            .. extra]);
        await silo.WaitReadyAsync(TimeSpan.FromSeconds(60));
        var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = new Uri(silo.HttpUrl), Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        (await http.PostAsJsonAsync("/sandbox/bc/items", new { number = "IPOD2008PINK", displayName = "iPod Nano 8GB pink", unitPrice = 199m, inventory = 10_000_000m })).EnsureSuccessStatusCode();
        // An Enterprise plan's GraphQL bucket: 100 orders/s × 2 mutations × 10 points fit in it.
        (await http.PostAsJsonAsync("/sandbox/shopify/limits", new { maximumAvailable = 20_000, restoreRate = 4_000 })).EnsureSuccessStatusCode();
        (await http.PostAsJsonAsync("/sandbox/shopify/orders/range", new { firstId = SignedOrders.Base, count = shopifyOrders })).EnsureSuccessStatusCode();
        return new EmbeddedBench(silo, http);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Silo.DisposeAsync();
    }
}
