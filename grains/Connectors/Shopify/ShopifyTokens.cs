using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace RetailSync.Connectors.Shopify;

/// <summary>
/// Each shop's Admin API token. With a Dev Dashboard app configured (<c>ClientId</c>/<c>ClientSecret</c>) it comes from
/// the client-credentials grant at <c>https://{shop}/admin/oauth/access_token</c>, lives what <c>expires_in</c> says
/// (24 hours) and is replaced a tenth of its lifetime before that, or at once, once for everyone, when Shopify answers 401.
/// Without one, the configured static token is sent. The grant can be repeated at any time, so tokens stay in memory.
/// </summary>
public sealed class ShopifyTokens(HttpClient http, IOptionsMonitor<ConnectorOptions> options, TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, Shop> shops = new(StringComparer.OrdinalIgnoreCase);
    private long granted;

    public bool CanRenew => !string.IsNullOrEmpty(options.CurrentValue.Shopify.ClientId);

    /// <summary>Tokens granted since the process started.</summary>
    public long Granted => Interlocked.Read(ref granted);

    public async Task<string> TokenAsync(string shop, string? failed, CancellationToken cancellationToken)
    {
        if (!CanRenew)
        {
            return options.CurrentValue.Shopify.AccessToken;
        }

        var entry = shops.GetOrAdd(shop, _ => new Shop());
        if (entry.Current is { } current && current.Token != failed && clock.GetUtcNow() < current.RenewAt)
        {
            return current.Token;
        }

        await entry.Renewing.WaitAsync(cancellationToken);
        try
        {
            if (entry.Current is { } other && other.Token != failed && clock.GetUtcNow() < other.RenewAt)
            {
                return other.Token;
            }

            entry.Current = await GrantAsync(shop, cancellationToken);
            Interlocked.Increment(ref granted);
            return entry.Current.Token;
        }
        finally
        {
            entry.Renewing.Release();
        }
    }

    private async Task<Grant> GrantAsync(string shop, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue.Shopify;
        var issuedAt = clock.GetUtcNow();
        var body = await OAuthClientCredentials.RequestAsync(http,
            $"{settings.Endpoint.Replace("{shop}", shop, StringComparison.Ordinal).TrimEnd('/')}/admin/oauth/access_token",
            settings.ClientId, settings.ClientSecret, ShopifyAdminClient.SystemName, "access_token", cancellationToken);
        var lifetime = TimeSpan.FromSeconds(body["expires_in"]?.GetValue<double>() ?? 86_399);
        return new Grant(body["access_token"]!.GetValue<string>(), issuedAt + lifetime * 0.9);
    }

    private sealed class Shop
    {
        public SemaphoreSlim Renewing { get; } = new(1, 1);

        public Grant? Current { get; set; }
    }

    private sealed record Grant(string Token, DateTimeOffset RenewAt);
}
