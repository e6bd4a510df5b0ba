using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace RetailSync.Connectors.Tryton;

/// <summary>Customers as Tryton parties: upserted by code, found by code or email, with their addresses and contact mechanisms.</summary>
public sealed partial class TrytonClient
{
    public async Task<ErpCustomerRef> UpsertCustomerAsync(ErpCustomer customer, CancellationToken cancellationToken = default) =>
        (await UpsertCustomersAsync([customer], cancellationToken))[0] switch
        {
            { Customer: { } found } => found,
            { Error: { } error } => throw error,
            _ => throw new InvalidOperationException("no result"),
        };

    public async Task<IReadOnlyList<ErpCustomerResult>> UpsertCustomersAsync(IReadOnlyList<ErpCustomer> customers, CancellationToken cancellationToken = default)
    {
        var distinct = customers.DistinctBy(c => c.Number).ToList();
        var results = new Dictionary<string, ErpCustomerResult>(StringComparer.Ordinal);
        var known = await PartiesByCodeAsync([.. distinct.Select(c => c.Number)], cancellationToken);

        // The common case in one call: new people with no party of theirs to adopt. Should Tryton refuse the
        // call (someone created one of them meanwhile, a value it does not take), each goes its own way below.
        var toCreate = new List<ErpCustomer>();
        foreach (var customer in distinct.Where(c => !known.ContainsKey(c.Number)))
        {
            if (string.IsNullOrEmpty(customer.Email) || await FindAdoptableAsync(customer, cancellationToken) is null)
            {
                toCreate.Add(customer);
            }
        }

        var noneToAdopt = toCreate.Select(c => c.Number).ToHashSet(StringComparer.Ordinal);

        if (toCreate.Count > 1)
        {
            try
            {
                var values = new List<JsonObject>();
                foreach (var customer in toCreate)
                {
                    values.Add(await PartyValuesAsync(customer, cancellationToken));
                }

                await rpc.CreateAsync("party.party", values, cancellationToken);
                var created = await PartiesByCodeAsync([.. toCreate.Select(c => c.Number)], cancellationToken);
                foreach (var customer in toCreate)
                {
                    results[customer.Number] = new(customer.Number, ToRef(created[customer.Number]), null);
                }
            }
            catch (ConnectorException ex) when (ex.Kind != FailureKind.Transient)
            {
                // Each on its own below, for its own answer.
            }
        }

        foreach (var customer in distinct.Where(c => !results.ContainsKey(c.Number)))
        {
            try
            {
                results[customer.Number] = new(customer.Number, await UpsertOneAsync(customer, known.GetValueOrDefault(customer.Number), noneToAdopt.Contains(customer.Number), cancellationToken), null);
            }
            catch (ConnectorException ex) when (ex.Kind != FailureKind.Transient)
            {
                results[customer.Number] = new(customer.Number, null, ex);
            }
        }

        return [.. customers.Select(c => results[c.Number])];
    }

    /// <summary>
    /// Create-if-absent against Tryton's unique <c>party.code</c>: the party with our number is updated; else the
    /// same person's party found by email is adopted (it takes our number as its code); else one is created.
    /// The buyer's golden record and their orders reach the ERP at the same time, so another call may create
    /// or adopt the party between our read and our write: Tryton refuses ours ("The code on party must be
    /// unique", or a stale timestamp), and what is there then is read and used.
    /// </summary>
    /// <param name="noneToAdopt">The caller just looked for a party to adopt and found none.</param>
    private async Task<ErpCustomerRef> UpsertOneAsync(ErpCustomer customer, Party? party, bool noneToAdopt, CancellationToken cancellationToken)
    {
        for (var attempt = 0; party is null; attempt++)
        {
            try
            {
                var same = noneToAdopt || string.IsNullOrEmpty(customer.Email) ? null : await FindAdoptableAsync(customer, cancellationToken);
                if (same is null)
                {
                    await rpc.CreateAsync("party.party", [await PartyValuesAsync(customer, cancellationToken)], cancellationToken);
                    return ToRef((await PartiesByCodeAsync([customer.Number], cancellationToken))[customer.Number]);
                }

                await rpc.WriteAsync("party.party", [same.Id], new JsonObject { ["code"] = customer.Number }, Timestamp(same), cancellationToken);
                party = (await PartiesByCodeAsync([customer.Number], cancellationToken))[customer.Number];
            }
            catch (ConnectorException ex) when (ex.Kind != FailureKind.Transient && attempt < ConflictRetries)
            {
                noneToAdopt = false;
                party = (await PartiesByCodeAsync([customer.Number], cancellationToken)).GetValueOrDefault(customer.Number);
                if (party is null && ex.Kind != FailureKind.Conflict)
                {
                    // Refused for what we sent, not for a party someone else made: the refusal is the answer.
                    throw;
                }
            }
        }

        return await UpdatePartyAsync(party, customer, cancellationToken);
    }

