using System.Net.Http.Json;
using RetailSync.Testing;

namespace RetailSync.Benchmarks;

/// <summary>
/// The production shape on loopback, each part a process of its own: a throwaway PostgreSQL, the sandbox
/// vendors (an embedded host whose sandbox the cluster calls over HTTP), two silos and one gateway (an
/// Orleans client serving the webhooks and the API). Everything it started stops when it is disposed.
/// </summary>
public sealed class MultiProcessCluster : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> started = [];

    private MultiProcessCluster(PostgresServer postgres) => (Postgres, started) = (postgres, [postgres]);

    public PostgresServer Postgres { get; }

    public SiloProcess Sandbox { get; private set; } = null!;

    public SiloProcess A { get; private set; } = null!;

    public SiloProcess B { get; private set; } = null!;

    public SiloProcess Gateway { get; private set; } = null!;

    /// <summary>The database of grain state and membership: an Orleans client joins the cluster through it.</summary>
    public string ConnectionString { get; private set; } = "";

    public string ClusterId { get; private set; } = "";

    /// <summary>The vendors' sandbox API (<c>/sandbox/...</c>).</summary>
    public HttpClient Vendors { get; private set; } = null!;

    public string Describe() =>
        $"PostgreSQL on {Postgres.Port}, silos {A.HttpUrl} and {B.HttpUrl}, gateway {Gateway.HttpUrl}, sandbox {Sandbox.HttpUrl}";

    /// <param name="prepareVendors">Runs against the sandbox before the silos start (items, limits, Shopify's orders).</param>
    /// <param name="siloArgs">Settings of both silos on top of the cluster's own.</param>
    public static async Task<MultiProcessCluster> StartAsync(string shop, string secret, string apiKey, Func<HttpClient, Task> prepareVendors, params string[] siloArgs)
    {
        var cluster = new MultiProcessCluster(await PostgresServer.StartAsync(durable: true));
        try
        {
            var db = await cluster.Postgres.CreateDatabaseAsync();
            var clusterId = "bench-" + Guid.NewGuid().ToString("N")[..6];
            (cluster.ConnectionString, cluster.ClusterId) = (db, clusterId);
            cluster.Sandbox = cluster.Track(SiloProcess.Start("--Logging:LogLevel:Default=Warning", "--RetailSync:Dashboard:Enabled=false",
                $"--RetailSync:Embedded:SiloPort={PostgresServer.FreePort()}", $"--RetailSync:Embedded:GatewayPort={PostgresServer.FreePort()}"));
            await cluster.Sandbox.WaitReadyAsync(TimeSpan.FromSeconds(60));
            cluster.Vendors = new HttpClient { BaseAddress = new Uri(cluster.Sandbox.HttpUrl), Timeout = TimeSpan.FromSeconds(60) };
            await prepareVendors(cluster.Vendors);

            string[] Silo() => SandboxedCluster.SiloArgs(db, clusterId, cluster.Sandbox.HttpUrl, shop, secret, apiKey,
                ["--Logging:LogLevel:Default=Warning", "--RetailSync:Silo:ServeApi=false", .. siloArgs]);
            cluster.A = cluster.Track(SiloProcess.Start(Silo()));
            cluster.B = cluster.Track(SiloProcess.Start(Silo()));
            await Task.WhenAll(cluster.A.WaitReadyAsync(TimeSpan.FromSeconds(90)), cluster.B.WaitReadyAsync(TimeSpan.FromSeconds(90)));
            cluster.Gateway = cluster.Track(SiloProcess.StartGateway("--Logging:LogLevel:Default=Warning", "--RetailSync:Mode=Cluster",
                $"--RetailSync:Cluster:ConnectionString={db}", $"--RetailSync:Cluster:ClusterId={clusterId}",
                $"--RetailSync:Shops:{shop}:Tenant=bench", $"--RetailSync:Shops:{shop}:WebhookSecret={secret}", $"--RetailSync:ApiKeys:0={apiKey}"));
            await cluster.Gateway.WaitReadyAsync(TimeSpan.FromSeconds(60));
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private SiloProcess Track(SiloProcess process)
    {
        started.Add(process);
        return process;
    }

    public async ValueTask DisposeAsync()
    {
        Vendors?.Dispose();
        // The processes first (newest first), PostgreSQL last.
        for (var i = started.Count - 1; i >= 0; i--)
        {
            await started[i].DisposeAsync();
        }
    }
}
