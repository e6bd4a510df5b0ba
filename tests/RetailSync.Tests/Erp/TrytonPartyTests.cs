using System.Globalization;
using System.Text.Json.Nodes;
using RetailSync.Connectors;
using RetailSync.Connectors.Tryton;
using RetailSync.Customers;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Erp;

/// <summary>
/// Buyers as they come, into a real Tryton: national and international phones, none, one no numbering plan
/// reads, and the same new buyer created by many callers at once (their golden record and their orders).
/// </summary>
[Collection(TrytonCollection.Name)]
public sealed class TrytonPartyTests(TrytonFixture tryton)
{
    private TrytonRpc Rpc => tryton.Erp.Rpc;

    private static string NewNumber() => GoldenIds.New();

    /// <summary>The parties whose code is <paramref name="code"/>, with their contact mechanisms and first address's country.</summary>
    private async Task<List<(long Id, string Name, List<(string Type, string Value, string? Compact)> Mechanisms, string? Country, string? Street)>> PartiesAsync(string code)
    {
        var parties = await Rpc.SearchReadAsync("party.party", [new JsonArray("code", "=", code)], ["id", "name"]);
        var found = new List<(long, string, List<(string, string, string?)>, string?, string?)>();
        foreach (var party in parties.OfType<JsonObject>())
        {
            var id = party["id"]!.GetValue<long>();
            var mechanisms = (await Rpc.SearchReadAsync("party.contact_mechanism", [new JsonArray("party", "=", id)], ["type", "value", "value_compact"]))
                .OfType<JsonObject>().Select(m => (m["type"]!.GetValue<string>(), m["value"]!.GetValue<string>(), m["value_compact"]?.GetValue<string>())).ToList();
            var address = (await Rpc.SearchReadAsync("party.address", [new JsonArray("party", "=", id)], ["street", "country"], 1, "id")).OfType<JsonObject>().FirstOrDefault();
            string? country = null;
            if (address?["country"]?.GetValue<long?>() is { } countryId)
            {
                country = (await Rpc.ModelAsync("country.country", "read", [new JsonArray(countryId), new JsonArray("code")]))![0]!["code"]!.GetValue<string>();
            }

            found.Add((id, party["name"]!.GetValue<string>(), mechanisms, country, address?["street"]?.GetValue<string>()));
        }

        return found;
    }

    [Fact]
    public async Task ten_callers_creating_one_new_buyer_at_once_leave_one_party_and_no_refusal()
    {
        // The buyer's golden record and nine of their orders reach Tryton together, each through its own session.
        var customer = new ErpCustomer(NewNumber(), "Maple Buyer", $"maple-{Guid.NewGuid():N}@example.com", "(613) 555-0142", "1 Sparks St", "Ottawa", "K1P 5B4", "CA");
        var clients = Enumerable.Range(0, 10).Select(_ => tryton.Server.Client()).ToList();

        var answers = await Task.WhenAll(clients.Select(c => c.UpsertCustomersAsync([customer])));

        Assert.All(answers, a => Assert.Null(a[0].Error));
        var party = Assert.Single(await PartiesAsync(customer.Number));
        Assert.All(answers, a => Assert.Equal(party.Id.ToString(CultureInfo.InvariantCulture), a[0].Customer!.Id));
        Assert.Single(party.Mechanisms, m => m.Type == "email");
        Assert.Equal("+16135550142", Assert.Single(party.Mechanisms, m => m.Type == "phone").Compact);
        Assert.Equal("CA", party.Country);
    }

    [Fact]
    public async Task phones_reach_tryton_in_e164_and_one_no_plan_reads_is_kept_without_refusing_the_party()
    {
        var national = new ErpCustomer(NewNumber(), "Nat Onal", null, "(613) 555-0100", "1 Main St", "Ottawa", "K1A 0B1", "CA");
        var british = new ErpCustomer(NewNumber(), "Brit Ish", null, "020 7946 0958", "10 Downing St", "London", "SW1A 2AA", "GB");
        var international = new ErpCustomer(NewNumber(), "Inter National", null, "+1 613 555 0101", null, null, null, null);
        var madeUp = new ErpCustomer(NewNumber(), "Steve Shipper", null, "555-555-SHIP", "123 Shipping Street", "Shippington", "40003", "US");
        var none = new ErpCustomer(NewNumber(), "No Phone", null, null, "2 Main St", "Boston", "02110", "US");
        ErpCustomer[] all = [national, british, international, madeUp, none];

        var results = await tryton.Erp.UpsertCustomersAsync(all);
        Assert.All(results, r => Assert.Null(r.Error));
        // Given again (a redelivery, the next order): nothing is added twice.
        Assert.All(await tryton.Erp.UpsertCustomersAsync(all), r => Assert.Null(r.Error));

        async Task<(string Type, string Value, string? Compact)?> PhoneAsync(ErpCustomer c)
        {
            var party = Assert.Single(await PartiesAsync(c.Number));
            return party.Mechanisms.Count == 0 ? null : Assert.Single(party.Mechanisms);
        }

        Assert.Equal(("phone", "+16135550100"), ((await PhoneAsync(national))!.Value.Type, (await PhoneAsync(national))!.Value.Compact));
        Assert.Equal("+442079460958", (await PhoneAsync(british))!.Value.Compact);
        Assert.Equal("+16135550101", (await PhoneAsync(international))!.Value.Compact);
        Assert.Equal(("other", "555-555-SHIP"), ((await PhoneAsync(madeUp))!.Value.Type, (await PhoneAsync(madeUp))!.Value.Value));
        Assert.Null(await PhoneAsync(none));
        var countries = await Task.WhenAll(all.Select(async c => (await PartiesAsync(c.Number))[0].Country ?? "-"));
        Assert.Equal(["CA", "GB", "-", "US", "US"], countries);
    }

    [Fact]
    public async Task a_golden_record_made_again_for_a_person_tryton_knows_takes_over_their_party()
    {
        // The person's first golden record made the party; the state was lost (or an unmerge made a new record).
        var email = $"again-{Guid.NewGuid():N}@example.com";
        var before = await tryton.Erp.UpsertCustomerAsync(new ErpCustomer(NewNumber(), "Ada Lovelace", email, null, "12 St James's Sq", "London", "SW1Y 4JH", "GB"));

        var again = new ErpCustomer(NewNumber(), "A. Lovelace", email, "+44 20 7946 0018", null, null, null, "GB");
        var after = await tryton.Erp.UpsertCustomerAsync(again);

        Assert.Equal(before.Id, after.Id);
        Assert.Equal(again.Number, after.Number);
        Assert.Empty(await PartiesAsync(before.Number));
        var party = Assert.Single(await PartiesAsync(again.Number));
        Assert.Equal("+442079460018", Assert.Single(party.Mechanisms, m => m.Type == "phone").Compact);
        Assert.Single(await Rpc.SearchReadAsync("party.party", [new JsonArray("contact_mechanisms.value", "=", email)], ["id"]));
    }
}
