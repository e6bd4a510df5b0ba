using Microsoft.AspNetCore.Http;

namespace RetailSync.Sandbox.Faults;

/// <summary>Applies a system's faults before its simulator runs, answering in that vendor's own error shapes.</summary>
public sealed class FaultFilter(SystemTraffic traffic, Func<HttpContext, FaultKind, IResult> vendorError) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        // The time each request spends in here (injected latency included) is the vendor's own share of a
        // client's end-to-end latency; benchmarks subtract it to find what the client itself costs.
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            return await ApplyAsync(context, next);
        }
        finally
        {
            traffic.RecordServed(System.Diagnostics.Stopwatch.GetElapsedTime(started));
        }
    }

    private async ValueTask<object?> ApplyAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var faults = traffic.Faults;
        if (faults.LatencyMs > 0)
        {
            await Task.Delay(faults.LatencyMs, context.HttpContext.RequestAborted);
        }

        if (faults.Outage)
        {
            traffic.Admit();
            return vendorError(context.HttpContext, FaultKind.Outage);
        }

        if (!traffic.Admit())
        {
            return vendorError(context.HttpContext, FaultKind.RateLimited);
        }

        return traffic.InjectError() ? vendorError(context.HttpContext, FaultKind.ServerError) : await next(context);
    }
}

public enum FaultKind
{
    Outage,
    RateLimited,
    ServerError,
}
