using Microsoft.Extensions.Options;

namespace RetailSync.Connectors.Salesforce;

/// <summary>
/// The access token and instance URL the Salesforce adapter calls with. With a connected app configured
/// (<c>ClientId</c>/<c>ClientSecret</c>) they come from the OAuth 2.0 client-credentials flow at
/// <c>{LoginUrl}/services/oauth2/token</c>; Salesforce's answer names no lifetime (the org's session timeout
/// decides), so a token is kept until the org answers <c>401 INVALID_SESSION_ID</c> and then renewed once for
/// everyone who saw it fail. Without one, the configured static token and instance URL are used as they are.
/// Tokens stay in memory: the grant can be repeated at any time, so nothing needs storing.
/// </summary>
public sealed class SalesforceSession(HttpClient http, IOptionsMonitor<ConnectorOptions> options)
{
    private readonly SemaphoreSlim renewing = new(1, 1);
    private Grant? current;
    private long renewals;

    /// <summary>What a request is sent with; compared by reference to tell whether a failed token was renewed already.</summary>
    public sealed record Grant(string AccessToken, string InstanceUrl);

    /// <summary>Whether a failed session can be replaced (a connected app is configured), rather than being final.</summary>
    public bool CanRenew => !string.IsNullOrEmpty(options.CurrentValue.Salesforce.ClientId);

    /// <summary>Tokens obtained from the token endpoint since the process started.</summary>
    public long Renewals => Interlocked.Read(ref renewals);

    public async ValueTask<Grant> CurrentAsync(CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue.Salesforce;
        if (!CanRenew)
        {
            return new Grant(settings.AccessToken, settings.InstanceUrl);
        }

        return Volatile.Read(ref current) ?? await RenewAsync(null, cancellationToken);
    }

    /// <summary>A new token unless another caller already replaced <paramref name="failed"/>: one grant per expiry, not one per request.</summary>
    public async Task<Grant> RenewAsync(Grant? failed, CancellationToken cancellationToken)
    {
        await renewing.WaitAsync(cancellationToken);
        try
        {
            if (current is { } known && !ReferenceEquals(known, failed))
            {
                return known;
            }

            var grant = await RequestAsync(cancellationToken);
            Volatile.Write(ref current, grant);
            Interlocked.Increment(ref renewals);
            return grant;
        }
        finally
        {
            renewing.Release();
        }
    }

    private async Task<Grant> RequestAsync(CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue.Salesforce;
        // invalid_client, invalid_grant (the app's run-as user is missing): the connected app's settings are wrong.
        var body = await OAuthClientCredentials.RequestAsync(http, $"{settings.LoginUrl.TrimEnd('/')}/services/oauth2/token",
            settings.ClientId, settings.ClientSecret, SalesforceClient.SystemName, "access_token", cancellationToken);
        return body["instance_url"]?.GetValue<string>() is { Length: > 0 } instance
            ? new Grant(body["access_token"]!.GetValue<string>(), instance)
            : throw new ConnectorException(SalesforceClient.SystemName, FailureKind.Permanent, "NO_INSTANCE_URL", "the token answer named no instance_url");
    }
}
