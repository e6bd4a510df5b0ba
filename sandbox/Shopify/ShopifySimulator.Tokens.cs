using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;

namespace RetailSync.Sandbox.Shopify;

/// <summary>
/// <c>POST /admin/oauth/access_token</c> with the client-credentials grant of a Dev Dashboard app installed on the shop:
/// a token that lives <c>expires_in</c> seconds (86399, as Shopify answers; <see cref="TokenLifetime"/> in tests), after
/// which the Admin API refuses it with its 401.
/// </summary>
public sealed partial class ShopifySimulator
{
    public const string AppClientId = "sandbox-dev-dashboard-app-client-id";
    public const string AppClientSecret = "sandbox-dev-dashboard-app-client-secret";

    private readonly Dictionary<string, DateTimeOffset> tokens = new(StringComparer.Ordinal);

    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromSeconds(86_399);

    /// <summary>What <see cref="TokenLifetime"/> returns to on a reset (<c>RetailSync:Sandbox:TokenLifetime</c> sets both).</summary>
    public TimeSpan DefaultTokenLifetime { get; set; } = TimeSpan.FromSeconds(86_399);

    public int TokensIssued { get; private set; }

    /// <summary>Like the day passing: every granted token is refused from now on.</summary>
    public void ExpireTokens()
    {
        lock (gate)
        {
            foreach (var token in tokens.Keys.ToList())
            {
                tokens[token] = DateTimeOffset.MinValue;
            }
        }
    }

    private void ResetTokens()
    {
        tokens.Clear();
        TokensIssued = 0;
        TokenLifetime = DefaultTokenLifetime;
    }

    private bool TokenValid(string token)
    {
        lock (gate)
        {
            return token == AccessToken || (tokens.TryGetValue(token, out var expires) && clock.GetUtcNow() < expires);
        }
    }

    public async Task<IResult> TokenAsync(HttpContext http)
    {
        var form = http.Request.HasFormContentType ? await http.Request.ReadFormAsync(http.RequestAborted) : null;
        if (form is null || string.IsNullOrEmpty(form["grant_type"]))
        {
            return OAuthError(400, "invalid_request", "The request is missing a required parameter: grant_type.");
        }

        if ((string?)form["grant_type"] != "client_credentials")
        {
            return OAuthError(400, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server.");
        }

        if ((string?)form["client_id"] != AppClientId || (string?)form["client_secret"] != AppClientSecret)
        {
            return OAuthError(400, "invalid_client", "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.");
        }

        var token = "shpat_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        lock (gate)
        {
            tokens[token] = clock.GetUtcNow() + TokenLifetime;
            TokensIssued++;
        }

        return Results.Json(new Dictionary<string, object>
        {
            ["access_token"] = token,
            ["scope"] = "read_orders,write_orders,read_inventory,write_inventory,read_products,read_customers",
            ["expires_in"] = (int)TokenLifetime.TotalSeconds,
        });
    }

    private static IResult OAuthError(int status, string error, string description) =>
        Results.Json(new Dictionary<string, string> { ["error"] = error, ["error_description"] = description }, statusCode: status);
}
