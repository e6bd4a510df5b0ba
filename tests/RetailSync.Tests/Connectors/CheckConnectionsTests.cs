using Microsoft.Extensions.Configuration;
using RetailSync.Sandbox.BusinessCentral;
using RetailSync.Sandbox.Salesforce;
using RetailSync.Sandbox.Shopify;
using RetailSync.Silo.Hosting;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Connectors;

/// <summary><c>check-connections</c> against the sandbox's vendors, reached over HTTP with each vendor's own credentials.</summary>
[Collection(SandboxCollection.Name)]
public sealed class CheckConnectionsTests(SandboxHostFixture sandbox)
{
    private Dictionary<string, string?> Settings(string? salesforceSecret = null)
    {
        var self = sandbox.Http.BaseAddress!.ToString().TrimEnd('/');
        return new()
        {
            ["RetailSync:Shops:sandbox.myshopify.com:Tenant"] = "sandbox",
            ["RetailSync:Shops:second.myshopify.com:Tenant"] = "second",
            ["RetailSync:Connectors:Shopify:Endpoint"] = $"{self}/sandbox/shopify",
            ["RetailSync:Connectors:Shopify:ClientId"] = ShopifySimulator.AppClientId,
            ["RetailSync:Connectors:Shopify:ClientSecret"] = ShopifySimulator.AppClientSecret,
            ["RetailSync:Connectors:Salesforce:LoginUrl"] = $"{self}/sandbox/salesforce",
            ["RetailSync:Connectors:Salesforce:ClientId"] = SalesforceSimulator.ConnectedAppId,
            ["RetailSync:Connectors:Salesforce:ClientSecret"] = salesforceSecret ?? SalesforceSimulator.ConnectedAppSecret,
            ["RetailSync:Connectors:BusinessCentral:BaseUrl"] = $"{self}/sandbox/bc/v2.0/sandbox/api/v2.0",
            ["RetailSync:Connectors:BusinessCentral:CompanyId"] = BusinessCentralSimulator.CompanyId.ToString(),
            ["RetailSync:Connectors:BusinessCentral:TenantId"] = BusinessCentralSimulator.TenantId,
            ["RetailSync:Connectors:BusinessCentral:ClientId"] = BusinessCentralSimulator.ClientId,
            ["RetailSync:Connectors:BusinessCentral:ClientSecret"] = BusinessCentralSimulator.ClientSecret,
            ["RetailSync:Connectors:BusinessCentral:SandboxEntraUrl"] = $"{self}/sandbox/entra",
        };
    }

    private static Task<IReadOnlyList<ConnectionLine>> CheckAsync(Dictionary<string, string?> settings) =>
        CheckConnectionsCommand.CheckAsync(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), CancellationToken.None);

    [Fact]
    public async Task every_configured_account_authenticates_and_reads()
    {
        var lines = await CheckAsync(Settings());
        Assert.Equal(["shopify sandbox sandbox.myshopify.com", "shopify second second.myshopify.com", "salesforce * ", "businesscentral * "],
            lines.Select(l => $"{l.System} {l.Tenant} {(l.System == "shopify" ? l.Account : "")}"));
        Assert.All(lines, l => Assert.True(l.Ok, $"{l.System}: {l.Result}"));
    }

    [Fact]
    public async Task one_wrong_secret_fails_exactly_its_line_and_says_what_to_fix()
    {
        var lines = await CheckAsync(Settings(salesforceSecret: "rotated-and-not-updated"));

        var failed = Assert.Single(lines, l => !l.Ok);
        Assert.Equal("salesforce", failed.System);
        Assert.StartsWith("invalid_client:", failed.Result, StringComparison.Ordinal);
        Assert.Contains("ClientSecret", failed.Fix, StringComparison.Ordinal);
        var table = new StringWriter();
        CheckConnectionsCommand.Write(lines, table);
        Assert.Single(table.ToString().Split('\n'), l => l.Contains("FAILED", StringComparison.Ordinal));
    }

    [Fact]
    public async Task a_vendor_without_settings_is_reported_as_not_configured()
    {
        var settings = Settings();
        settings.Remove("RetailSync:Connectors:Salesforce:ClientId");
        var lines = await CheckAsync(settings);

        var missing = Assert.Single(lines, l => !l.Ok);
        Assert.Equal(("salesforce", "not configured"), (missing.System, missing.Result));
        Assert.StartsWith("set RetailSync:Connectors:Salesforce:", missing.Fix, StringComparison.Ordinal);
    }
}
