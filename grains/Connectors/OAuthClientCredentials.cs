using System.Text.Json.Nodes;

namespace RetailSync.Connectors;

/// <summary>
/// The OAuth 2.0 client-credentials request (RFC 6749 section 4.4) as Shopify and Salesforce take it: a form with the
/// grant type, client id and secret. A refusal becomes a <see cref="ConnectorException"/> with the server's
/// <c>error</c> and <c>error_description</c>: permanent (the app's settings are wrong) unless the server was busy.
/// </summary>
internal static class OAuthClientCredentials
{
    /// <summary>The token endpoint's answer when it holds <paramref name="required"/>; throws otherwise.</summary>
    public static async Task<JsonObject> RequestAsync(HttpClient http, string url, string clientId, string clientSecret, string system,
        string required, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["client_id"] = clientId,
                ["client_secret"] = clientSecret,
            }),
        };
        var response = await Transport.SendAsync(http, request, system, cancellationToken,
            configured: !string.IsNullOrEmpty(clientId) && !string.IsNullOrEmpty(clientSecret));
        using (response)
        {
            var body = await Transport.ReadJsonAsync(response, cancellationToken) as JsonObject;
            if (response.IsSuccessStatusCode && body?[required]?.GetValue<string>() is { Length: > 0 })
            {
                return body;
            }

            var status = (int)response.StatusCode;
            var code = body?["error"]?.GetValue<string>() ?? status.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var description = body?["error_description"]?.GetValue<string>() ?? body?.ToJsonString() ?? "the token endpoint answered without a token";
            throw new ConnectorException(system, status is 429 or >= 500 ? FailureKind.Transient : FailureKind.Permanent, code,
                $"the token request was refused: {description}");
        }
    }
}
