using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using RetailSync.Gateway.Configuration;

namespace RetailSync.Gateway.Api;

/// <summary><c>Authorization: Bearer &lt;api key&gt;</c> on the query and operations API.</summary>
internal sealed class ApiKeyFilter(IOptionsMonitor<RetailSyncOptions> options) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var header = context.HttpContext.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) && IsKnown(header[scheme.Length..].Trim()))
        {
            return await next(context);
        }

        context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
        return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "API key required",
            detail: "Send Authorization: Bearer <api key> (RetailSync:ApiKeys).");
    }

    private bool IsKnown(string presented)
    {
        var bytes = Encoding.UTF8.GetBytes(presented);
        var known = false;
        foreach (var key in options.CurrentValue.ApiKeys)
        {
            known |= CryptographicOperations.FixedTimeEquals(bytes, Encoding.UTF8.GetBytes(key));
        }

        return known;
    }
}
