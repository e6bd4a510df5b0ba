using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RetailSync.Connectors;
using RetailSync.Connectors.BusinessCentral;
using RetailSync.Connectors.Salesforce;
using RetailSync.Connectors.Shopify;
using RetailSync.Connectors.Tryton;
using RetailSync.Gateway.Configuration;

namespace RetailSync.Silo.Hosting;

/// <summary>One vendor account as <c>check-connections</c> found it.</summary>
/// <param name="Fix">What to change when it failed; null when it worked.</param>
public sealed record ConnectionLine(string System, string Tenant, string Account, bool Ok, string Result, string? Fix);

/// <summary>
/// <c>dotnet run --project silo -- check-connections</c>: with the settings a silo would use (appsettings.json, environment,
/// arguments), authenticates to every configured vendor account and makes one read that changes nothing: Shopify orders
/// updated from now on, a SOQL query for a contact that cannot exist, an ERP sales order of a number never used.
/// Prints one line per account and exits 1 when any failed. The adapters are the production ones, with plain HTTP
/// clients instead of the cluster's rate-limited pipelines, which need a running cluster.
/// </summary>
public static class CheckConnectionsCommand
{
    private const string Probe = "retailsync-check-connections";

    public static async Task<int> RunAsync(string[] args)
    {
        var configuration = new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args)
            .Build();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var lines = await CheckAsync(configuration, cancel.Token);
        Write(lines, Console.Out);
        return lines.All(l => l.Ok) ? 0 : 1;
    }

    public static async Task<IReadOnlyList<ConnectionLine>> CheckAsync(IConfiguration configuration, CancellationToken cancellationToken)
    {
        var services = new ServiceCollection();
        services.AddSingleton(configuration);
        services.AddOptions<ConnectorOptions>().Bind(configuration.GetSection(ConnectorOptions.Section));
        await using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptionsMonitor<ConnectorOptions>>();
        var settings = options.CurrentValue;
        var shops = new RetailSyncOptions();
        configuration.GetSection(RetailSyncOptions.Section).Bind(shops);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var lines = new List<ConnectionLine>();

        var shopify = new ShopifyAdminClient(http, options, new ShopifyTokens(http, options, TimeProvider.System), TimeProvider.System, NullLogger<ShopifyAdminClient>.Instance);
        foreach (var (shop, shopSettings) in shops.Shops.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            lines.Add(await LineAsync("shopify", shopSettings.Tenant, shop,
                string.IsNullOrEmpty(settings.Shopify.AccessToken) && string.IsNullOrEmpty(settings.Shopify.ClientId),
                "RetailSync:Connectors:Shopify:ClientId and ClientSecret (a Dev Dashboard app) or AccessToken",
                () => shopify.ListOrdersUpdatedSinceAsync(shop, DateTimeOffset.UtcNow.AddDays(1), null, 1, cancellationToken)));
        }

        var salesforce = new SalesforceClient(http, options, new SalesforceSession(http, options), NullLogger<SalesforceClient>.Instance);
        lines.Add(await LineAsync("salesforce", "*", Coalesce(settings.Salesforce.LoginUrl, settings.Salesforce.InstanceUrl),
            string.IsNullOrEmpty(settings.Salesforce.AccessToken) && string.IsNullOrEmpty(settings.Salesforce.ClientId),
            "RetailSync:Connectors:Salesforce:LoginUrl, ClientId and ClientSecret (a connected app) or InstanceUrl and AccessToken",
            () => salesforce.QueryAsync($"SELECT Id FROM Contact WHERE Email = '{Probe}@example.invalid'", cancellationToken)));

        if (settings.Erp == ErpKinds.Tryton)
        {
            var tryton = new TrytonClient(http, options);
            lines.Add(await LineAsync("tryton", "*", $"{settings.Tryton.Url} {settings.Tryton.Database}",
                string.IsNullOrEmpty(settings.Tryton.Url), "RetailSync:Connectors:Tryton:Url, Database, User and Password",
                () => tryton.FindSalesOrderAsync(Probe, cancellationToken)));
        }
        else
        {
            var bc = new BusinessCentralClient(http, options, new BusinessCentralTokens(options));
            lines.Add(await LineAsync("businesscentral", "*", Coalesce(settings.BusinessCentral.BaseUrl),
                string.IsNullOrEmpty(settings.BusinessCentral.AccessToken) && string.IsNullOrEmpty(settings.BusinessCentral.ClientId),
                "RetailSync:Connectors:BusinessCentral:BaseUrl, CompanyId, TenantId, ClientId and ClientSecret (an Entra ID app registration) or AccessToken",
                () => bc.FindSalesOrderAsync(Probe, cancellationToken)));
        }

        return lines;
    }

    private static async Task<ConnectionLine> LineAsync(string system, string tenant, string account, bool unconfigured, string settings, Func<Task> read)
    {
        if (unconfigured)
        {
            return new ConnectionLine(system, tenant, account, false, "not configured", $"set {settings}");
        }

        try
        {
            await read();
            return new ConnectionLine(system, tenant, account, true, "ok", null);
        }
        catch (ConnectorException ex)
        {
            var fix = ex.Kind == FailureKind.Transient
                ? "the vendor did not answer in time or is unavailable: check the URL and the network, then try again"
                : $"the vendor refused it: check {settings}";
            return new ConnectionLine(system, tenant, account, false, $"{ex.VendorCode}: {ex.Message}", fix);
        }
    }

    private static string Coalesce(params string[] values) => values.FirstOrDefault(v => !string.IsNullOrEmpty(v)) ?? "-";

    public static void Write(IReadOnlyList<ConnectionLine> lines, TextWriter output)
    {
        output.WriteLine($"{"system",-16} {"tenant",-12} {"account",-44} result");
        foreach (var line in lines)
        {
            output.WriteLine($"{line.System,-16} {line.Tenant,-12} {line.Account,-44} {(line.Ok ? "ok" : "FAILED " + line.Result)}");
            if (line.Fix is { } fix)
            {
                output.WriteLine($"{"",-16} {"",-12} {"",-44} fix: {fix}");
            }
        }
    }
}
