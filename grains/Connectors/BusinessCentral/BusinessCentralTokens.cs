using Microsoft.Extensions.Options;
using Microsoft.Identity.Client;

namespace RetailSync.Connectors.BusinessCentral;

/// <summary>
/// The bearer token for Business Central. With an Entra ID app registration configured (<c>TenantId</c>, <c>ClientId</c>,
/// <c>ClientSecret</c>) it is MSAL's client-credentials token for the Business Central API scope: MSAL keeps it in its
/// cache and gets a new one before it expires. When Business Central still answers 401, the token that failed is
/// replaced once, whoever else saw it fail. Without an app registration the configured static token is used.
/// </summary>
public sealed class BusinessCentralTokens(IOptionsMonitor<ConnectorOptions> options)
{
    public const string Scope = "https://api.businesscentral.dynamics.com/.default";
    private const string EntraHost = "login.microsoftonline.com";

    private readonly SemaphoreSlim renewing = new(1, 1);
    private IConfidentialClientApplication? app;
    private long fromEntra;

    public bool CanRenew => !string.IsNullOrEmpty(options.CurrentValue.BusinessCentral.ClientId);

    /// <summary>Tokens MSAL fetched from Entra ID (not served from its cache) since the process started.</summary>
    public long FromEntra => Interlocked.Read(ref fromEntra);

    /// <summary>The token to call with; a new one when <paramref name="failed"/> is the one MSAL would hand out again.</summary>
    public async Task<string> TokenAsync(string? failed, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue.BusinessCentral;
        if (!CanRenew)
        {
            return settings.AccessToken;
        }

        var cached = await AcquireAsync(forceRefresh: false, cancellationToken);
        if (failed is null || cached != failed)
        {
            return cached;
        }

        await renewing.WaitAsync(cancellationToken);
        try
        {
            var current = await AcquireAsync(forceRefresh: false, cancellationToken);
            return current != failed ? current : await AcquireAsync(forceRefresh: true, cancellationToken);
        }
        finally
        {
            renewing.Release();
        }
    }

    private async Task<string> AcquireAsync(bool forceRefresh, CancellationToken cancellationToken)
    {
        try
        {
            // One MSAL application (and so one token cache) per process, also when the first calls race.
            var result = await LazyInitializer.EnsureInitialized(ref app, () => Build(options.CurrentValue.BusinessCentral))
                .AcquireTokenForClient([Scope]).WithForceRefresh(forceRefresh).ExecuteAsync(cancellationToken);
            if (result.AuthenticationResultMetadata.TokenSource == TokenSource.IdentityProvider)
            {
                Interlocked.Increment(ref fromEntra);
            }

            return result.AccessToken;
        }
        catch (MsalServiceException ex)
        {
            // invalid_client (AADSTS7000215, a wrong secret), unauthorized_client, invalid_scope: the registration is wrong.
            var transient = ex.IsRetryable || ex.StatusCode is 429 or >= 500;
            throw new ConnectorException(BusinessCentralClient.SystemName, transient ? FailureKind.Transient : FailureKind.Permanent,
                ex.ErrorCode, $"Entra ID refused the token request: {ex.Message}", ex);
        }
        catch (MsalClientException ex) when (ex.ErrorCode is "request_timeout" or "service_not_available")
        {
            throw new ConnectorException(BusinessCentralClient.SystemName, FailureKind.Transient, ex.ErrorCode, ex.Message, ex);
        }
        catch (HttpRequestException ex)
        {
            throw new ConnectorException(BusinessCentralClient.SystemName, FailureKind.Transient, nameof(HttpRequestException), ex.Message, ex);
        }
    }

    private static IConfidentialClientApplication Build(BusinessCentralConnectorOptions settings)
    {
        var builder = ConfidentialClientApplicationBuilder.Create(settings.ClientId)
            .WithClientSecret(settings.ClientSecret)
            .WithAuthority($"https://{EntraHost}/{settings.TenantId}");
        if (!string.IsNullOrEmpty(settings.SandboxEntraUrl))
        {
            // MSAL takes only HTTPS authorities and knows Entra's hosts; the sandbox listens on plain loopback HTTP. So the
            // authority stays Entra's and only the transport under MSAL carries its requests to the sandbox.
            builder = builder.WithHttpClientFactory(new ToSandbox(settings.SandboxEntraUrl)).WithInstanceDiscovery(false);
        }

        return builder.Build();
    }

    private sealed class ToSandbox(string sandbox) : IMsalHttpClientFactory
    {
        private readonly HttpClient http = new(new Redirect(new Uri(sandbox.TrimEnd('/') + "/")) { InnerHandler = new SocketsHttpHandler() });

        public HttpClient GetHttpClient() => http;
    }

    private sealed class Redirect(Uri sandbox) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri is { Host: EntraHost } entra)
            {
                request.RequestUri = new Uri(sandbox, entra.PathAndQuery.TrimStart('/'));
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
