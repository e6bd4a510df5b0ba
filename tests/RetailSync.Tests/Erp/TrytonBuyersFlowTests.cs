using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Erp;

/// <summary>
/// Ordinary buyers through the whole system into a real Tryton: each new buyer's golden record and their
/// order reach the ERP at the same time, with the phones people type (international, national, none).
/// Every order must end as one processed sale, every buyer as one party with their phone and address, and
/// nothing may wait in the exception queue.
/// </summary>
[Collection(TrytonCollection.Name)]
public sealed class TrytonBuyersFlowTests(TrytonFixture tryton) : IAsyncLifetime
{
    private const string Shop = ShopifyFixtures.Shop;
    private const string Sku = "TRY-BUYERS";
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(4);
    private InProcessHost host = null!;

    public async Task InitializeAsync() => host = await tryton.StartHostAsync();

    public async Task DisposeAsync() => await host.DisposeAsync();

    /// <summary>A buyer as Shopify sends them; <see cref="Expected"/> is the E.164 number Tryton must hold (null: no phone).</summary>
    private sealed record Buyer(long CustomerId, string? Email, string First, string Last, string? Phone, string? Expected, string Street, string City, string Zip, string Country);

    private static Buyer NewBuyer(int i)
    {
        var customerId = Random.Shared.NextInt64(1_000_000_000, 9_000_000_000);
        var last = "Buyer" + Convert.ToString(customerId, 16);
        // Every tenth buyer gives no email (a phone-only checkout); the phones are each buyer's own.
        var email = i % 10 == 9 ? null : $"buyer-{customerId}@example.com";
        var n = (i % 100).ToString("00", CultureInfo.InvariantCulture);
        return (i % 4) switch
        {
            0 => new(customerId, email, "Ann", last, $"+1 613 555 01{n}", $"+161355501{n}", $"{i + 1} Sparks St", "Ottawa", "K1P 5B4", "CA"),
            1 => new(customerId, email, "Bob", last, $"(613) 555-01{n}", $"+161355501{n}", $"{i + 1} Elgin St", "Ottawa", "K2P 1L4", "CA"),
            2 => new(customerId, email, "Cai", last, $"020 7946 00{n}", $"+4420794600{n}", $"{i + 1} Baker St", "London", "NW1 6XE", "GB"),
            _ => new(customerId, email, "Dee", last, null, null, $"{i + 1} Main St", "Boston", "02110", "US"),
        };
    }

    private static JsonObject Address(Buyer b) => new()
    {
        ["first_name"] = b.First, ["last_name"] = b.Last, ["address1"] = b.Street, ["address2"] = null, ["city"] = b.City, ["zip"] = b.Zip,
        ["country_code"] = b.Country, ["phone"] = b.Phone, ["name"] = $"{b.First} {b.Last}",
    };

