using Microsoft.Extensions.Configuration;
using RetailSync.Gateway.Configuration;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Platform;

public sealed class ClusterModeGuardTests
{
    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    [Fact]
    public void a_cluster_without_connection_string_is_refused_naming_the_setting()
    {
        var problems = ClusterModeGuard.Problems(Config(), servesWebhooksAndApi: false);
        Assert.Contains(problems, p => p.Contains("RetailSync:Cluster:ConnectionString", StringComparison.Ordinal));
    }

    [Fact]
    public void development_secrets_are_refused_in_cluster_mode()
    {
        var problems = ClusterModeGuard.Problems(Config(
            ("RetailSync:Cluster:ConnectionString", "Host=db"),
            ("RetailSync:Shops:a.myshopify.com:Tenant", "acme"),
            ("RetailSync:Shops:a.myshopify.com:WebhookSecret", DevelopmentDefaults.WebhookSecret),
            ("RetailSync:ApiKeys:0", DevelopmentDefaults.ApiKey)), servesWebhooksAndApi: true);
        Assert.Contains(problems, p => p.Contains("RetailSync:Shops:a.myshopify.com:WebhookSecret", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("RetailSync:ApiKeys", StringComparison.Ordinal));
    }

    [Fact]
    public void real_secrets_pass()
    {
        var problems = ClusterModeGuard.Problems(Config(
            ("RetailSync:Cluster:ConnectionString", "Host=db"),
            ("RetailSync:Shops:a.myshopify.com:Tenant", "acme"),
            ("RetailSync:Shops:a.myshopify.com:WebhookSecret", "s3cr3t-from-shopify"),
            ("RetailSync:ApiKeys:0", "ops-key-1")), servesWebhooksAndApi: true);
        Assert.Empty(problems);
    }

    [Fact]
    public async Task a_cluster_silo_started_with_the_embedded_defaults_exits_and_says_why()
    {
        await using var silo = SiloProcess.Start("--RetailSync:Mode=Cluster", "--RetailSync:Silo:ServeApi=true");
        var exit = await silo.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(2, exit);
        Assert.Contains("Cluster mode refuses to start", silo.Log);
        Assert.Contains("RetailSync:Cluster:ConnectionString", silo.Log);
        Assert.Contains("RetailSync:ApiKeys", silo.Log);
    }
}
