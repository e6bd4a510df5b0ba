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
        var missing = new List<ErpCustomer>();
        foreach (var customer in distinct)
        {
            if (!known.TryGetValue(customer.Number, out var party))
            {
                missing.Add(customer);
                continue;
            }

            results[customer.Number] = await Catch(customer, () => UpdatePartyAsync(party, customer, cancellationToken));
        }

        // Not known by our id: the same person may be in the ERP already (entered by hand, or a guest before
        // we had an id for them). Found by email, the party takes our id as its code; else it is created. A
        // party that carries another golden id is someone else sharing the inbox (a family's address): never taken.
        var toCreate = new List<ErpCustomer>();
        foreach (var customer in missing)
        {
            var byEmail = string.IsNullOrEmpty(customer.Email) ? null : await FindPartyByEmailAsync(customer.Email, adoptableOnly: true, cancellationToken);
            if (byEmail is null)
            {
                toCreate.Add(customer);
                continue;
            }

            results[customer.Number] = await Catch(customer, async () =>
            {
                await rpc.WriteAsync("party.party", [byEmail.Id], new JsonObject { ["code"] = customer.Number }, Timestamp(byEmail), cancellationToken);
                return await UpdatePartyAsync((await PartiesByCodeAsync([customer.Number], cancellationToken))[customer.Number], customer, cancellationToken);
            });
        }

        if (toCreate.Count > 0)
        {
            try
            {
                // One call creates them all; if Tryton refuses one (an invalid phone number), each is tried alone for its own answer.
                await rpc.CreateAsync("party.party", toCreate.Select(PartyValues), cancellationToken);
                var created = await PartiesByCodeAsync([.. toCreate.Select(c => c.Number)], cancellationToken);
                foreach (var customer in toCreate)
                {
                    results[customer.Number] = new(customer.Number, ToRef(created[customer.Number]), null);
                }
            }
            catch (ConnectorException ex) when (ex.Kind != FailureKind.Transient && toCreate.Count > 1)
            {
                foreach (var customer in toCreate)
                {
                    results[customer.Number] = await Catch(customer, async () =>
                    {
                        await rpc.CreateAsync("party.party", [PartyValues(customer)], cancellationToken);
                        return ToRef((await PartiesByCodeAsync([customer.Number], cancellationToken))[customer.Number]);
                    });
                }
            }
            catch (ConnectorException ex) when (ex.Kind != FailureKind.Transient)
            {
                results[toCreate[0].Number] = new(toCreate[0].Number, null, ex);
            }
        }

        return [.. customers.Select(c => results[c.Number])];

        static async Task<ErpCustomerResult> Catch(ErpCustomer customer, Func<Task<ErpCustomerRef>> run)
        {
            try
            {
                return new(customer.Number, await run(), null);
            }
            catch (ConnectorException ex) when (ex.Kind != FailureKind.Transient)
            {
                return new(customer.Number, null, ex);
            }
        }
    }

    /// <summary>The party whose code is our customer number, or null.</summary>
    public async Task<ErpCustomerRef?> FindCustomerAsync(string number, CancellationToken cancellationToken = default) =>
        (await PartiesByCodeAsync([number], cancellationToken)).TryGetValue(number, out var party) ? ToRef(party) : null;

    /// <summary>The party that has this email among its contact mechanisms, or null.</summary>
    public async Task<ErpCustomerRef?> FindCustomerByEmailAsync(string email, CancellationToken cancellationToken = default) =>
        await FindPartyByEmailAsync(email, adoptableOnly: false, cancellationToken) is { } party ? ToRef(party) : null;

    private async Task<Dictionary<string, Party>> PartiesByCodeAsync(IReadOnlyList<string> codes, CancellationToken cancellationToken)
    {
        var found = await rpc.SearchReadAsync("party.party", [new JsonArray("code", "in", new JsonArray([.. codes.Select(c => (JsonNode)c)]))], PartyFields,
            cancellationToken: cancellationToken);
        return found.OfType<JsonObject>().Select(ToParty).ToDictionary(p => p.Code, StringComparer.Ordinal);
    }

    /// <param name="adoptableOnly">Skip parties that carry a golden id: they are another customer of ours.</param>
    private async Task<Party?> FindPartyByEmailAsync(string email, bool adoptableOnly, CancellationToken cancellationToken)
    {
        // party.email is not searchable; the contact mechanism is.
        var found = await rpc.SearchReadAsync("party.party", [new JsonArray("contact_mechanisms.value", "=", email.Trim())], PartyFields, 10, "id",
            cancellationToken: cancellationToken);
        return found.OfType<JsonObject>().Select(ToParty).FirstOrDefault(p => !adoptableOnly || !RetailSync.Customers.GoldenIds.IsGolden(p.Code));
    }

    private async Task<ErpCustomerRef> UpdatePartyAsync(Party party, ErpCustomer customer, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var mechanisms = await rpc.SearchReadAsync("party.contact_mechanism", [new JsonArray("party", "=", party.Id)], ["type", "value"], cancellationToken: cancellationToken);
            var values = new JsonObject();
            if (party.Raw["name"]?.GetValue<string>() != customer.DisplayName)
            {
                values["name"] = customer.DisplayName;
            }

            var add = Mechanisms(customer).Where(m => !mechanisms.OfType<JsonObject>().Any(e => e["value"]?.GetValue<string>() == m["value"]!.GetValue<string>())).ToList();
            if (add.Count > 0)
            {
                values["contact_mechanisms"] = new JsonArray(new JsonArray("create", new JsonArray([.. add])));
            }

            if (party.Address is null && Address(customer) is { } address)
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

    private static JsonObject PartyValues(ErpCustomer customer)
    {
        var values = new JsonObject { ["code"] = customer.Number, ["name"] = customer.DisplayName };
        if (Mechanisms(customer).ToList() is { Count: > 0 } mechanisms)
        {
            values["contact_mechanisms"] = new JsonArray(new JsonArray("create", new JsonArray([.. mechanisms])));
        }

        values["addresses"] = new JsonArray(new JsonArray("create", new JsonArray(Address(customer) ?? new JsonObject())));
        return values;
    }

    private static IEnumerable<JsonObject> Mechanisms(ErpCustomer customer)
    {
        if (!string.IsNullOrWhiteSpace(customer.Email))
        {
            yield return new JsonObject { ["type"] = "email", ["value"] = customer.Email.Trim() };
        }

        if (!string.IsNullOrWhiteSpace(customer.Phone))
        {
            yield return new JsonObject { ["type"] = "phone", ["value"] = customer.Phone.Trim() };
        }
    }

    private static JsonObject? Address(ErpCustomer customer) =>
        customer.AddressLine1 is null && customer.City is null && customer.PostalCode is null
            ? null
            : new JsonObject { ["street"] = customer.AddressLine1, ["city"] = customer.City, ["postal_code"] = customer.PostalCode };

    private static Party ToParty(JsonObject p) => new(
        p["id"]!.GetValue<long>(), p["code"]!.GetValue<string>(),
        p["credit_limit_amount"] is { } limit ? TrytonRpc.ToDecimal(limit) : null,
        p["addresses"] is JsonArray { Count: > 0 } addresses ? addresses.Min(a => a!.GetValue<long>()) : null, p);

    private static ErpCustomerRef ToRef(Party party) => new(party.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), party.Code, party.CreditLimit ?? 0, " ");

    private static Dictionary<long, string> Timestamp(Party party) => new() { [party.Id] = party.Raw["_timestamp"]!.GetValue<string>() };
}
