using Microsoft.AspNetCore.Http;

namespace RetailSync.Sandbox.Faults;

/// <summary>Applies a system's faults before its simulator runs, answering in that vendor's own error shapes.</summary>
public sealed class FaultFilter(SystemTraffic traffic, Func<HttpContext, FaultKind, IResult> vendorError) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
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
