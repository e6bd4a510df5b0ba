using System.Security.Cryptography;

namespace RetailSync.Sandbox;

/// <summary>
/// The bearer tokens one simulated authorization server has issued, each working until its lifetime has passed, and the
/// vendor's static demo token, which always works. Shared by the Shopify, Salesforce and Entra ID token endpoints.
/// </summary>
public sealed class IssuedTokens(TimeProvider clock, TimeSpan lifetime, string staticToken)
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, DateTimeOffset> expiries = new(StringComparer.Ordinal);

    /// <summary>How long a token issued from now on works.</summary>
    public TimeSpan Lifetime { get; set; } = lifetime;

    /// <summary>What <see cref="Lifetime"/> returns to on a reset (<c>RetailSync:Sandbox:TokenLifetime</c> sets both).</summary>
    public TimeSpan DefaultLifetime { get; set; } = lifetime;

    /// <summary>Tokens issued since the last reset.</summary>
    public int Issued { get; private set; }

    public string Issue(string prefix)
    {
        var token = prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        lock (gate)
        {
            expiries[token] = clock.GetUtcNow() + Lifetime;
            Issued++;
        }

        return token;
    }

    public bool Valid(string token)
    {
        lock (gate)
        {
            return token == staticToken || (expiries.TryGetValue(token, out var expires) && clock.GetUtcNow() < expires);
        }
    }

    /// <summary>Like the lifetime passing at once: every issued token is refused from now on.</summary>
    public void ExpireAll()
    {
        lock (gate)
        {
            foreach (var token in expiries.Keys.ToList())
            {
                expiries[token] = DateTimeOffset.MinValue;
            }
        }
    }

    public void Reset()
    {
        lock (gate)
        {
            expiries.Clear();
            Issued = 0;
            Lifetime = DefaultLifetime;
        }
    }
}
