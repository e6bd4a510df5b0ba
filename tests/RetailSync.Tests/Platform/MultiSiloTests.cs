using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using RetailSync.Platform;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Platform;

[Collection(PostgresCollection.Name)]
public sealed class MultiSiloTests(PostgresFixture postgres)
{
    [Fact]
    public async Task two_silo_processes_form_one_cluster_and_the_survivor_takes_over_after_a_kill()
    {
        var db = await postgres.Server.CreateDatabaseAsync();
        var clusterId = "kill-" + Guid.NewGuid().ToString("N")[..8];
        var (portA, portB) = (PostgresServer.FreePort(), PostgresServer.FreePort());
        string[] Args(int siloPort) =>
        [
            "--RetailSync:Mode=Cluster",
            $"--RetailSync:Cluster:ConnectionString={db}",
            $"--RetailSync:Cluster:ClusterId={clusterId}",
            $"--RetailSync:Cluster:SiloPort={siloPort}",
            $"--RetailSync:Cluster:GatewayPort={PostgresServer.FreePort()}",
            "--RetailSync:Dashboard:Enabled=false",
            // Fast failover settings: on a loaded 2-core CI box Orleans would otherwise stretch probe
            // timeouts up to 4x and take about a minute to declare the killed silo dead.
            "--RetailSync:Cluster:ProbeTimeoutSeconds=2",
            "--RetailSync:Cluster:ExtendProbeTimeoutWhenBusy=false",
        ];
        await using var a = SiloProcess.Start(Args(portA));
        await using var b = SiloProcess.Start(Args(portB));
        await Task.WhenAll(a.WaitReadyAsync(TimeSpan.FromSeconds(60)), b.WaitReadyAsync(TimeSpan.FromSeconds(60)));

        using var client = Host.CreateDefaultBuilder()
            .UseOrleansClient(c =>
            {
                c.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = clusterId;
                    o.ServiceId = "retailsync";
                });
                c.UseAdoNetClustering(o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = db;
                });
            })
            .Build();
        await client.StartAsync();
        var grains = client.Services.GetRequiredService<IClusterClient>();
        static bool OnSilo(ProbeResult r, int port) => r.Silo.Contains($":{port}:", StringComparison.Ordinal);

        // Activations land on both silos: the two processes form one cluster. Fresh keys per attempt,
        // since a key placed once stays where it is.
        var round = 0;
        var (prefix, placed) = await Eventually.SucceedsAsync(async () =>
        {
            var keys = $"r{round++}-";
            var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => grains.GetGrain<IHealthProbeGrain>(keys + i).TouchAsync()));
            return results.Any(r => OnSilo(r, portA)) && results.Any(r => OnSilo(r, portB))
                ? (keys, results)
                : throw new InvalidOperationException("activations on one silo only");
        }, TimeSpan.FromSeconds(30));
        var onVictim = Enumerable.Range(0, 40).Where(i => OnSilo(placed[i], portB)).ToList();

        b.Kill();

        var deadline = TimeSpan.FromSeconds(30);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        foreach (var i in onVictim)
        {
            var remaining = deadline - watch.Elapsed;
            var result = await Eventually.SucceedsAsync(
                () => grains.GetGrain<IHealthProbeGrain>(prefix + i).ReadAsync().WaitAsync(TimeSpan.FromSeconds(5)),
                remaining > TimeSpan.Zero ? remaining : TimeSpan.FromMilliseconds(1));
            Assert.True(OnSilo(result, portA), $"{prefix}{i} answered from {result.Silo}");
            Assert.Equal(placed[i].Touches, result.Touches);
        }

        Assert.True(watch.Elapsed < deadline, $"survivor took over after {watch.Elapsed}");
        await client.StopAsync();
    }
}