    /// <summary>The party whose code is our customer number, or null.</summary>
    public async Task<ErpCustomerRef?> FindCustomerAsync(string number, CancellationToken cancellationToken = default) =>
        (await PartiesByCodeAsync([number], cancellationToken)).TryGetValue(number, out var party) ? ToRef(party) : null;

    /// <summary>The party that has this email among its contact mechanisms, or null.</summary>
    public async Task<ErpCustomerRef?> FindCustomerByEmailAsync(string email, CancellationToken cancellationToken = default) =>
        await FindPartyByEmailAsync(email, cancellationToken) is { } party ? ToRef(party) : null;

    private async Task<Dictionary<string, Party>> PartiesByCodeAsync(IReadOnlyList<string> codes, CancellationToken cancellationToken)
    {
        var found = await rpc.SearchReadAsync("party.party", [new JsonArray("code", "in", new JsonArray([.. codes.Select(c => (JsonNode)c)]))], PartyFields,
            cancellationToken: cancellationToken);
        return found.OfType<JsonObject>().Select(ToParty).ToDictionary(p => p.Code, StringComparer.Ordinal);
    }

    /// <summary>The party that has this email among its contact mechanisms, or null.</summary>
    private async Task<Party?> FindPartyByEmailAsync(string email, CancellationToken cancellationToken) =>
        (await PartiesByEmailAsync(email, cancellationToken)).FirstOrDefault();

    /// <summary>
    /// The party that is this person by the identity rules: it has their email and either no golden id (entered
    /// by hand, a guest before we had an id) or one of ours under a name that fits theirs (their golden record
    /// made again: after a merge, an unmerge, a lost state). Another name on the same email is someone sharing
    /// the inbox (a family's address): never taken.
    /// </summary>
    private async Task<Party?> FindAdoptableAsync(ErpCustomer customer, CancellationToken cancellationToken) =>
        (await PartiesByEmailAsync(customer.Email!, cancellationToken)).FirstOrDefault(p =>
            !RetailSync.Customers.GoldenIds.IsGolden(p.Code) || RetailSync.Customers.MatchRules.FullNamesFit(p.Raw["name"]?.GetValue<string>(), customer.DisplayName));

    private async Task<IEnumerable<Party>> PartiesByEmailAsync(string email, CancellationToken cancellationToken)
    {
        // party.email is not searchable; the contact mechanism is.
        var found = await rpc.SearchReadAsync("party.party", [new JsonArray("contact_mechanisms.value", "=", email.Trim())], PartyFields, 10, "id",
            cancellationToken: cancellationToken);
        return found.OfType<JsonObject>().Select(ToParty);
    }

