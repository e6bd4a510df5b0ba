using System.Collections.Immutable;
using Orleans.Concurrency;
using RetailSync.Intake;

namespace RetailSync.Customers;

/// <summary>The systems a person's data comes from, and the field names of the golden record.</summary>
public static class CustomerSources
{
    public const string Shopify = "shopify";
    public const string Crm = "crm";
    public const string Erp = "erp";
}

/// <summary>Kinds of match keys besides the source systems' ids (<see cref="CustomerSources"/>).</summary>
public static class MatchKinds
{
    public const string Email = "email";
    public const string EmailName = "emailname";
    public const string Loyalty = "loyalty";
    public const string Phone = "phone";
    public const string Address = "address";
}

/// <summary>The exception queue's payload for a merge candidate: <see cref="A"/> (the older) survives an approval.</summary>
public sealed record MergeCandidate(string Tenant, string A, string B, string Rule)
{
    public const string Operation = "mergeCandidate";
}

/// <summary>Canonical field names of a golden customer; every source record speaks these.</summary>
public static class CustomerFields
{
    public const string FirstName = "firstName";
    public const string LastName = "lastName";
    public const string Email = "email";
    public const string Phone = "phone";
    public const string LoyaltyId = "loyaltyId";

    /// <summary>One line: <c>line1|line2|postalCode|city|countryCode</c>.</summary>
    public const string BillingAddress = "billingAddress";
    public const string ShippingAddress = "shippingAddress";
    public const string CountryCode = "countryCode";
    public const string CreditLimit = "creditLimit";
    public const string TaxId = "taxId";
    public const string PaymentTerms = "paymentTerms";
    public const string AccountNumber = "accountNumber";
    public const string Consent = "consent";
    public const string Segment = "segment";
    public const string Owner = "owner";
    public const string ServiceContext = "serviceContext";
    public const string StorefrontProfile = "storefrontProfile";

    /// <summary>Fields that identify a person and go when the person asks to be forgotten.</summary>
    public static readonly ImmutableHashSet<string> Personal = [FirstName, LastName, Email, Phone, LoyaltyId, BillingAddress, ShippingAddress, TaxId, Consent];
}

/// <summary>
/// One system's view of a person at one moment: the unit identity resolution links to a golden customer.
/// </summary>
/// <param name="System">shopify, crm or erp.</param>
/// <param name="SourceId">The person's id in that system (Shopify: <c>{shop}/{customerId}</c>); null for a guest checkout.</param>
/// <param name="ObservedAt">The source's own timestamp of this version (its updated_at); newer wins among equals.</param>
/// <param name="Fields">Values by <see cref="CustomerFields"/> name; absent means "this source does not say".</param>
/// <param name="OrderKey">The order (<c>{shop}/{orderId}</c>) this record came with, if any.</param>
/// <param name="GoldenId">The golden id the source already carries (our external id in the CRM, our customer number in the ERP).</param>
[GenerateSerializer, Immutable, Alias("RetailSync.Customers.SourceRecord")]
public sealed record SourceRecord(
    [property: Id(0)] string System,
    [property: Id(1)] string? SourceId,
    [property: Id(2)] DateTimeOffset ObservedAt,
    [property: Id(3)] ImmutableDictionary<string, string> Fields,
    [property: Id(4)] string? OrderKey = null,
    [property: Id(5)] string? GoldenId = null)
{
    public string? Field(string name) => Fields.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value : null;
}

/// <summary>How a record came to a golden customer: the rule and the key that decided it.</summary>
[GenerateSerializer, Immutable, Alias("RetailSync.Customers.MatchEvidence")]
public sealed record MatchEvidence(
    [property: Id(0)] string Rule,
    [property: Id(1)] string? KeyKind,
    [property: Id(2)] string Actor = MatchEvidence.Rules)
{
    /// <summary>The actor of every automatic decision.</summary>
    public const string Rules = "identity-rules";
}

public static class LinkStatus
{
    public const string Linked = "linked";
    public const string Created = "created";

    /// <summary>The golden record was merged away: link to <see cref="LinkResult.GoldenId"/> instead.</summary>
    public const string Redirect = "redirect";

    /// <summary>Only a shared email matched and the names disagree (a family inbox): not linked.</summary>
    public const string Conflict = "conflict";

    /// <summary>The golden record was erased on request; nothing is linked to it again.</summary>
    public const string Redacted = "redacted";
}

[GenerateSerializer, Immutable, Alias("RetailSync.Customers.LinkResult")]
public sealed record LinkResult([property: Id(0)] string Status, [property: Id(1)] string GoldenId, [property: Id(2)] string? Detail = null);

