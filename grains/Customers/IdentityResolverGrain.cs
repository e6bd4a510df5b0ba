using System.Collections.Immutable;
using Orleans.Concurrency;
using RetailSync.Intake;
using RetailSync.Operations;

namespace RetailSync.Customers;

/// <summary>
/// The match rules, run against the key and customer grains:
/// <list type="number">
/// <item>The strongest key that already has an owner picks the golden customer (a source id, then a loyalty id,
/// then email with first name, then email); none: a new golden id claims the strongest key, and whoever
/// claimed it first owns it (two concurrent sign-ups end in one customer).</item>
/// <item>The record is linked there; a customer found only by a shared email whose first names disagree
/// refuses it: the record gets its own customer and a merge candidate.</item>
/// <item>The record's other strong keys are claimed for the customer; one owned by another customer means
/// both are one person: they merge automatically (the older survives).</item>
/// <item>Weak keys (phone with the same last name; billing address with the same name) only raise merge
/// candidates for a data steward.</item>
/// </list>
/// Customers always call customers with a greater id (the survivor calls the absorbed), never back, so
/// concurrent merges cannot deadlock.
/// </summary>
[StatelessWorker]
public sealed class IdentityResolverGrain : Grain, IIdentityResolverGrain
{
    private const int RedirectLimit = 16;

    private IIdentityKeyGrain Key(string tenant, MatchKey key) => GrainFactory.GetGrain<IIdentityKeyGrain>($"{tenant}/{key}");

    private ICustomerGrain Customer(string tenant, string goldenId) => GrainFactory.GetGrain<ICustomerGrain>(EntityKeys.ForShop(tenant, goldenId));

    public async Task<Resolution> ResolveAsync(string tenant, SourceRecord record)
    {
        var keys = MatchKeys.From(record);
        var strong = keys.Where(k => k.Strong).ToList();
        if (strong.Count == 0 && record.GoldenId is null)
        {
            return new(null, "unattached", "no email, loyalty id or source id to match on: left unattached");
        }

        var owners = await Task.WhenAll(strong.Select(k => Key(tenant, k).OwnerAsync()));
        string? target = record.GoldenId;
        var evidence = new MatchEvidence("external id", "golden");
        for (var i = 0; target is null && i < strong.Count; i++)
        {
            if (owners[i] is { } owner)
            {
                target = owner;
                evidence = new MatchEvidence(MatchRules.SharedKey(strong[i].Kind), strong[i].Kind);
            }
        }

        var created = false;
        if (target is null)
        {
            var fresh = GoldenIds.New();
            target = await Key(tenant, strong[0]).ClaimAsync(fresh);
            created = target == fresh;
            evidence = created ? new MatchEvidence(MatchRules.NewCustomer, null) : new MatchEvidence(MatchRules.SharedKey(strong[0].Kind), strong[0].Kind);
            owners[0] = target;
        }

        var link = await LinkFollowingAsync(tenant, target, record, evidence, created);
        if (link.Status == LinkStatus.Redacted)
        {
            return new(null, "unattached", "the person behind these keys asked to be forgotten");
        }

        if (link.Status == LinkStatus.Conflict)
        {
            return await SeparateAsync(tenant, record, strong, link);
        }

        target = link.GoldenId;
        created = link.Status == LinkStatus.Created;

        // The record's other strong keys: claimed for this customer, or proof that another customer is the same person.
        var claims = await Task.WhenAll(strong.Select((k, i) => owners[i] == target ? Task.FromResult(target) : Key(tenant, k).ClaimAsync(target)));
        var merged = ImmutableArray.CreateBuilder<string>();
        foreach (var (other, key) in claims.Select((o, i) => (o, strong[i])).Where(c => c.o != target).DistinctBy(c => c.o))
        {
            var (survivor, result) = await MergeFollowingAsync(tenant, target, other, new MatchEvidence(MatchRules.SharedKey(key.Kind), key.Kind));
            if (result.Status == LinkStatus.Linked && result.Detail is null)
            {
                merged.Add(survivor == target ? other : target);
            }

            target = survivor;
        }

        var candidates = await WeakEvidenceAsync(tenant, target, keys, record);
        var action = merged.Count > 0 ? "merged" : created ? "created" : "linked";
        return new(target, action, $"{action} by {link.Detail ?? evidence.Rule}", merged.ToImmutable(), candidates);
    }

