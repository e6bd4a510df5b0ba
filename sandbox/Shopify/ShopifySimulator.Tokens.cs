using Microsoft.AspNetCore.Http;

namespace RetailSync.Sandbox.Shopify;

/// <summary>
/// <c>POST /admin/oauth/access_token</c> with the client-credentials grant of a Dev Dashboard app installed on the shop:
/// a token that lives <c>expires_in</c> seconds (86399, as Shopify answers), after which the Admin API refuses it with its 401.
/// </summary>
public sealed partial class ShopifySimulator
{
    public const string AppClientId = "sandbox-dev-dashboard-app-client-id";
    public const string AppClientSecret = "sandbox-dev-dashboard-app-client-secret";

    public IssuedTokens Tokens => LazyInitializer.EnsureInitialized(ref issuedTokens, () => new IssuedTokens(clock, TimeSpan.FromSeconds(86_399), AccessToken));

    private IssuedTokens? issuedTokens;

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

        return Results.Json(new Dictionary<string, object>
        {
            ["access_token"] = Tokens.Issue("shpat_"),
            ["scope"] = "read_orders,write_orders,read_inventory,write_inventory,read_products,read_customers",
            ["expires_in"] = (int)Tokens.Lifetime.TotalSeconds,
        });
    }

    private static IResult OAuthError(int status, string error, string description) =>
        Results.Json(new Dictionary<string, string> { ["error"] = error, ["error_description"] = description }, statusCode: status);
}
