using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RetailSync.Gateway.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using RetailSync.Gateway.Api;
using RetailSync.Gateway.Health;
using RetailSync.Gateway.Webhooks;

namespace RetailSync.Gateway.Hosting;

public static class GatewayHosting
{
    /// <summary>Services of the HTTP API, whether it runs in the embedded silo or as a standalone gateway.</summary>
    /// <param name="webhookInbox">
    /// Cluster mode: Shopify deliveries are recorded in PostgreSQL's webhook inbox and forwarded to their
    /// grains from there (unless <c>RetailSync:WebhookInbox:Enabled</c> is false); otherwise in the grain itself.
    /// </param>
    /// <param name="developmentDefaults">
    /// Fill what is not configured with <see cref="DevelopmentDefaults"/>: only the embedded silo (one process with
    /// the sandbox) may. A standalone gateway never does, whatever the mode reads, because the defaults are public
    /// secrets: an ERP or CRM connector signed with one would accept anyone's stock and customer changes.
    /// </param>
    public static IHostApplicationBuilder AddRetailSyncApi(this IHostApplicationBuilder builder, bool webhookInbox, bool developmentDefaults)
    {
        var options = builder.Services.AddOptions<RetailSyncOptions>().BindConfiguration(RetailSyncOptions.Section);
        if (developmentDefaults)
        {
            options.PostConfigure(DevelopmentDefaults.Apply);
        }

        builder.Services.AddProblemDetails();
        builder.Services.AddRetailSyncHealth();
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.CamelCase;
            o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter());
        });
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ApiKeyFilter>();
        var inbox = builder.Configuration.GetSection("RetailSync:WebhookInbox").Get<WebhookInboxOptions>() ?? new WebhookInboxOptions();
        if (webhookInbox && inbox.Enabled)
        {
            var cluster = ClusterSettings.Read(builder.Configuration);
            builder.Services.AddSingleton(sp => new PostgresWebhookInbox(
                cluster.ConnectionString, cluster.ServiceId, inbox, sp.GetRequiredService<IClusterClient>(),
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<PostgresWebhookInbox>>()));
            builder.Services.AddSingleton<IWebhookIntake>(sp => sp.GetRequiredService<PostgresWebhookInbox>());
            builder.Services.AddSingleton<IWebhookBacklog>(sp => sp.GetRequiredService<PostgresWebhookInbox>());
            builder.Services.AddHostedService(sp => sp.GetRequiredService<PostgresWebhookInbox>());
        }
        else
        {
            builder.Services.AddSingleton<IWebhookIntake>(sp => new GrainWebhookIntake(sp.GetRequiredService<IClusterClient>()));
        }

        return builder;
    }

    /// <summary>Every endpoint of the public HTTP contract (design section 5).</summary>
    public static IEndpointRouteBuilder MapRetailSyncApi(this IEndpointRouteBuilder app)
    {
        app.MapHealthApi();
        app.MapShopifyWebhooks();
        app.MapErpWebhooks();
        app.MapCrmWebhooks();
        app.MapCustomersApi();
        app.MapQueryApi();
        app.MapOperationsApi();
        return app;
    }

    /// <summary>Binds to the documented default address unless the operator chose one.</summary>
    public static void UseDefaultUrlUnlessConfigured(this WebApplicationBuilder builder, string url)
    {
        var configured = !string.IsNullOrEmpty(builder.Configuration["urls"])
            || builder.Configuration.GetSection("Kestrel:Endpoints").Exists();
        if (!configured)
        {
            builder.WebHost.UseUrls(url);
        }
    }

    /// <summary>Problem details for exceptions and bare status codes, so every error body is RFC 9457.</summary>
    public static WebApplication UseRetailSyncErrors(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    internal static IResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail);
}