/// <summary>What identity resolution decided for one source record.</summary>
/// <param name="GoldenId">The golden customer the record belongs to; null when it carries nothing to match on.</param>
/// <param name="Action">created, linked, merged, candidate (linked to its own golden record, a steward decides) or unattached.</param>
[GenerateSerializer, Immutable, Alias("RetailSync.Customers.Resolution")]
public sealed record Resolution(
    [property: Id(0)] string? GoldenId,
    [property: Id(1)] string Action,
    [property: Id(2)] string Detail,
    [property: Id(3)] ImmutableArray<string> Merged = default,
    [property: Id(4)] ImmutableArray<string> Candidates = default);

/// <summary>
/// Resolves source records to golden customers (stateless: every decision is held by the key and customer
/// grains it calls). Keyed by nothing in particular; Orleans runs as many as the load needs.
/// </summary>
[Alias("RetailSync.Customers.IIdentityResolverGrain")]
public interface IIdentityResolverGrain : IGrainWithIntegerKey
{
    [Alias("Resolve")]
    Task<Resolution> ResolveAsync(string tenant, SourceRecord record);

    /// <summary>The golden ids a key (kind and raw value, normalised here) belongs to, following merges.</summary>
    [Alias("Lookup")]
    Task<ImmutableArray<string>> LookupAsync(string tenant, string kind, string value, string? countryCode = null);

    /// <summary>Follows merges from a golden id to the customer that holds it now.</summary>
    [Alias("Follow")]
    Task<string> FollowAsync(string tenant, string goldenId);

    /// <summary>A data steward's decision on a merge candidate: approve merges the two (the older survives), reject remembers "not the same person".</summary>
    [Alias("DecideCandidate")]
    Task<LinkResult> DecideCandidateAsync(string tenant, string a, string b, bool approve, string actor);
}

/// <summary>
/// One match key (<c>{tenant}/{kind}:{normalisedValue}</c>). A strong key (email, loyalty id, source id) is
/// claimed by exactly one golden customer: the first claim wins and every later claimant is told the owner,
/// so two concurrent sign-ups with one email end with one golden record. A weak key (phone, address + name)
/// only lists the golden customers that carry it, for merge candidates.
/// </summary>
[Alias("RetailSync.Customers.IIdentityKeyGrain")]
public interface IIdentityKeyGrain : IGrainWithStringKey
{
    /// <summary>Claims the key for <paramref name="goldenId"/> unless it has an owner; returns the owner.</summary>
    [Alias("Claim")]
    Task<string> ClaimAsync(string goldenId);

    [Alias("Owner"), ReadOnly]
    Task<string?> OwnerAsync();

    /// <summary>A merge or unmerge moved the key: owner (or member) <paramref name="from"/> becomes <paramref name="to"/>.</summary>
    [Alias("Reassign")]
    Task ReassignAsync(string from, string to);

    /// <summary>The golden customer no longer carries the key (redaction, a changed email).</summary>
    [Alias("Release")]
    Task ReleaseAsync(string goldenId);

    /// <summary>Weak keys: adds the member and returns the others with their name keys (<c>last|first</c>).</summary>
    [Alias("Join")]
    Task<ImmutableDictionary<string, string>> JoinAsync(string goldenId, string nameKey);

    [Alias("Members"), ReadOnly]
    Task<ImmutableArray<string>> MembersAsync();

    /// <summary>Strong keys: a customer that carries the key without owning it (the second person of a family inbox).</summary>
    [Alias("Share")]
    Task ShareAsync(string goldenId);

    [Alias("Sharers"), ReadOnly]
    Task<ImmutableArray<string>> SharersAsync();
}

/// <summary>
/// A golden customer (<c>{tenant}/{goldenId}</c>): the source records linked to it, the fields that survive
/// from them (each with its source system and timestamp), its keys, orders, merge history and timeline.
/// It distributes its state to the CRM and the ERP, keyed by the golden id.
/// </summary>
[Alias("RetailSync.Customers.ICustomerGrain")]
public interface ICustomerGrain : IGrainWithStringKey
{
    /// <summary>Links (or first creates with) a source record; see <see cref="LinkStatus"/>.</summary>
    [Alias("Link")]
    Task<LinkResult> LinkAsync(SourceRecord record, MatchEvidence evidence, bool create);

    /// <summary>Absorbs another golden customer: its sources, keys and orders move here, with an audit entry.</summary>
    [Alias("Merge")]
    Task<LinkResult> MergeAsync(string otherGoldenId, MatchEvidence evidence);

