using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using RetailSync.Connectors;
using RetailSync.Connectors.Resilience;
using RetailSync.Operations;
using RetailSync.Sandbox.BusinessCentral;
using RetailSync.Sandbox.Salesforce;
using RetailSync.Sandbox.Shopify;

namespace RetailSync.Silo.Hosting;

public static class ConnectorHosting
{
    /// <summary>Adapters, their pipelines and the outbound command executor; with the sandbox, pointed at it.</summary>
    public static void AddConnectors(this WebApplicationBuilder builder, bool sandbox)
    {
        builder.Services.AddRetailSyncConnectors();
        builder.Services.AddSingleton<OutboundExecutor>();
        // Checked when the host starts: a setting that makes no sense stops the process with its name, rather
        // than surfacing as odd behaviour (an oversell mode spelled "exception" would silently backorder).
        builder.Services.AddOptions<OutboundOptions>().BindConfiguration(OutboundOptions.Section)
            .Validate(o => o.RetryBaseDelay > TimeSpan.Zero && o.MaxDelay >= o.RetryBaseDelay,
                $"{OutboundOptions.Section}: RetryBaseDelay must be positive and MaxDelay at least RetryBaseDelay.")
            .Validate(o => o.MaxAttempts >= 1 && o.Concurrency >= 1 && o.BatchSize >= 1 && o.BatchSizes.Values.All(v => v >= 1),
                $"{OutboundOptions.Section}: MaxAttempts, Concurrency, BatchSize and every BatchSizes value must be at least 1.")
            .Validate(o => o.CrmContextWait >= TimeSpan.Zero && o.SweepPeriod > TimeSpan.Zero && o.SweepAge > TimeSpan.Zero,
                $"{OutboundOptions.Section}: CrmContextWait must not be negative; SweepPeriod and SweepAge must be positive.")
            .ValidateOnStart();
        builder.Services.AddOptions<RetailSync.Refunds.RefundOptions>().BindConfiguration(RetailSync.Refunds.RefundOptions.Section)
            .Validate(o => o.Deadline > TimeSpan.Zero, $"{RetailSync.Refunds.RefundOptions.Section}: Deadline must be positive.")
            .ValidateOnStart();
        builder.Services.AddOptions<RetailSync.Customers.IdentityOptions>().BindConfiguration(RetailSync.Customers.IdentityOptions.Section);
        builder.Services.AddOptions<RetailSync.Inventory.InventoryOptions>().BindConfiguration(RetailSync.Inventory.InventoryOptions.Section)
            .Validate(o => o.Oversell is RetailSync.Inventory.OversellActions.Backorder or RetailSync.Inventory.OversellActions.Exception,
                $"{RetailSync.Inventory.InventoryOptions.Section}: Oversell must be {RetailSync.Inventory.OversellActions.Backorder} or {RetailSync.Inventory.OversellActions.Exception} (as written).")
            .Validate(o => o.PushDelay >= TimeSpan.Zero && o.AllocationGrace >= TimeSpan.Zero && o.PollPeriod >= TimeSpan.Zero && o.DriftCheckPeriod >= TimeSpan.Zero,
                $"{RetailSync.Inventory.InventoryOptions.Section}: PushDelay, AllocationGrace, PollPeriod and DriftCheckPeriod must not be negative.")
            .ValidateOnStart();
        if (sandbox)
        {
            // The sandbox ERP counts stock at MAIN; the sandbox shop has one location, 1.
            builder.Services.PostConfigure<RetailSync.Inventory.InventoryOptions>(o =>
            {
                if (o.Locations.Count == 0)
                {
                    o.Locations["MAIN"] = "1";
                }
            });

            // The sandbox runs on this process's own Kestrel, whose port is known only once it listens;
            // options are first read by a connector call, after that.
            builder.Services.AddOptions<ConnectorOptions>().PostConfigure<IServer>((o, server) =>
            {
                var self = SelfAddress(server);
                // The sandbox shop's Dev Dashboard app: tokens from the client-credentials grant, as for a retailer's own store.
                if (string.IsNullOrEmpty(o.Shopify.AccessToken) && string.IsNullOrEmpty(o.Shopify.ClientId))
                {
                    o.Shopify.Endpoint = $"{self}/sandbox/shopify";
                    o.Shopify.ClientId = ShopifySimulator.AppClientId;
                    o.Shopify.ClientSecret = ShopifySimulator.AppClientSecret;
                }

                // The sandbox org is reached like a real one: a connected app's client-credentials token, and the
                // instance URL its answer names.
                if (string.IsNullOrEmpty(o.Salesforce.AccessToken) && string.IsNullOrEmpty(o.Salesforce.ClientId))
                {
                    o.Salesforce.LoginUrl = $"{self}/sandbox/salesforce";
                    o.Salesforce.ClientId = SalesforceSimulator.ConnectedAppId;
                    o.Salesforce.ClientSecret = SalesforceSimulator.ConnectedAppSecret;
                    o.Salesforce.GuestAccountId = SalesforceSimulator.GuestAccountId;
                }

                // Business Central through an Entra ID app registration, its tokens from MSAL (carried to the sandbox's Entra).
                if (string.IsNullOrEmpty(o.BusinessCentral.AccessToken) && string.IsNullOrEmpty(o.BusinessCentral.ClientId))
                {
                    o.BusinessCentral.BaseUrl = $"{self}/sandbox/bc/v2.0/sandbox/api/v2.0";
                    o.BusinessCentral.CompanyId = BusinessCentralSimulator.CompanyId;
                    o.BusinessCentral.TenantId = BusinessCentralSimulator.TenantId;
                    o.BusinessCentral.ClientId = BusinessCentralSimulator.ClientId;
                    o.BusinessCentral.ClientSecret = BusinessCentralSimulator.ClientSecret;
                    o.BusinessCentral.SandboxEntraUrl = $"{self}/sandbox/entra";
                }

                if (string.IsNullOrEmpty(o.BusinessCentral.WriteOffAccount))
                {
                    o.BusinessCentral.WriteOffAccount = BusinessCentralSimulator.WriteOffAccount;
                }
            });
        }
    }

    private static string SelfAddress(IServer server)
    {
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? "http://127.0.0.1:5080";
        return address.Replace("://0.0.0.0:", "://127.0.0.1:", StringComparison.Ordinal)
            .Replace("://[::]:", "://127.0.0.1:", StringComparison.Ordinal)
            .Replace("://+:", "://127.0.0.1:", StringComparison.Ordinal)
            .TrimEnd('/');
    }
}
