using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using RetailSync.Connectors;
using RetailSync.Intake;
using RetailSync.Operations;
using RetailSync.Outbox;
using RetailSync.Orders;
using RetailSync.Platform;

namespace RetailSync.Customers;

/// <summary>
/// A golden customer. Its fields are never edited directly: they are recomputed from the linked source
/// records by <see cref="Survivorship"/>, so a merge is a union of sources and an unmerge gives them back.
/// Changes go to the CRM (contact upserted by the golden id) and the ERP (customer number = golden id)
/// through the per-system dispatchers, one version at a time per system, from an outbox in this state.
/// </summary>
public sealed partial class CustomerGrain : Grain, ICustomerGrain, ICommandOwner
{
    public const string GoldenIdField = "RetailSync_Golden_Id__c";
    /// <summary>The newest orders are listed; the order itself always knows its golden customer.</summary>
    private const int OrderLimit = 200;

    private readonly IPersistentState<CustomerState> state;
    private readonly IOptions<IdentityOptions> options;
    private readonly TimeProvider clock;
    private readonly OutboxSender outbox;

    public CustomerGrain(
        [PersistentState("customer", StorageNames.State)] IPersistentState<CustomerState> state,
        IOutboxIndex outboxIndex,
        IOptions<IdentityOptions> options,
        TimeProvider clock)
    {
        (this.state, this.options, this.clock) = (state, options, clock);
        outbox = new OutboxSender(this, GrainFactory, outboxIndex, () => SendPendingAsync(resend: true));
    }

    private CustomerState S => state.State;

    private string Tenant => EntityKeys.Split(this.GetPrimaryKeyString()).Scope;

    private string Id => EntityKeys.Split(this.GetPrimaryKeyString()).Id;

    private ImmutableDictionary<string, string> Authority => options.Value.AuthorityMap;

    private ICustomerGrain Other(string goldenId) => GrainFactory.GetGrain<ICustomerGrain>(EntityKeys.ForShop(Tenant, goldenId));

