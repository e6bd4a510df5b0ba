using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Orleans.Dashboard;
using RetailSync.Gateway.Configuration;
using RetailSync.Gateway.Health;
using RetailSync.Gateway.Hosting;
using RetailSync.Sandbox;
using RetailSync.Silo.Storage;
using RetailSync.Storage;

namespace RetailSync.Silo.Hosting;

/// <summary>Builds the silo process for the configured mode.</summary>
public static partial class SiloHost
{
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        var mode = HostingModes.Read(builder.Configuration);
        var embedded = mode == HostingMode.Embedded;
        var servesApi = builder.Configuration.GetValue("RetailSync:Silo:ServeApi", embedded);
        if (!embedded)
        {
            ClusterModeGuard.EnsureValid(builder.Configuration, servesApi);
            if (builder.Configuration.GetValue("RetailSync:Cluster:MigrateOnStart", true))
            {
                // Registered before Orleans so the schema exists when the providers load their queries.
                builder.Services.AddHostedService<SchemaMigrationService>();
            }
        }

        builder.UseOrleans(silo =>
        {
            if (embedded)
            {
                OrleansSiloConfiguration.ConfigureEmbedded(silo, builder.Configuration);
            }
            else
            {
                OrleansSiloConfiguration.ConfigureCluster(silo, builder.Configuration);
            }

            OrleansSiloConfiguration.ConfigureDashboard(silo, builder.Configuration);
        });

        var sandbox = builder.Configuration.GetValue("RetailSync:Sandbox:Enabled", embedded);
        if (sandbox)
        {
            builder.Services.AddSandbox();
        }

        builder.AddConnectors(sandbox);
        builder.UseDefaultUrlUnlessConfigured(DevelopmentDefaults.Url);
        builder.AddRetailSyncApi(webhookInbox: !embedded && servesApi, developmentDefaults: embedded);

        var app = builder.Build();
        app.UseRetailSyncErrors();
        if (servesApi)
        {
            app.MapRetailSyncApi();
        }
        else
        {
            app.MapHealthApi();
        }

        if (OrleansSiloConfiguration.DashboardEnabled(builder.Configuration))
        {
            app.MapOrleansDashboard(routePrefix: "/dashboard");
        }

        if (sandbox)
        {
            app.MapSandbox();
        }

        app.Lifetime.ApplicationStarted.Register(() => AnnounceUrls(app, mode));
        return app;
    }

    private static void AnnounceUrls(WebApplication app, HostingMode mode)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("RetailSync");
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        foreach (var address in addresses)
        {
            LogUrls(logger, mode, address);
        }

        if (mode == HostingMode.Embedded)
        {
            LogInMemory(logger);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "RetailSync {Mode} listening on {Address}: API {Address}/api/v1, webhooks {Address}/webhooks/shopify, dashboard {Address}/dashboard, sandbox {Address}/sandbox, health {Address}/health/ready")]
    private static partial void LogUrls(ILogger logger, HostingMode mode, string address);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Embedded default: all state is in memory and is lost when this process stops. Use cluster mode (RetailSync__Mode=Cluster) with PostgreSQL for anything real.")]
    private static partial void LogInMemory(ILogger logger);
}

internal sealed partial class SchemaMigrationService(IConfiguration configuration, ILogger<SchemaMigrationService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var applied = await SchemaMigrator.MigrateAsync(ClusterSettings.Read(configuration).ConnectionString, cancellationToken);
        LogMigrated(logger, applied.Count == 0 ? "none (schema up to date)" : string.Join(", ", applied));
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Schema migration applied: {Scripts}")]
    private static partial void LogMigrated(ILogger logger, string scripts);
}
