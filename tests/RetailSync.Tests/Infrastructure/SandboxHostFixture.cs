using System.Net.Http.Json;
using RetailSync.Connectors;
using RetailSync.Sandbox;
using RetailSync.Sandbox.BusinessCentral;
using RetailSync.Sandbox.Salesforce;
using RetailSync.Sandbox.Shopify;

namespace RetailSync.Tests.Infrastructure;

/// <summary>
/// An embedded host whose real adapters talk over HTTP to the sandbox on the same Kestrel, as the
/// embedded default does. Tests reset the sandbox before use.
/// </summary>
public sealed class SandboxHostFixture : IAsyncLifetime
{
    public InProcessHost Host { get; private set; } = null!;

    public HttpClient Http => Host.Http;

    public IShopifyAdmin Shopify => Host.App.Services.GetRequiredService<IShopifyAdmin>();

    public ICrm Crm => Host.App.Services.GetRequiredService<ICrm>();

    public IErp Erp => Host.App.Services.GetRequiredService<IErp>();

    public ShopifySimulator ShopifySim => Host.App.Services.GetRequiredService<ShopifySimulator>();

    public SalesforceSimulator SalesforceSim => Host.App.Services.GetRequiredService<SalesforceSimulator>();

    public BusinessCentralSimulator BcSim => Host.App.Services.GetRequiredService<BusinessCentralSimulator>();

    public SandboxTraffic Traffic => Host.App.Services.GetRequiredService<SandboxTraffic>();

    public async Task InitializeAsync() => Host = await InProcessHost.StartEmbeddedAsync(
        "--RetailSync:Dashboard:Enabled=false",
        // Generous limits: the rate tests set their own on their own hosts.
        "--RetailSync:Connectors:Salesforce:RequestsPerSecond=1000",
        "--RetailSync:Connectors:BusinessCentral:RequestsPerSecond=1000",
        "--RetailSync:Outbound:RetryBaseDelay=00:00:00.100",
        "--RetailSync:Outbound:MaxDelay=00:00:01");

    public async Task ResetAsync() => (await Http.PostAsync("/sandbox/reset", null)).EnsureSuccessStatusCode();

    public async Task FaultAsync(string system, bool outage = false, int? rateLimitPerSecond = null, double errorRate = 0) =>
        (await Http.PostAsJsonAsync("/sandbox/faults", new { system, outage, rateLimitPerSecond, errorRate })).EnsureSuccessStatusCode();

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class SandboxCollection : ICollectionFixture<SandboxHostFixture>
{
    public const string Name = "sandbox";
}