    /// <summary>Links, following the redirects a merge leaves behind.</summary>
    private async Task<LinkResult> LinkFollowingAsync(string tenant, string target, SourceRecord record, MatchEvidence evidence, bool create)
    {
        for (var hop = 0; hop < RedirectLimit; hop++)
        {
            var result = await Customer(tenant, target).LinkAsync(record, evidence, create);
            if (result.Status != LinkStatus.Redirect)
            {
                return result with { Detail = result.Detail ?? evidence.Rule };
            }

            target = result.GoldenId;
            create = false;
        }

        throw new InvalidOperationException($"Customer {target} redirects more than {RedirectLimit} times.");
    }

    /// <summary>A shared inbox with two names: the record becomes its own customer, and a steward is asked.</summary>
    private async Task<Resolution> SeparateAsync(string tenant, SourceRecord record, List<MatchKey> strong, LinkResult conflict)
    {
        // Someone else of this inbox may have their own customer already (found by a differently typed first name): try them.
        var email = strong.First(k => k.Kind == MatchKeys.Email);
        foreach (var sharer in await Key(tenant, email).SharersAsync())
        {
            var tried = await LinkFollowingAsync(tenant, sharer, record, new MatchEvidence(MatchRules.SharedKey(MatchKeys.Email), MatchKeys.Email), false);
            if (tried.Status == LinkStatus.Linked)
            {
                return new(tried.GoldenId, "linked", $"linked by {MatchRules.SharedKey(MatchKeys.Email)} to another person of a shared inbox");
            }
        }

        var fresh = GoldenIds.New();
        var own = strong.Where(k => k.Kind != MatchKeys.Email).ToList();
        var owner = own.Count == 0 ? fresh : await Key(tenant, own[0]).ClaimAsync(fresh);
        if (owner != fresh)
        {
            // Someone else made this person's own customer a moment ago: link there.
            var again = await LinkFollowingAsync(tenant, owner, record, new MatchEvidence(MatchRules.SharedKey(own[0].Kind), own[0].Kind), false);
            return new(again.GoldenId, "linked", $"linked by {MatchRules.SharedKey(own[0].Kind)}");
        }

        await Customer(tenant, fresh).LinkAsync(record, new MatchEvidence(MatchRules.SharedEmailNamesDiffer, MatchKeys.Email), true);
        await Task.WhenAll(own.Skip(1).Select(k => Key(tenant, k).ClaimAsync(fresh)));
        await Key(tenant, email).ShareAsync(fresh);
        var (a, b) = Ordered(conflict.GoldenId, fresh);
        await Customer(tenant, a).ProposeCandidateAsync(b, MatchRules.SharedEmailNamesDiffer);
        return new(fresh, "candidate", $"{conflict.Detail}: own customer, merge candidate with {conflict.GoldenId}", [], [conflict.GoldenId]);
    }

    /// <summary>Merges two customers into the older one, following redirects; returns the survivor.</summary>
    private async Task<(string Survivor, LinkResult Result)> MergeFollowingAsync(string tenant, string x, string y, MatchEvidence evidence)
    {
        for (var hop = 0; hop < RedirectLimit; hop++)
        {
            var (survivor, absorbed) = Ordered(x, y);
            if (survivor == absorbed)
            {
                return (survivor, new LinkResult(LinkStatus.Linked, survivor));
            }

            var result = await Customer(tenant, survivor).MergeAsync(absorbed, evidence);
            switch (result.Status)
            {
                case LinkStatus.Redirect when result.Detail == "survivor":
                    (x, y) = (result.GoldenId, absorbed);
                    continue;
                case LinkStatus.Redirect:
                    (x, y) = (survivor, result.GoldenId);
                    continue;
                case LinkStatus.Conflict:
                    // Not merged (different people by the names, or a steward's earlier "no"): the record stays where it was linked.
                    return (x, result);
                default:
                    return (survivor, result);
            }
        }

        throw new InvalidOperationException($"Merging {x} and {y} redirects more than {RedirectLimit} times.");
    }

