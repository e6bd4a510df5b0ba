using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using RetailSync.Gateway.Configuration;

namespace RetailSync.Gateway.Hosting;

/// <summary>The standalone gateway: an Orleans client of a PostgreSQL-backed cluster.</summary>
public static class GatewayClient
{
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        ClusterModeGuard.EnsureValid(builder.Configuration, servesWebhooksAndApi: true);
        builder.UseOrleansClient(client => ClusterClient.Configure(client, builder.Configuration));
        builder.UseDefaultUrlUnlessConfigured("http://127.0.0.1:5090");
        builder.AddRetailSyncApi(webhookInbox: true, developmentDefaults: false);

        var app = builder.Build();
        app.UseRetailSyncErrors();
        app.MapRetailSyncApi();
        return app;
    }
}
