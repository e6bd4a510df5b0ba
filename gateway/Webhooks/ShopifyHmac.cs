using System.Security.Cryptography;
using System.Text;

namespace RetailSync.Gateway.Webhooks;

/// <summary>Shopify's webhook signature: base64 HMAC-SHA256 of the raw body with the app's secret.</summary>
public static class ShopifyHmac
{
    public static string Sign(ReadOnlySpan<byte> body, string secret) =>
        Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    /// <summary>Constant-time check against each accepted secret (the current one and, during rotation, the previous).</summary>
    public static bool Verify(ReadOnlySpan<byte> body, string? header, params string?[] secrets)
    {
        Span<byte> claimed = stackalloc byte[32];
        if (string.IsNullOrEmpty(header) || !Convert.TryFromBase64String(header, claimed, out var written) || written != 32)
        {
            return false;
        }

        Span<byte> actual = stackalloc byte[32];
        var valid = false;
        foreach (var secret in secrets)
        {
            if (string.IsNullOrEmpty(secret))
            {
                continue;
            }

            HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body, actual);
            // Evaluate every secret so timing does not reveal which one matched.
            valid |= CryptographicOperations.FixedTimeEquals(actual, claimed);
        }

        return valid;
    }
}
