using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;

namespace RetailSync.Sandbox.BusinessCentral;

/// <summary>
/// Microsoft Entra ID's v2.0 token endpoint (<c>/{tenant}/oauth2/v2.0/token</c>) for one app registration's
/// client-credentials grant, and the tokens Business Central accepts from it: valid for <see cref="Tokens"/>' lifetime
/// (about an hour, as Entra issues them), then refused with Business Central's 401.
/// </summary>
public sealed partial class BusinessCentralSimulator
{
    public const string TenantId = "6f0c2b1e-5a4d-4c3b-9e8f-7a6b5c4d3e2f";
    public const string ClientId = "3a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
    public const string ClientSecret = "sandbox-entra-client-secret-value";

    /// <summary>Entra ID's tokens for Business Central (about an hour, as Entra issues them).</summary>
    public IssuedTokens Tokens => LazyInitializer.EnsureInitialized(ref issuedTokens, () => new IssuedTokens(clock, TimeSpan.FromSeconds(3599), AccessToken));

    private IssuedTokens? issuedTokens;

    private bool TokenValid(string authorization) =>
        authorization.StartsWith("Bearer ", StringComparison.Ordinal) && Tokens.Valid(authorization["Bearer ".Length..]);

    public async Task<IResult> TokenAsync(HttpContext http, string tenant)
    {
        if (!http.Request.HasFormContentType)
        {
            return EntraError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.");
        }

        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        if (!string.Equals(tenant, TenantId, StringComparison.OrdinalIgnoreCase))
        {
            return EntraError(400, "invalid_request", 90002, $"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.");
        }

        if ((string?)form["grant_type"] != "client_credentials")
        {
            return EntraError(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.");
        }

        if ((string?)form["client_id"] != ClientId)
        {
            return EntraError(400, "unauthorized_client", 700016, $"Application with identifier '{(string?)form["client_id"]}' was not found in the directory.");
        }

        if ((string?)form["client_secret"] != ClientSecret)
        {
            return EntraError(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.");
        }

        if ((string?)form["scope"] != "https://api.businesscentral.dynamics.com/.default")
        {
            return EntraError(400, "invalid_scope", 1002012, $"The provided value for scope {(string?)form["scope"]} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.");
        }

        var token = Tokens.Issue("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.");
        var lifetime = (int)Tokens.Lifetime.TotalSeconds;
        return Results.Json(new Dictionary<string, object>
        {
            ["token_type"] = "Bearer",
            ["expires_in"] = lifetime,
            ["ext_expires_in"] = lifetime,
            ["access_token"] = token,
        });
    }

    private static IResult EntraError(int status, string error, int code, string description) =>
        Results.Json(new Dictionary<string, object>
        {
            ["error"] = error,
            ["error_description"] = $"AADSTS{code}: {description} Trace ID: {Guid.NewGuid()} Correlation ID: {Guid.NewGuid()} Timestamp: {DateTimeOffset.UtcNow.ToString("u", CultureInfo.InvariantCulture)}",
            ["error_codes"] = new[] { code },
            ["timestamp"] = DateTimeOffset.UtcNow.ToString("u", CultureInfo.InvariantCulture),
            ["trace_id"] = Guid.NewGuid().ToString(),
            ["correlation_id"] = Guid.NewGuid().ToString(),
            ["error_uri"] = $"https://login.microsoftonline.com/error?code={code}",
        }, statusCode: status);
}
