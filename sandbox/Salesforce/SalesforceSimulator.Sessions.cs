using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;

namespace RetailSync.Sandbox.Salesforce;

/// <summary>
/// The org's OAuth 2.0 token endpoint for a connected app's client-credentials flow, and the sessions it issues. As
/// Salesforce does, the answer names no lifetime; a session simply stops working once the org's timeout has passed
/// (<see cref="Sessions"/>, two hours by default) and is then refused with <c>401 INVALID_SESSION_ID</c>.
/// </summary>
public sealed partial class SalesforceSimulator
{
    public const string ConnectedAppId = "sandbox-connected-app-consumer-key";
    public const string ConnectedAppSecret = "sandbox-connected-app-consumer-secret";

    /// <summary>Sessions: the org's timeout (Salesforce's default is two hours) is their lifetime.</summary>
    public IssuedTokens Sessions => LazyInitializer.EnsureInitialized(ref issuedSessions, () => new IssuedTokens(clock, TimeSpan.FromHours(2), AccessToken));

    private IssuedTokens? issuedSessions;

    /// <summary>The static demo token, or a session issued here that has not timed out.</summary>
    private bool SessionValid(string authorization) =>
        authorization.StartsWith("Bearer ", StringComparison.Ordinal) && Sessions.Valid(authorization["Bearer ".Length..]);

    /// <summary><c>POST /services/oauth2/token</c>: form fields, or the client's id and secret as HTTP Basic credentials.</summary>
    public async Task<IResult> TokenAsync(HttpContext http)
    {
        if (!http.Request.HasFormContentType)
        {
            return OAuthError("invalid_request", "grant type is missing");
        }

        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var (clientId, secret) = ((string?)form["client_id"], (string?)form["client_secret"]);
        if (http.Request.Headers.Authorization.ToString() is { } basic && basic.StartsWith("Basic ", StringComparison.Ordinal)
            && Convert.FromBase64String(basic["Basic ".Length..]) is var raw && System.Text.Encoding.UTF8.GetString(raw).Split(':', 2) is [var id, var pass])
        {
            (clientId, secret) = (Uri.UnescapeDataString(id), Uri.UnescapeDataString(pass));
        }

        var grant = (string?)form["grant_type"];
        if (string.IsNullOrEmpty(grant))
        {
            return OAuthError("invalid_request", "grant type is missing");
        }

        if (grant != "client_credentials")
        {
            return OAuthError("unsupported_grant_type", "grant type not supported");
        }

        if (clientId != ConnectedAppId || secret != ConnectedAppSecret)
        {
            return OAuthError("invalid_client", "invalid client credentials");
        }

        var token = Sessions.Issue("00DSANDBOX000001!");
        var now = clock.GetUtcNow();
        var instance = $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}/sandbox/salesforce";
        return Results.Json(new Dictionary<string, string>
        {
            ["access_token"] = token,
            ["signature"] = Convert.ToBase64String(HMACSHA256.HashData(System.Text.Encoding.UTF8.GetBytes(ConnectedAppSecret), System.Text.Encoding.UTF8.GetBytes(token))),
            ["scope"] = "api",
            ["instance_url"] = instance,
            ["id"] = $"{instance}/id/00DSANDBOX000001/005SANDBOX000001",
            ["token_type"] = "Bearer",
            ["issued_at"] = now.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
        });
    }

    private static IResult OAuthError(string error, string description) =>
        Results.Json(new Dictionary<string, string> { ["error"] = error, ["error_description"] = description }, statusCode: 400);
}