    private async Task<ErpCustomerRef> UpdatePartyAsync(Party party, ErpCustomer customer, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            // Tryton stores a phone formatted (+1 613-555-0100) and its E.164 form as value_compact: either is a match.
            var mechanisms = (await rpc.SearchReadAsync("party.contact_mechanism", [new JsonArray("party", "=", party.Id)], ["type", "value", "value_compact"],
                cancellationToken: cancellationToken)).OfType<JsonObject>().ToList();
            var values = new JsonObject();
            if (party.Raw["name"]?.GetValue<string>() != customer.DisplayName)
            {
                values["name"] = customer.DisplayName;
            }

            var add = Mechanisms(customer).Where(m => !mechanisms.Any(e =>
                e["value"]?.GetValue<string>() == m["value"]!.GetValue<string>() || e["value_compact"]?.GetValue<string>() == m["value"]!.GetValue<string>())).ToList();
            if (add.Count > 0)
            {
                values["contact_mechanisms"] = new JsonArray(new JsonArray("create", new JsonArray([.. add])));
            }

            if (party.Address is null && await AddressAsync(customer, cancellationToken) is { } address)
            {
                values["addresses"] = new JsonArray(new JsonArray("create", new JsonArray(address)));
            }

            if (values.Count == 0)
            {
                return ToRef(party);
            }

            try
            {
                await rpc.WriteAsync("party.party", [party.Id], values, Timestamp(party), cancellationToken);
                return ToRef((await PartiesByCodeAsync([party.Code], cancellationToken))[party.Code]);
            }
            catch (ConnectorException ex) when (ex.Kind == FailureKind.Conflict && attempt < ConflictRetries)
            {
                party = (await PartiesByCodeAsync([party.Code], cancellationToken))[party.Code];
            }
        }
    }

    private async Task<JsonObject> PartyValuesAsync(ErpCustomer customer, CancellationToken cancellationToken)
    {
        var values = new JsonObject { ["code"] = customer.Number, ["name"] = customer.DisplayName };
        if (Mechanisms(customer).ToList() is { Count: > 0 } mechanisms)
        {
            values["contact_mechanisms"] = new JsonArray(new JsonArray("create", new JsonArray([.. mechanisms])));
        }

        values["addresses"] = new JsonArray(new JsonArray("create", new JsonArray(await AddressAsync(customer, cancellationToken) ?? new JsonObject())));
        return values;
    }

    /// <summary>
    /// Email, and the phone in E.164 (read in the address's country), which Tryton validates with the same
    /// numbering plan whatever the party's country. A number no plan reads ("555-555-SHIP") would make Tryton
    /// refuse the whole party; it is kept as an "other" contact mechanism so nothing the buyer gave is lost.
    /// </summary>
    private static IEnumerable<JsonObject> Mechanisms(ErpCustomer customer)
    {
        if (!string.IsNullOrWhiteSpace(customer.Email))
        {
            yield return new JsonObject { ["type"] = "email", ["value"] = customer.Email.Trim() };
        }

        if (!string.IsNullOrWhiteSpace(customer.Phone))
        {
            yield return RetailSync.Customers.MatchKeys.NormalisePhone(customer.Phone, customer.Country) is { } e164
                ? new JsonObject { ["type"] = "phone", ["value"] = e164 }
                : new JsonObject { ["type"] = "other", ["value"] = customer.Phone.Trim() };
        }
    }

    private async Task<JsonObject?> AddressAsync(ErpCustomer customer, CancellationToken cancellationToken)
    {
        if (customer.AddressLine1 is null && customer.City is null && customer.PostalCode is null && customer.Country is null)
        {
            return null;
        }

        var address = new JsonObject { ["street"] = customer.AddressLine1, ["city"] = customer.City, ["postal_code"] = customer.PostalCode };
        if (await CountryAsync(customer.Country, cancellationToken) is { } country)
        {
            address["country"] = country;
        }

        return address;
    }

    /// <summary>Tryton's country record of an ISO 3166 alpha-2 code (cached); null for none or one the database lacks (the address is written without).</summary>
    private async Task<long?> CountryAsync(string? code, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(code))
        {
            return null;
        }

        code = code.Trim().ToUpperInvariant();
        if (countries.TryGetValue(code, out var known))
        {
            return known;
        }

        var found = await rpc.SearchReadAsync("country.country", [new JsonArray("code", "=", code)], ["id"], 1, cancellationToken: cancellationToken);
        if (found.FirstOrDefault() is not JsonObject c)
        {
            // Not cached: a database without country data may be given it (trytond_import_countries) while we run.
            return null;
        }

        return countries[code] = c["id"]!.GetValue<long>();
    }

    private static Party ToParty(JsonObject p) => new(
        p["id"]!.GetValue<long>(), p["code"]!.GetValue<string>(),
        p["credit_limit_amount"] is { } limit ? TrytonRpc.ToDecimal(limit) : null,
        p["addresses"] is JsonArray { Count: > 0 } addresses ? addresses.Min(a => a!.GetValue<long>()) : null, p);

    private static ErpCustomerRef ToRef(Party party) => new(party.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), party.Code, party.CreditLimit ?? 0, " ");

    private static Dictionary<long, string> Timestamp(Party party) => new() { [party.Id] = party.Raw["_timestamp"]!.GetValue<string>() };
}
