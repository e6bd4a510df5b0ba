using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RetailSync.Gateway.Hosting;
using RetailSync.Intake;
using RetailSync.Shops;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Platform;

/// <summary>A cluster with mutual TLS, reached by separate Orleans clients over the network like a standalone gateway.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ClusterTransportTests(PostgresFixture postgres) : IDisposable
{
    private const string Password = "cluster-certificate-password";
    private readonly string directory = Directory.CreateTempSubdirectory("retailsync-tls-").FullName;

    [Fact]
    public async Task only_a_node_with_a_pinned_certificate_joins_and_a_write_postgresql_refuses_reaches_it_with_postgresqls_reason()
    {
        var db = await postgres.Server.CreateDatabaseAsync();
        var certificate = WriteCertificate("retailsync-cluster");
        var stranger = WriteCertificate("retailsync-cluster");
        await using var host = await InProcessHost.StartClusterAsync(db,
            "--RetailSync:Silo:ServeApi=true",
            "--RetailSync:Shops:sandbox.myshopify.com:Tenant=sandbox",
            "--RetailSync:Shops:sandbox.myshopify.com:WebhookSecret=sandbox-webhook-secret-but-for-cluster",
            "--RetailSync:ApiKeys:0=cluster-test-key-0123456789abcdef0123",
            $"--RetailSync:Cluster:Tls:CertificatePath={certificate}",
            $"--RetailSync:Cluster:Tls:CertificatePassword={Password}");
        var clusterId = host.App.Configuration["RetailSync:Cluster:ClusterId"]!;

        using (var gateway = await StartClientAsync(db, clusterId, certificate))
        {
            var grains = gateway.Services.GetRequiredService<IClusterClient>();
            Assert.True((await grains.GetGrain<IShopGrain>("sandbox.myshopify.com").GetAsync()).Installed);

            // The gateway refuses such a key at the edge; from code it reaches PostgreSQL, which refuses it (22021), and
            // the remote caller (the inbox stores what it catches) is told that, not that a codec was missing.
            var shop = "nul\0shop.myshopify.com";
            var delivery = new ShopifyDelivery(shop, "sandbox", "app/uninstalled", "e-1", "w-1", null, "2026-01", false, DateTimeOffset.UtcNow);
            var error = await Assert.ThrowsAnyAsync<Exception>(() => grains.GetGrain<IShopGrain>(shop).UninstalledAsync(delivery));
            Assert.Contains("22021", error.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain("CodecNotFound", error.ToString(), StringComparison.Ordinal);
        }

        // Without TLS, and with a certificate of the same name the cluster has not pinned, a client cannot join.
        foreach (var refused in new[] { null, stranger })
        {
            var failure = await Record.ExceptionAsync(async () => (await StartClientAsync(db, clusterId, refused)).Dispose());
            Assert.NotNull(failure);
            Assert.IsNotAssignableFrom<OperationCanceledException>(failure);
        }
    }

    private static async Task<IHost> StartClientAsync(string db, string clusterId, string? certificate)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RetailSync:Cluster:ConnectionString"] = db,
            ["RetailSync:Cluster:ClusterId"] = clusterId,
            ["RetailSync:Cluster:Tls:CertificatePath"] = certificate,
            ["RetailSync:Cluster:Tls:CertificatePassword"] = Password,
            ["Logging:LogLevel:Default"] = "Critical",
        });
        builder.UseOrleansClient(client => ClusterClient.Configure(client, builder.Configuration));
        // The first refused connection ends the start instead of being tried again until the deadline.
        builder.Services.AddSingleton<IClientConnectionRetryFilter, NoRetry>();
        var host = builder.Build();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await host.StartAsync(deadline.Token);
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    /// <summary>A self-signed certificate with its private key, as PKCS#12 (what a cluster would be given).</summary>
    private string WriteCertificate(string name)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var path = Path.Combine(directory, $"{Guid.NewGuid():N}.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, Password));
        return path;
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private sealed class NoRetry : IClientConnectionRetryFilter
    {
        public Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken) => Task.FromResult(false);
    }
}
