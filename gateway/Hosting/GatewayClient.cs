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
        var cluster = ClusterSettings.Read(builder.Configuration);
        builder.UseOrleansClient(client =>
        {
            client.Configure<Orleans.Configuration.ClusterOptions>(o =>
            {
                o.ClusterId = cluster.ClusterId;
                o.ServiceId = cluster.ServiceId;
            });
            client.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = cluster.ConnectionString;
            });
        });
        builder.UseDefaultUrlUnlessConfigured("http://127.0.0.1:5090");
        builder.AddRetailSyncApi(webhookInbox: true, developmentDefaults: false);

        var app = builder.Build();
        app.UseRetailSyncErrors();
        app.MapRetailSyncApi();
        return app;
    }
}
