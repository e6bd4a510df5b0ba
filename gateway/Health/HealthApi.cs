using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using RetailSync.Platform;

namespace RetailSync.Gateway.Health;

public static class HealthApi
{
    private const string ReadyTag = "ready";

    public static IServiceCollection AddRetailSyncHealth(this IServiceCollection services)
    {
        services.AddHealthChecks().AddCheck<ClusterStorageHealthCheck>("cluster-storage", tags: [ReadyTag]);
        return services;
    }

    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag) });
        return app;
    }
}

/// <summary>Ready means a grain answers and its state write reaches storage.</summary>
internal sealed class ClusterStorageHealthCheck(IClusterClient client) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var result = await client.GetGrain<IHealthProbeGrain>("ready").TouchAsync()
                .WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            return HealthCheckResult.Healthy($"storage write #{result.Touches} on {result.Silo}");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy("cluster or storage unavailable", ex);
        }
    }
}