    /// <summary>Called by the survivor of a merge: hands over everything and leaves a redirect behind.</summary>
    [Alias("Surrender")]
    Task<Surrendered> SurrenderAsync(string survivorId, MatchEvidence evidence);

    /// <summary>Undoes a merge: the sources the other customer brought go back to it, fields are recomputed on both.</summary>
    [Alias("Unmerge")]
    Task<bool> UnmergeAsync(string absorbedId, string actor);

    /// <summary>The survivor gives back what an unmerge returns to the absorbed customer.</summary>
    [Alias("Restore")]
    Task RestoreAsync(Surrendered returned, string survivorId, string actor);

    /// <summary>Weak evidence links this customer and another: raise a merge candidate unless a steward already said no.</summary>
    [Alias("ProposeCandidate")]
    Task<bool> ProposeCandidateAsync(string otherGoldenId, string rule);

    /// <summary>Remembers a steward's "not the same person" (called on the other side of a rejection).</summary>
    [Alias("NotSame")]
    Task NotSameAsync(string otherGoldenId);

    /// <summary>Erases the person's data (privacy request) and releases their keys.</summary>
    [Alias("Redact")]
    Task RedactAsync(string reason);

    /// <summary>The golden record as this grain holds it; a merged-away id answers with <see cref="CustomerView.MergedInto"/> set (callers follow it).</summary>
    [Alias("Get")]
    Task<CustomerView?> GetAsync();

    /// <summary>Where a merged-away id now lives (null if not merged).</summary>
    [Alias("MergedInto"), ReadOnly]
    Task<string?> MergedIntoAsync();
}

[GenerateSerializer, Immutable, Alias("RetailSync.Customers.Surrendered")]
public sealed record Surrendered(
    [property: Id(0)] string GoldenId,
    [property: Id(1)] string? RedirectTo,
    [property: Id(2)] ImmutableArray<SourceRecord> Sources,
    [property: Id(3)] ImmutableArray<string> Keys,
    [property: Id(4)] ImmutableArray<string> Orders,
    [property: Id(5)] ImmutableArray<string> NotSame);

/// <summary>A golden field: its value, the system and record it came from, and when that system said it.</summary>
[GenerateSerializer, Immutable, Alias("RetailSync.Customers.GoldenField")]
public sealed record GoldenField(
    [property: Id(0)] string Value,
    [property: Id(1)] string System,
    [property: Id(2)] string SourceKey,
    [property: Id(3)] DateTimeOffset At);

[GenerateSerializer, Immutable, Alias("RetailSync.Customers.FieldChange")]
public sealed record FieldChange([property: Id(0)] string Field, [property: Id(1)] string? Before, [property: Id(2)] string? After);

/// <summary>One merge or unmerge: who or which rule, the keys and sources that moved, every field before and after.</summary>
[GenerateSerializer, Immutable, Alias("RetailSync.Customers.MergeRecord")]
public sealed record MergeRecord(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] string Kind,
    [property: Id(2)] string OtherId,
    [property: Id(3)] string Rule,
    [property: Id(4)] string Actor,
    [property: Id(5)] ImmutableArray<string> Keys,
    [property: Id(6)] ImmutableArray<string> SourceKeys,
    [property: Id(7)] ImmutableArray<FieldChange> Changes,
    [property: Id(8)] ImmutableArray<string> Orders);

[GenerateSerializer, Immutable, Alias("RetailSync.Customers.LinkedSource")]
public sealed record LinkedSource(
    [property: Id(0)] string Key,
    [property: Id(1)] string System,
    [property: Id(2)] string? SourceId,
    [property: Id(3)] DateTimeOffset ObservedAt,
    [property: Id(4)] string Rule);

[GenerateSerializer, Immutable, Alias("RetailSync.Customers.CustomerView")]
public sealed record CustomerView(
    [property: Id(0)] string Tenant,
    [property: Id(1)] string GoldenId,
    [property: Id(2)] string? RequestedId,
    [property: Id(3)] ImmutableDictionary<string, GoldenField> Fields,
    [property: Id(4)] ImmutableArray<LinkedSource> Sources,
    [property: Id(5)] ImmutableArray<string> Keys,
    [property: Id(6)] ImmutableArray<string> Orders,
    [property: Id(7)] ImmutableArray<string> MergedFrom,
    [property: Id(8)] ImmutableArray<MergeRecord> MergeHistory,
    [property: Id(9)] ImmutableDictionary<string, string> Distribution,
    [property: Id(10)] bool Redacted,
    [property: Id(11)] ImmutableArray<TimelineEntry> Timeline,
    [property: Id(12)] string? MergedInto,
    [property: Id(13)] ImmutableArray<string> OpenCandidates,
    [property: Id(14)] long Version);