    /// <summary>The orders/create fixture as one line of <see cref="Sku"/> bought by <paramref name="buyer"/>.</summary>
    private static (long Id, byte[] Body) OrderOf(Buyer buyer)
    {
        var id = Random.Shared.NextInt64(1_000_000_000, 9_000_000_000);
        var node = JsonNode.Parse(ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", id, DateTimeOffset.UtcNow))!.AsObject();
        var line = node["line_items"]![0]!.DeepClone().AsObject();
        line["id"] = Random.Shared.NextInt64(1_000_000_000, 9_000_000_000);
        line["sku"] = Sku;
        line["price"] = "20.00";
        node["line_items"] = new JsonArray(line);
        node["email"] = buyer.Email;
        node["contact_email"] = buyer.Email;
        node["phone"] = null;
        node["billing_address"] = Address(buyer);
        node["shipping_address"] = Address(buyer);
        var customer = node["customer"]!.AsObject();
        customer["id"] = buyer.CustomerId;
        customer["email"] = buyer.Email;
        customer["first_name"] = buyer.First;
        customer["last_name"] = buyer.Last;
        customer["phone"] = buyer.Phone;
        var address = Address(buyer);
        address["id"] = Random.Shared.NextInt64(1_000_000_000, 9_000_000_000);
        address["customer_id"] = buyer.CustomerId;
        address["default"] = true;
        customer["default_address"] = address;
        return (id, Encoding.UTF8.GetBytes(node.ToJsonString()));
    }

    /// <summary>The order as Shopify has it (its status tags and metafields are written back there), then its webhook.</summary>
    private async Task SendOrderAsync((long Id, byte[] Body) order)
    {
        host.App.Services.GetRequiredService<RetailSync.Sandbox.Shopify.ShopifySimulator>().SeedOrder(order.Id.ToString(CultureInfo.InvariantCulture), $"#{order.Id}");
        await SendAsync("orders/create", order.Body);
    }

    private async Task SendAsync(string topic, byte[] body) =>
        Assert.Equal(HttpStatusCode.OK, (await host.Http.SendAsync(ShopifyFixtures.Delivery(topic, body))).StatusCode);

    /// <summary>The golden ids of the orders' buyers once every order is Accepted (its Tryton sale processing).</summary>
    private async Task<Dictionary<long, string>> AcceptedAsync(IReadOnlyCollection<long> orders)
    {
        var golden = new Dictionary<long, string>();
        var last = "";
        try
        {
            await Eventually.TrueAsync(async () =>
            {
                foreach (var id in orders.Where(o => !golden.ContainsKey(o)))
                {
                    var (code, order) = await host.Http.GetApiAsync($"/api/v1/orders/{Shop}/{id}");
                    if (code == HttpStatusCode.OK && order.GetProperty("status").GetString() is "Rejected" or "OnHold")
                    {
                        // An end state that is not Accepted: no need to wait out the deadline.
                        Assert.Fail($"order {id} ended {order.GetProperty("status").GetString()}: {order.GetProperty("systems").GetRawText()}");
                    }

                    if (code != HttpStatusCode.OK || order.GetProperty("status").GetString() != "Accepted")
                    {
                        last = code == HttpStatusCode.OK ? order.GetRawText() : code.ToString();
                        return false;
                    }

                    golden[id] = order.GetProperty("goldenCustomerId").GetString()!;
                }

                return true;
            }, Deadline, "every order Accepted");
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}: {golden.Count} of {orders.Count}; last seen: {last[..Math.Min(last.Length, 3000)]}", ex);
        }

        return golden;
    }

    private async Task<JsonArray> SalesAsync(long id) =>
        await tryton.Erp.Rpc.SearchReadAsync("sale.sale", [new JsonArray("reference", "=", id.ToString(CultureInfo.InvariantCulture))], ["id", "state", "party"]);

    /// <summary>What is wrong with the buyer's party in Tryton, or null when it is their one party with their phone and address.</summary>
    private async Task<string?> PartyProblemAsync(string golden, Buyer buyer)
    {
        var rpc = tryton.Erp.Rpc;
        var parties = await rpc.SearchReadAsync("party.party", [new JsonArray("code", "=", golden)], ["id"]);
        if (parties.Count != 1)
        {
            return $"{parties.Count} parties with code {golden}";
        }

        var id = parties[0]!["id"]!.GetValue<long>();
        if (buyer.Email is { } email && (await rpc.SearchReadAsync("party.party", [new JsonArray("contact_mechanisms.value", "=", email)], ["id"])).Count != 1)
        {
            return $"not one party with {email}";
        }

        var phones = (await rpc.SearchReadAsync("party.contact_mechanism", [new JsonArray("party", "=", id), new JsonArray("type", "in", new JsonArray("phone", "other"))],
            ["type", "value_compact"])).OfType<JsonObject>().Select(m => $"{m["type"]}:{m["value_compact"]}").ToList();
        string[] expected = buyer.Expected is null ? [] : [$"phone:{buyer.Expected}"];
        if (!phones.SequenceEqual(expected))
        {
            return $"{golden} has phones [{string.Join(", ", phones)}], expected [{string.Join(", ", expected)}]";
        }

        var addresses = (await rpc.SearchReadAsync("party.address", [new JsonArray("party", "=", id)], ["street", "country"])).OfType<JsonObject>().ToList();
        if (addresses.Count != 1 || addresses[0]["street"]?.GetValue<string>() != buyer.Street || addresses[0]["country"]?.GetValue<long?>() is not { } country)
        {
            return $"{golden} has addresses {new JsonArray([.. addresses.Select(a => a.DeepClone())]).ToJsonString()}";
        }

        var code = (await rpc.ModelAsync("country.country", "read", [new JsonArray(country), new JsonArray("code")]))![0]!["code"]!.GetValue<string>();
        return code == buyer.Country ? null : $"{golden}'s address is in {code}, expected {buyer.Country}";
    }

