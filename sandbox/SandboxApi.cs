using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace RetailSync.Sandbox;

/// <summary>Simulated vendor APIs, mounted under <c>/sandbox</c> in the embedded default and in tests.</summary>
public static class SandboxApi
{
    public static IEndpointRouteBuilder MapSandbox(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/sandbox");
        group.MapGet("/", () => TypedResults.Ok(new { systems = Array.Empty<string>(), note = "simulated vendor APIs mount here" }));
        return app;
    }
}
