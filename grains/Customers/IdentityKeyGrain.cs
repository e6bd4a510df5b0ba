using System.Collections.Immutable;
using RetailSync.Intake;
using RetailSync.Platform;

namespace RetailSync.Customers;

/// <summary>
/// One match key. Single-threaded like every grain, so "is this email taken? then take it" is one
/// decision: the first claimant owns the key and every concurrent one is told who did.
/// </summary>
public sealed class IdentityKeyGrain(
    [PersistentState("identityKey", StorageNames.State)] IPersistentState<IdentityKeyState> state) : Grain, IIdentityKeyGrain
{
    /// <summary>
    /// A phone or address shared by this many customers is a switchboard, a parcel shop or test data, not a
    /// household: it stops producing candidates (like a stop word) instead of flooding the stewards.
    /// </summary>
    public const int MemberLimit = 20;

    private IdentityKeyState S => state.State;

    private bool Strong => MatchKeys.IsStrong(MatchKey.Parse(EntityKeys.Split(this.GetPrimaryKeyString()).Id).Kind);

    public async Task<string> ClaimAsync(string goldenId)
    {
        if (S.Owner is { } owner)
        {
            return owner;
        }

        S.Owner = goldenId;
        await this.WriteOrForgetAsync(state);
        return goldenId;
    }

    public Task<string?> OwnerAsync() => Task.FromResult(S.Owner);

    public async Task ReassignAsync(string from, string to)
    {
        var changed = false;
        if (S.Owner == from)
        {
            S.Owner = to;
            changed = true;
        }

        if (S.Members.Remove(from, out var name))
        {
            if (S.Owner != to)
            {
                S.Members.TryAdd(to, name);
            }

            changed = true;
        }

        if (changed)
        {
            await this.WriteOrForgetAsync(state);
        }
    }

    public async Task ReleaseAsync(string goldenId)
    {
        var changed = S.Members.Remove(goldenId);
        if (S.Owner == goldenId)
        {
            S.Owner = null;
            changed = true;
        }

        if (changed)
        {
            await this.WriteOrForgetAsync(state);
        }
    }

    public async Task<ImmutableDictionary<string, string>> JoinAsync(string goldenId, string nameKey)
    {
        if (Strong)
        {
            throw new InvalidOperationException("Strong keys are claimed, not joined.");
        }

        if (S.Members.Count >= MemberLimit && !S.Members.ContainsKey(goldenId))
        {
            return ImmutableDictionary<string, string>.Empty;
        }

        if (!S.Members.TryGetValue(goldenId, out var known) || known != nameKey)
        {
            S.Members[goldenId] = nameKey;
            await this.WriteOrForgetAsync(state);
        }

        return S.Members.Where(m => m.Key != goldenId).ToImmutableDictionary(StringComparer.Ordinal);
    }

    public async Task ShareAsync(string goldenId)
    {
        if (S.Owner != goldenId && S.Members.Count < MemberLimit && S.Members.TryAdd(goldenId, ""))
        {
            await this.WriteOrForgetAsync(state);
        }
    }

    public Task<ImmutableArray<string>> SharersAsync() => Task.FromResult(S.Members.Keys.Order(StringComparer.Ordinal).ToImmutableArray());

    /// <summary>Everyone carrying the key: its owner and those sharing it (strong), or its members (weak).</summary>
    public Task<ImmutableArray<string>> MembersAsync() =>
        Task.FromResult((S.Owner is { } owner ? [owner] : Enumerable.Empty<string>()).Concat(S.Members.Keys.Order(StringComparer.Ordinal)).ToImmutableArray());
}

[GenerateSerializer, Alias("RetailSync.Customers.IdentityKeyState")]
public sealed class IdentityKeyState
{
    [Id(0)] public string? Owner { get; set; }

    /// <summary>Weak keys: golden id → normalised <c>last|first</c> name. Strong keys: customers sharing the key without owning it.</summary>
    [Id(1)] public Dictionary<string, string> Members { get; set; } = new(StringComparer.Ordinal);
}