    private async Task NothingOpenAsync()
    {
        var (_, list) = await host.Http.GetApiAsync("/api/v1/ops/exceptions");
        Assert.True(list.GetProperty("items").GetArrayLength() == 0, "open exceptions: " + list.GetProperty("items").GetRawText());
    }

    [Fact]
    public async Task a_hundred_new_buyers_with_international_national_and_no_phones_become_one_party_and_one_sale_each()
    {
        var buyers = Enumerable.Range(0, 100).Select(NewBuyer).ToList();
        var orders = buyers.Select(b => (Buyer: b, Order: OrderOf(b))).ToList();
        foreach (var (_, order) in orders)
        {
            await SendOrderAsync(order);
        }

        var golden = await AcceptedAsync([.. orders.Select(o => o.Order.Id)]);

        foreach (var (_, (id, _)) in orders)
        {
            var sale = Assert.Single(await SalesAsync(id))!;
            Assert.Equal("processing", sale["state"]!.GetValue<string>());
        }

        Assert.Equal(100, golden.Values.Distinct().Count());
        // The golden record's own distribution may still be writing: each party settles, then is checked.
        var problems = new Dictionary<string, string?>();
        await Eventually.TrueAsync(async () =>
        {
            foreach (var (buyer, (id, _)) in orders)
            {
                problems[golden[id]] = await PartyProblemAsync(golden[id], buyer);
            }

            return problems.Values.All(p => p is null);
        }, Deadline, "every buyer one party with their phone and address").ContinueWith(t => t.IsFaulted
            ? throw new TimeoutException(string.Join("; ", problems.Values.Where(p => p is not null).Take(5)))
            : Task.CompletedTask).Unwrap();
        await NothingOpenAsync();
    }

    [Fact]
    public async Task ten_orders_of_one_new_buyer_sent_at_once_and_the_buyer_updated_meanwhile_make_ten_sales_of_one_party()
    {
        var buyer = NewBuyer(1) with { Email = $"rush-{Guid.NewGuid():N}@example.com" };
        var orders = Enumerable.Range(0, 10).Select(_ => OrderOf(buyer)).ToList();
        // The buyer edits their profile (a new mobile number) while their first orders are submitted.
        var update = JsonNode.Parse(ShopifyFixtures.Bytes("customers_update__hookdeck-2024-10.json"))!.AsObject();
        update["id"] = buyer.CustomerId;
        update["email"] = buyer.Email;
        update["first_name"] = buyer.First;
        update["last_name"] = buyer.Last;
        update["phone"] = "+1 613 555 0199";
        update["updated_at"] = DateTimeOffset.UtcNow.AddSeconds(1).ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture);

        await Task.WhenAll([.. orders.Select(SendOrderAsync), SendAsync("customers/update", Encoding.UTF8.GetBytes(update.ToJsonString()))]);

        var golden = await AcceptedAsync([.. orders.Select(o => o.Id)]);
        var party = Assert.Single(golden.Values.Distinct());
        var parties = await tryton.Erp.Rpc.SearchReadAsync("party.party", [new JsonArray("code", "=", party)], ["id"]);
        var partyId = Assert.Single(parties)!["id"]!.GetValue<long>();
        foreach (var (id, _) in orders)
        {
            var sale = Assert.Single(await SalesAsync(id))!;
            Assert.Equal("processing", sale["state"]!.GetValue<string>());
            Assert.Equal(partyId, sale["party"]!.GetValue<long>());
        }

        Assert.Single(await tryton.Erp.Rpc.SearchReadAsync("party.party", [new JsonArray("contact_mechanisms.value", "=", buyer.Email)], ["id"]));
        // The number from the update reaches the party as well (both numbers are the buyer's: nothing is removed).
        await Eventually.TrueAsync(async () => (await tryton.Erp.Rpc.SearchReadAsync("party.contact_mechanism",
            [new JsonArray("party", "=", partyId), new JsonArray("value_compact", "=", "+16135550199")], ["id"])).Count == 1, Deadline, "the updated phone in Tryton");
        await NothingOpenAsync();
    }
}