    private async Task<ImmutableArray<string>> WeakEvidenceAsync(string tenant, string target, ImmutableArray<MatchKey> keys, SourceRecord record)
    {
        var name = MatchRules.NameKey(record.Field(CustomerFields.FirstName), record.Field(CustomerFields.LastName));
        var candidates = ImmutableArray.CreateBuilder<string>();
        foreach (var key in keys.Where(k => !k.Strong))
        {
            var others = await Key(tenant, key).JoinAsync(target, name);
            foreach (var (other, otherName) in others)
            {
                if (MatchRules.WeakRule(key, name, otherName) is not { } rule)
                {
                    continue;
                }

                var (a, b) = Ordered(target, other);
                if (await Customer(tenant, a).ProposeCandidateAsync(b, rule))
                {
                    candidates.Add(other);
                }
            }
        }

        return candidates.ToImmutable();
    }

    public async Task<ImmutableArray<string>> LookupAsync(string tenant, string kind, string value, string? countryCode = null)
    {
        var normalised = kind switch
        {
            MatchKeys.Email => MatchKeys.NormaliseEmail(value),
            MatchKeys.Phone => MatchKeys.NormalisePhone(value, countryCode),
            MatchKeys.Loyalty => MatchKeys.NormaliseLoyalty(value),
            _ => value.Trim().ToLowerInvariant(),
        };
        if (normalised is null)
        {
            return [];
        }

        var members = await Key(tenant, new MatchKey(kind, normalised)).MembersAsync();
        var found = await Task.WhenAll(members.Select(m => FollowAsync(tenant, m)));
        return [.. found.Distinct(StringComparer.Ordinal)];
    }

    public async Task<string> FollowAsync(string tenant, string goldenId)
    {
        for (var hop = 0; hop < RedirectLimit; hop++)
        {
            if (await Customer(tenant, goldenId).MergedIntoAsync() is not { } next)
            {
                return goldenId;
            }

            goldenId = next;
        }

        return goldenId;
    }

    public async Task<LinkResult> DecideCandidateAsync(string tenant, string a, string b, bool approve, string actor)
    {
        var queue = GrainFactory.GetGrain<IExceptionQueueGrain>("ops");
        var id = CustomerGrain.CandidateId(tenant, a, b);
        if (!approve)
        {
            await Customer(tenant, a).NotSameAsync(b);
            await Customer(tenant, b).NotSameAsync(a);
            await queue.ResolveAsync(id, $"rejected by {actor}: different people");
            return new LinkResult(LinkStatus.Conflict, a, "rejected");
        }

        var (survivor, result) = await MergeFollowingAsync(tenant, await FollowAsync(tenant, a), await FollowAsync(tenant, b),
            new MatchEvidence(MatchRules.StewardApproved, null, actor));
        await queue.ResolveAsync(id, $"approved by {actor}: merged into {survivor}");
        return result with { GoldenId = survivor };
    }

    private static (string Older, string Newer) Ordered(string x, string y) => string.CompareOrdinal(x, y) <= 0 ? (x, y) : (y, x);
}

/// <summary><c>RetailSync:Identity</c>.</summary>
public sealed class IdentityOptions
{
    public const string Section = "RetailSync:Identity";

    /// <summary>Upsert golden customers into the CRM and the ERP (off only for measurements of the matching alone).</summary>
    public bool Distribute { get; set; } = true;

    /// <summary>Field → owning system, over <see cref="Survivorship.DefaultAuthority"/>.</summary>
    public Dictionary<string, string> Authority { get; set; } = new(StringComparer.Ordinal);

    private ImmutableDictionary<string, string>? authorityMap;

    public ImmutableDictionary<string, string> AuthorityMap => authorityMap ??= Survivorship.DefaultAuthority.SetItems(Authority);
}
