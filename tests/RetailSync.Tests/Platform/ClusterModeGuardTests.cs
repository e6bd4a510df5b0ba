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
            ("RetailSync:Shops:a.myshopify.com:WebhookSecret", LongSecret),
            ("RetailSync:Shops:a.myshopify.com:PreviousWebhookSecret", LongSecret + "-old"),
            ("RetailSync:ErpCallbacks:bc:Secret", LongSecret + "-erp"),
            ("RetailSync:ApiKeys:0", LongSecret + "-ops")), servesWebhooksAndApi: true);
        Assert.Empty(problems);
    }

    private const string LongSecret = "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";

    [Fact]
    public void short_secrets_development_values_kept_as_previous_ones_and_the_sandbox_are_refused()
    {
        var problems = ClusterModeGuard.Problems(Config(
            ("RetailSync:Cluster:ConnectionString", "Host=db"),
            ("RetailSync:Shops:a.myshopify.com:Tenant", "acme"),
            ("RetailSync:Shops:a.myshopify.com:WebhookSecret", "x"),
            ("RetailSync:Shops:a.myshopify.com:PreviousWebhookSecret", DevelopmentDefaults.WebhookSecret),
            ("RetailSync:ErpCallbacks:bc:Secret", LongSecret),
            ("RetailSync:ErpCallbacks:bc:PreviousSecret", DevelopmentDefaults.ErpCallbackSecret),
            ("RetailSync:CrmCallbacks:salesforce:Secret", "short-crm-secret"),
            ("RetailSync:ApiKeys:0", "k"),
            ("RetailSync:Sandbox:Enabled", "true")), servesWebhooksAndApi: true);

        Assert.Contains("RetailSync:Shops:a.myshopify.com:WebhookSecret is shorter than 32 characters.", problems);
        Assert.Contains("RetailSync:Shops:a.myshopify.com:PreviousWebhookSecret is a public development value.", problems);
        Assert.Contains("RetailSync:ErpCallbacks:bc:PreviousSecret is a public development value.", problems);
        Assert.Contains("RetailSync:CrmCallbacks:salesforce:Secret is shorter than 32 characters.", problems);
        Assert.Contains("RetailSync:ApiKeys:0 is shorter than 32 characters.", problems);
        Assert.Contains(problems, p => p.StartsWith("RetailSync:Sandbox:Enabled", StringComparison.Ordinal));
        Assert.Equal(6, problems.Count);
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
