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
        // One instance for the process, so its cached answer is shared by every caller.
        services.AddSingleton<ClusterStorageHealthCheck>();
        services.AddHealthChecks().Add(new HealthCheckRegistration("cluster-storage", sp => sp.GetRequiredService<ClusterStorageHealthCheck>(), null, [ReadyTag]));
        return services;
    }

    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag) });
        return app;
    }
}

/// <summary>
/// Ready means a grain answers and its state write reaches storage. The probe is unauthenticated and writes,
/// so its answer is kept for <see cref="CacheFor"/> and concurrent callers share one probe: a flood of calls
/// costs one storage write every few seconds, not one each.
/// </summary>
internal sealed class ClusterStorageHealthCheck(IClusterClient client, TimeProvider clock) : IHealthCheck
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);

    private readonly Lock gate = new();
    private Task<HealthCheckResult>? probe;
    private DateTimeOffset probedAt;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            var now = clock.GetUtcNow();
            if (probe is null || (probe.IsCompleted && now - probedAt >= CacheFor))
            {
                probedAt = now;
                probe = ProbeAsync();
            }

            return probe.WaitAsync(cancellationToken);
        }
    }

    private async Task<HealthCheckResult> ProbeAsync()
    {
        try
        {
            var result = await client.GetGrain<IHealthProbeGrain>("ready").TouchAsync().WaitAsync(TimeSpan.FromSeconds(5));
            return HealthCheckResult.Healthy($"storage write #{result.Touches} on {result.Silo}");
        }
        catch (Exception ex)
        {
            return HealthCheckResult.Unhealthy("cluster or storage unavailable", ex);
        }
    }
}