    private IIdentityKeyGrain Key(string key) => GrainFactory.GetGrain<IIdentityKeyGrain>($"{Tenant}/{key}");

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (S.Outbox.AnyUnfinished)
        {
            this.AsReference<ICommandOwner>().ResumeAsync().Ignore();
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// One source record per person per system: its id there, or for a guest their email with their first name
    /// (two people checking out as guests with one family inbox are two sources, not one overwriting the other).
    /// </summary>
    public static string SourceKeyOf(SourceRecord record) =>
        (record.SourceId is { Length: > 0 } id
            ? $"{record.System}:{id.Trim().ToLowerInvariant()}"
            : $"{record.System}:guest:{MatchKeys.NormaliseEmail(record.Field(CustomerFields.Email))}|{MatchKeys.NormaliseName(record.Field(CustomerFields.FirstName))}")
        + (record.OrderKey is null ? "" : "#orders");

    public async Task<LinkResult> LinkAsync(SourceRecord record, MatchEvidence evidence, bool create)
    {
        if (S.MergedInto is { } survivor)
        {
            return new(LinkStatus.Redirect, survivor);
        }

        if (S.Redacted)
        {
            return new(LinkStatus.Redacted, Id);
        }

        if (S.CreatedAt is null && !create)
        {
            // A key pointed here but the record never came (its creator crashed between claim and create): take it.
            create = true;
        }

        var sourceKey = SourceKeyOf(record);
        if (S.CreatedAt is not null && !S.Sources.ContainsKey(sourceKey) && SharesOnlyEmail(record) && !FirstNameFits(record.Field(CustomerFields.FirstName)))
        {
            return new(LinkStatus.Conflict, Id, $"{MatchRules.SharedEmailNamesDiffer}: {record.Field(CustomerFields.FirstName)} vs {S.Fields.GetValueOrDefault(CustomerFields.FirstName)?.Value}");
        }

        var now = clock.GetUtcNow();
        var changed = false;
        if (S.CreatedAt is null)
        {
            S.CreatedAt = now;
            S.Journal.Record(now, "identity:created", $"from {sourceKey} ({evidence.Rule})", record.OrderKey);
            changed = true;
        }

        // Material changes are stored before the answer; a returning buyer's next order (the same details, a
        // newer timestamp, one more order key) is kept in memory and stored shortly after, with the next change
        // or on deactivation: the order itself holds its golden id durably, this list is the customer's index.
        var later = false;
        if (S.Sources.TryGetValue(sourceKey, out var known) && known.ObservedAt > record.ObservedAt)
        {
            S.Journal.Record(now, "identity:stale", $"{sourceKey} of {record.ObservedAt:O} is older than the {known.ObservedAt:O} already linked: not applied", record.OrderKey);
            later = true;
        }
        else if (known != record)
        {
            if (known is null)
            {
                S.Journal.Record(now, "identity:linked", $"{sourceKey} by {evidence.Rule}{(evidence.KeyKind is null ? "" : $" ({evidence.KeyKind})")}", record.OrderKey);
            }

            var sameDetails = known is not null && known.Fields.Count == record.Fields.Count
                && known.Fields.All(f => record.Fields.TryGetValue(f.Key, out var v) && v == f.Value);
            S.Sources[sourceKey] = record;
            S.SourceRules[sourceKey] = evidence.Rule;
            changed |= !sameDetails;
            later |= sameDetails;
        }

        if (record.OrderKey is { } order && !S.Orders.Contains(order))
        {
            S.Orders.Add(order);
            if (S.Orders.Count > OrderLimit)
            {
                S.Orders.RemoveAt(0);
            }

            later = true;
        }

        if (!changed)
        {
            if (later)
            {
                StoreSoon();
            }

            // Nothing material (a re-delivery, or a returning buyer with the same details).
            return new(LinkStatus.Linked, Id);
        }

        foreach (var key in MatchKeys.From(record).Select(k => k.ToString()).Where(k => !S.Keys.Contains(k)))
        {
            S.Keys.Add(key);
        }

        var overruled = Survivorship.Overruled(record, S.Fields, Authority).ToList();
        Recompute($"{sourceKey} linked");
        if (overruled.Count > 0)
        {
            S.Journal.Record(now, "identity:notApplied", $"{record.System} values recorded, not applied: {string.Join(", ", overruled)}", record.OrderKey);
        }

        await this.WriteOrForgetAsync(state);
        NudgeDistribution();
        return new(known is null && S.Sources.Count == 1 && create ? LinkStatus.Created : LinkStatus.Linked, Id);
    }

    /// <summary>
    /// Whether the record reaches this customer by its email alone (no source id, loyalty id or email with this
    /// first name in common): then its first name must fit, however the resolver got here (a redirect too).
    /// </summary>
    private bool SharesOnlyEmail(SourceRecord record)
    {
        if (record.GoldenId == Id)
        {
            return false;
        }

        var shared = MatchKeys.From(record).Where(k => k.Strong).Select(k => k.ToString()).Where(S.Keys.Contains).ToList();
        return shared.Count > 0 && shared.All(k => k.StartsWith(MatchKeys.Email + ":", StringComparison.Ordinal));
    }

    private IGrainTimer? storeTimer;

    /// <summary>Stores what changed only in memory a little later, once for everything gathered meanwhile.</summary>
    private void StoreSoon()
    {
        storeTimer ??= this.RegisterGrainTimer(async () =>
        {
            storeTimer?.Dispose();
            storeTimer = null;
            await this.WriteOrForgetAsync(state);
        }, new GrainTimerCreationOptions(TimeSpan.FromSeconds(5), Timeout.InfiniteTimeSpan));
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (storeTimer is not null)
        {
            storeTimer.Dispose();
            storeTimer = null;
            await state.WriteStateAsync(cancellationToken);
        }
    }

    private bool FirstNameFits(string? firstName) =>
        firstName is null || S.Sources.Values.Select(s => s.Field(CustomerFields.FirstName)).OfType<string>().DefaultIfEmpty()
            .Any(known => MatchRules.FirstNamesCompatible(known, firstName));

    /// <summary>Recomputes the golden fields; a change makes a new version for the CRM and the ERP.</summary>
    private ImmutableArray<FieldChange> Recompute(string why)
    {
        var before = S.Fields.ToImmutableDictionary(StringComparer.Ordinal);
        var after = Survivorship.Compute(S.Sources, Authority);
        var changes = Survivorship.Diff(before, after);
        if (changes.Length > 0)
        {
            S.Fields = new Dictionary<string, GoldenField>(after, StringComparer.Ordinal);
            S.Version++;
            S.Journal.Record(clock.GetUtcNow(), "identity:fields", $"{why}: {string.Join(", ", changes.Select(c => c.Field))} (version {S.Version})", null);
            PlanDistribution();
        }

        return changes;
    }

    public async Task<LinkResult> MergeAsync(string otherGoldenId, MatchEvidence evidence)
    {
        if (S.MergedInto is { } survivor)
        {
            return new(LinkStatus.Redirect, survivor, "survivor");
        }

        if (otherGoldenId == Id || S.MergedFrom.Contains(otherGoldenId))
        {
            return new(LinkStatus.Linked, Id, "already merged");
        }

        if (evidence.Actor == MatchEvidence.Rules && S.NotSame.Contains(otherGoldenId))
        {
            return new(LinkStatus.Conflict, Id, "a data steward said these are different people");
        }

        var other = Other(otherGoldenId);
        var view = evidence.KeyKind == MatchKeys.Email ? await other.GetAsync() : null;
        if (evidence.KeyKind == MatchKeys.Email && view is not { MergedInto: null })
        {
            // Claimed a moment ago and not linked yet (or merged elsewhere meanwhile): its resolver links it and
            // then claims this email itself, so the merge is decided then, with the names known.
            return new(LinkStatus.Conflict, Id, "the other customer is not complete yet");
        }

        if (view?.Fields.GetValueOrDefault(CustomerFields.FirstName) is { } name && !FirstNameFits(name.Value))
        {
            // Only an email is shared and the names say two people (a family inbox): a steward decides.
            await ProposeCandidateAsync(otherGoldenId, MatchRules.SharedEmailNamesDiffer);
            return new(LinkStatus.Conflict, Id, MatchRules.SharedEmailNamesDiffer);
        }

        var surrendered = await other.SurrenderAsync(Id, evidence);
        if (surrendered.RedirectTo is { } elsewhere)
        {
            return new(LinkStatus.Redirect, elsewhere, "other");
        }

        var now = clock.GetUtcNow();
        foreach (var source in surrendered.Sources)
        {
            var key = SourceKeyOf(source);
            if (!S.Sources.TryGetValue(key, out var mine) || mine.ObservedAt < source.ObservedAt)
            {
                S.Sources[key] = source;
                S.SourceRules[key] = evidence.Rule;
            }
        }

        S.Keys.AddRange(surrendered.Keys.Where(k => !S.Keys.Contains(k)));
        S.Orders.AddRange(surrendered.Orders.Where(o => !S.Orders.Contains(o)));
        S.MergedFrom.Add(otherGoldenId);
        S.NotSame.UnionWith(surrendered.NotSame);
        S.Candidates.Remove(otherGoldenId);
        var changes = Recompute($"merged {otherGoldenId}");
        S.History.Add(new MergeRecord(now, "merge", otherGoldenId, evidence.Rule, evidence.Actor, surrendered.Keys,
            [.. surrendered.Sources.Select(SourceKeyOf)], changes, surrendered.Orders));
        S.Journal.Record(now, "identity:merged", $"{otherGoldenId} merged in by {evidence.Rule} ({evidence.Actor}): {surrendered.Sources.Length} source(s), {surrendered.Keys.Length} key(s), {surrendered.Orders.Length} order(s)", null);
        await this.WriteOrForgetAsync(state);

        // The keys follow the survivor; until they do, a key that still names the merged id is followed through its redirect.
        await Task.WhenAll(surrendered.Keys.Select(k => Key(k).ReassignAsync(otherGoldenId, Id)));
        await SendPendingAsync();
        return new(LinkStatus.Linked, Id);
    }

    public async Task<Surrendered> SurrenderAsync(string survivorId, MatchEvidence evidence)
    {
        if (S.MergedInto is { } elsewhere)
        {
            return new(Id, elsewhere == survivorId ? null : elsewhere, [], [], [], []);
        }

        var handed = new Surrendered(Id, null, [.. S.Sources.Values], [.. S.Keys], [.. S.Orders], [.. S.NotSame]);
        var now = clock.GetUtcNow();
        S.MergedInto = survivorId;
        S.History.Add(new MergeRecord(now, "mergedInto", survivorId, evidence.Rule, evidence.Actor, handed.Keys, [.. S.Sources.Keys], [], handed.Orders));
        S.Journal.Record(now, "identity:mergedInto", $"merged into {survivorId} by {evidence.Rule} ({evidence.Actor})", null);
        S.Sources.Clear();
        S.SourceRules.Clear();
        S.Keys.Clear();
        S.Orders.Clear();
        S.Fields.Clear();
        S.Version++;
        PlanDistribution();
        await this.WriteOrForgetAsync(state);
        await SendPendingAsync();
        return handed;
    }

    public async Task<bool> UnmergeAsync(string absorbedId, string actor)
    {
        var merge = S.History.LastOrDefault(h => h.Kind == "merge" && h.OtherId == absorbedId);
        if (merge is null || !S.MergedFrom.Contains(absorbedId))
        {
            return false;
        }

        var now = clock.GetUtcNow();
        var returning = S.Sources.Where(s => merge.SourceKeys.Contains(s.Key)).Select(s => s.Value).ToImmutableArray();
        var staying = S.Sources.Where(s => !merge.SourceKeys.Contains(s.Key)).ToList();
        var keysStaying = staying.SelectMany(s => MatchKeys.From(s.Value)).Select(k => k.ToString()).ToHashSet(StringComparer.Ordinal);
        var keysReturning = returning.SelectMany(r => MatchKeys.From(r)).Select(k => k.ToString()).Distinct().ToImmutableArray();
        var returned = new Surrendered(absorbedId, null, returning, keysReturning, merge.Orders, [Id]);

        // The absorbed customer comes back first: a crash after this leaves its data in both places, never in none.
        await Other(absorbedId).RestoreAsync(returned, Id, actor);

        foreach (var key in merge.SourceKeys)
        {
            S.Sources.Remove(key);
            S.SourceRules.Remove(key);
        }

        S.Keys.RemoveAll(k => keysReturning.Contains(k) && !keysStaying.Contains(k));
        S.Orders.RemoveAll(merge.Orders.Contains);
        S.MergedFrom.Remove(absorbedId);
        S.NotSame.Add(absorbedId);
        var changes = Recompute($"unmerged {absorbedId}");
        S.History.Add(new MergeRecord(now, "unmerge", absorbedId, "unmerge", actor, keysReturning, merge.SourceKeys, changes, merge.Orders));
        S.Journal.Record(now, "identity:unmerged", $"{absorbedId} split off again by {actor}: {returning.Length} source(s) went back", null);
        await this.WriteOrForgetAsync(state);
        await Task.WhenAll(keysReturning.Where(k => !keysStaying.Contains(k)).Select(k => Key(k).ReassignAsync(Id, absorbedId)));
        await SendPendingAsync();
        return true;
    }

    public async Task RestoreAsync(Surrendered returned, string survivorId, string actor)
    {
        if (S.MergedInto != survivorId)
        {
            return;
        }

        var now = clock.GetUtcNow();
        S.MergedInto = null;
        foreach (var source in returned.Sources)
        {
            S.Sources[SourceKeyOf(source)] = source;
            S.SourceRules[SourceKeyOf(source)] = "restored by an unmerge";
        }

        S.Keys.AddRange(returned.Keys.Where(k => !S.Keys.Contains(k)));
        S.Orders.AddRange(returned.Orders.Where(o => !S.Orders.Contains(o)));
        S.NotSame.Add(survivorId);
        var changes = Recompute($"restored from {survivorId}");
        S.History.Add(new MergeRecord(now, "restored", survivorId, "unmerge", actor, returned.Keys, [.. returned.Sources.Select(SourceKeyOf)], changes, returned.Orders));
        S.Journal.Record(now, "identity:restored", $"split off from {survivorId} by {actor}", null);
        await this.WriteOrForgetAsync(state);
        await SendPendingAsync();
    }

    public async Task<bool> ProposeCandidateAsync(string otherGoldenId, string rule)
    {
        if (S.MergedInto is not null || otherGoldenId == Id || S.NotSame.Contains(otherGoldenId) || S.MergedFrom.Contains(otherGoldenId)
            || !S.Candidates.Add(otherGoldenId))
        {
            return false;
        }

        var now = clock.GetUtcNow();
        S.Journal.Record(now, "identity:candidate", $"possibly the same person as {otherGoldenId} ({rule}): raised for a data steward", null);
        await this.WriteOrForgetAsync(state);
        var (a, b) = string.CompareOrdinal(Id, otherGoldenId) < 0 ? (Id, otherGoldenId) : (otherGoldenId, Id);
        var payload = JsonSerializer.Serialize(new MergeCandidate(Tenant, a, b, rule));
        await outbox.RaiseAsync(new OpsException(CandidateId(Tenant, a, b), "identity", MergeCandidate.Operation,
            payload, null, $"Possible duplicate customer: {rule}. Approve to merge {b} into {a}, or reject.", 0, null,
            $"customer:{Tenant}/{a}", now, "Open", null, null));
        return true;
    }

    public static string CandidateId(string tenant, string a, string b) => $"identity:candidate:{tenant}:{a}:{b}";

    public async Task NotSameAsync(string otherGoldenId)
    {
        if (S.NotSame.Add(otherGoldenId) | S.Candidates.Remove(otherGoldenId))
        {
            S.Journal.Record(clock.GetUtcNow(), "identity:notSame", $"a data steward decided {otherGoldenId} is someone else", null);
            await this.WriteOrForgetAsync(state);
        }
    }

    public Task<string?> MergedIntoAsync() => Task.FromResult(S.MergedInto);

    public Task<CustomerView?> GetAsync()
    {
        if (S.CreatedAt is null && S.MergedInto is null)
        {
            return Task.FromResult<CustomerView?>(null);
        }

        return Task.FromResult<CustomerView?>(new CustomerView(Tenant, Id, null, S.Fields.ToImmutableDictionary(StringComparer.Ordinal),
            [.. S.Sources.Select(s => new LinkedSource(s.Key, s.Value.System, s.Value.SourceId, s.Value.ObservedAt, S.SourceRules.GetValueOrDefault(s.Key, "")))],
            [.. S.Keys], [.. S.Orders], [.. S.MergedFrom], [.. S.History],
            S.Distribution.ToImmutableDictionary(d => d.Key, d => d.Value.Status), S.Redacted, [.. S.Journal.Timeline], S.MergedInto,
            [.. S.Candidates], S.Version));
    }
}
