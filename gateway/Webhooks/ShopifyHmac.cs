using System.Security.Cryptography;
using System.Text;

namespace RetailSync.Gateway.Webhooks;

/// <summary>Shopify's webhook signature: base64 HMAC-SHA256 of the raw body with the app's secret.</summary>
public static class ShopifyHmac
{
    public static string Sign(ReadOnlySpan<byte> body, string secret) =>
        Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    /// <summary>Constant-time check against each accepted secret (the current one and, during rotation, the previous).</summary>
    public static bool Verify(ReadOnlySpan<byte> body, string? header, params string?[] secrets) =>
        Verify(new System.Buffers.ReadOnlySequence<byte>(body.ToArray()), header, secrets);

    /// <inheritdoc cref="Verify(ReadOnlySpan{byte}, string?, string?[])"/>
    public static bool Verify(System.Buffers.ReadOnlySequence<byte> body, string? header, params string?[] secrets)
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

            // Over the pooled blocks as they are: the body is not copied before it is authenticated.
            using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret));
            foreach (var segment in body)
            {
                hmac.AppendData(segment.Span);
            }

            hmac.GetHashAndReset(actual);
            // Evaluate every secret so timing does not reveal which one matched.
            valid |= CryptographicOperations.FixedTimeEquals(actual, claimed);
        }

        return valid;
    }
}
