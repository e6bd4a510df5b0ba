using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using RetailSync.Connectors.BusinessCentral;
using RetailSync.Connectors.Salesforce;
using RetailSync.Connectors.Shopify;
using RetailSync.Connectors.Tryton;

namespace RetailSync.Connectors.Resilience;

public static class ConnectorRegistration
{
    /// <summary>The three adapters (the ERP one chosen by <see cref="ConnectorOptions.Erp"/>), each behind its own resilience pipeline (design section 6).</summary>
    public static IServiceCollection AddRetailSyncConnectors(this IServiceCollection services)
    {
        services.AddOptions<ConnectorOptions>().BindConfiguration(ConnectorOptions.Section);
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<ConnectorHealth>();

        AddPipeline(services, ShopifyAdminClient.SystemName, o => o.Shopify.RequestsPerSecond);
        AddPipeline(services, SalesforceClient.SystemName, o => o.Salesforce.RequestsPerSecond);
        AddPipeline(services, BusinessCentralClient.SystemName, o => o.BusinessCentral.RequestsPerSecond);
        AddPipeline(services, TrytonClient.SystemName, o => o.Tryton.RequestsPerSecond);

        services.TryAddSingleton<IShopifyAdmin>(sp => ActivatorUtilities.CreateInstance<ShopifyAdminClient>(sp, Client(sp, ShopifyAdminClient.SystemName)));
        services.TryAddSingleton(sp => ActivatorUtilities.CreateInstance<SalesforceSession>(sp, Client(sp, SalesforceClient.SystemName)));
        services.TryAddSingleton<BusinessCentralTokens>();
        services.TryAddSingleton(sp => ActivatorUtilities.CreateInstance<ShopifyTokens>(sp, Client(sp, ShopifyAdminClient.SystemName)));
        services.TryAddSingleton<ICrm>(sp => ActivatorUtilities.CreateInstance<SalesforceClient>(sp, Client(sp, SalesforceClient.SystemName)));
        services.TryAddSingleton<IErp>(sp => sp.GetRequiredService<IOptions<ConnectorOptions>>().Value.Erp switch
        {
            ErpKinds.BusinessCentral => ActivatorUtilities.CreateInstance<BusinessCentralClient>(sp, Client(sp, BusinessCentralClient.SystemName)),
            ErpKinds.Tryton => ActivatorUtilities.CreateInstance<TrytonClient>(sp, Client(sp, TrytonClient.SystemName)),
            var other => throw new InvalidOperationException($"{ConnectorOptions.Section}:Erp is '{other}': expected {ErpKinds.BusinessCentral} or {ErpKinds.Tryton}"),
        });
        return services;
    }

    private static HttpClient Client(IServiceProvider services, string system) => services.GetRequiredService<IHttpClientFactory>().CreateClient(system);

    private static void AddPipeline(IServiceCollection services, string system, Func<ConnectorOptions, double> limit)
    {
        services.AddHttpClient(system).AddResilienceHandler(system, (pipeline, context) =>
        {
            var sp = context.ServiceProvider;
            var options = sp.GetRequiredService<IOptionsMonitor<ConnectorOptions>>();
            var health = sp.GetRequiredService<ConnectorHealth>();
            var clock = sp.GetRequiredService<TimeProvider>();
            var limiter = new ClusterRateLimiter(sp.GetRequiredService<IGrainFactory>(), system,
                () => limit(options.CurrentValue), () => options.CurrentValue.RateLimitHeadroom, clock);

            pipeline
                .AddTimeout(TimeSpan.FromSeconds(60))
                .AddRetry(new HttpRetryStrategyOptions
                {
                    MaxRetryAttempts = 4,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    Delay = TimeSpan.FromMilliseconds(250),
                    ShouldRetryAfterHeader = true,
                    ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome, args.Context)),
                })
                .AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
                {
                    FailureRatio = 0.5,
                    MinimumThroughput = 5,
                    SamplingDuration = TimeSpan.FromSeconds(10),
                    BreakDuration = TimeSpan.FromSeconds(2),
                    OnOpened = _ =>
                    {
                        health.Record(system, "Open");
                        return ValueTask.CompletedTask;
                    },
                    OnHalfOpened = _ =>
                    {
                        health.Record(system, "HalfOpen");
                        return ValueTask.CompletedTask;
                    },
                    OnClosed = _ =>
                    {
                        health.Record(system, "Closed");
                        return ValueTask.CompletedTask;
                    },
                })
                // Inside the retry: every attempt is a request the vendor counts.
                .AddRateLimiter(new HttpRateLimiterStrategyOptions { RateLimiter = args => limiter.AcquireAsync(1, args.Context.CancellationToken) })
                .AddTimeout(TimeSpan.FromSeconds(15));
        });
    }

    /// <summary>
    /// 429 and 503 mean the vendor did not process the request, so any method may be retried;
    /// otherwise a POST is not retried here (a lost answer could mean it was applied), its caller
    /// looks up what exists first and tries again.
    /// </summary>
    private static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, ResilienceContext context)
    {
        if (outcome.Result is { StatusCode: HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable })
        {
            return true;
        }

        var method = context.GetRequestMessage()?.Method;
        return method != HttpMethod.Post && HttpClientResiliencePredicates.IsTransient(outcome);
    }
}
