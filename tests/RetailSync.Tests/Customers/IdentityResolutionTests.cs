using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Customers;

/// <summary>
/// Identity resolution end to end in the embedded default: signed webhooks in, golden customers in the
/// grains, distribution to the sandbox CRM and ERP, and the customers API.
/// </summary>
[Collection(SandboxCollection.Name)]
public sealed class IdentityResolutionTests(SandboxHostFixture sandbox) : IAsyncLifetime
{
    private const string Shop = ShopifyFixtures.Shop;
    private const string Tenant = "sandbox";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public async Task InitializeAsync()
    {
        await sandbox.ResetAsync();
        sandbox.BcSim.SeedItem("IPOD2008PINK", "iPod Nano 8GB pink", 199m, 100m);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static long NewId() => Random.Shared.NextInt64(1_000_000_000, 9_000_000_000);

    private static string Unique(string name) => $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)];

    /// <summary>The orders/create fixture as another order; a null customer id makes it a guest checkout.</summary>
    private static byte[] Order(long orderId, long? customerId, string? email, string first = "John", string last = "Smith")
    {
        var node = JsonNode.Parse(ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", orderId, DateTimeOffset.UtcNow))!.AsObject();
        node["email"] = email;
        node["contact_email"] = email;
        if (customerId is { } id)
        {
            node["customer"]!["id"] = id;
            node["customer"]!["email"] = email;
            node["customer"]!["first_name"] = first;
            node["customer"]!["last_name"] = last;
        }
        else
        {
            node["customer"] = null;
            node["billing_address"]!["first_name"] = first;
            node["billing_address"]!["last_name"] = last;
        }

        return Encoding.UTF8.GetBytes(node.ToJsonString());
    }

    private static byte[] ShopifyCustomer(long id, string email, string first, string last, string? phone = null, DateTimeOffset? updatedAt = null,
        string address1 = "12 Elm Street", string zip = "94105")
    {
        var node = JsonNode.Parse(ShopifyFixtures.Bytes("customers_create__hookdeck-2024-10.json"))!.AsObject();
        node["id"] = id;
        node["email"] = email;
        node["first_name"] = first;
        node["last_name"] = last;
        node["phone"] = phone;
        node["updated_at"] = (updatedAt ?? DateTimeOffset.UtcNow).ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture);
        node["default_address"] = new JsonObject
        {
            ["id"] = id + 1, ["customer_id"] = id, ["first_name"] = first, ["last_name"] = last, ["address1"] = address1, ["address2"] = null,
            ["city"] = "San Francisco", ["zip"] = zip, ["country_code"] = "US", ["country"] = "United States", ["phone"] = phone, ["default"] = true,
        };
        return Encoding.UTF8.GetBytes(node.ToJsonString());
    }

    private async Task SendAsync(string topic, byte[] body)
    {
        var response = await sandbox.Http.SendAsync(ShopifyFixtures.Delivery(topic, body));
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{topic}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static HttpRequestMessage Signed(string path, string secret, object body) =>
        ShopifyFixtures.SignedCallback(path, JsonSerializer.SerializeToUtf8Bytes(body), secret);

    private async Task<JsonElement> CallbackAsync(string path, string secret, object body)
    {
        var response = await sandbox.Http.SendAsync(Signed(path, secret, body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task<string> GoldenOfOrderAsync(long orderId) =>
        await Eventually.SucceedsAsync(async () =>
        {
            var (status, order) = await sandbox.Http.GetApiAsync($"/api/v1/orders/{Shop}/{orderId}");
            return status == HttpStatusCode.OK && order.GetProperty("goldenCustomerId").GetString() is { } golden
                ? golden
                : throw new InvalidOperationException($"order {orderId} has no golden customer yet");
        }, Deadline);

    private async Task<string> GoldenOfShopifyCustomerAsync(long customerId)
    {
        var (status, customer) = await sandbox.Http.GetApiAsync($"/api/v1/sources/shopify/{Shop}/customers/{customerId}");
        Assert.Equal(HttpStatusCode.OK, status);
        return customer.GetProperty("goldenId").GetString()!;
    }

    private async Task<JsonElement> CustomerAsync(string goldenId)
    {
        var (status, customer) = await sandbox.Http.GetApiAsync($"/api/v1/customers/{Tenant}/{goldenId}");
        Assert.Equal(HttpStatusCode.OK, status);
        return customer;
    }

    private async Task<List<JsonElement>> LookupAsync(string query)
    {
        var (status, found) = await sandbox.Http.GetApiAsync($"/api/v1/customers/{Tenant}?{query}");
        Assert.Equal(HttpStatusCode.OK, status);
        return [.. found.GetProperty("items").EnumerateArray()];
    }

    private static string? Field(JsonElement customer, string name) =>
        customer.GetProperty("fields").TryGetProperty(name, out var f) ? f.GetProperty("value").GetString() : null;

    private async Task<List<JsonElement>> OpenCandidatesAsync(string goldenId)
    {
        var (_, list) = await sandbox.Http.GetApiAsync("/api/v1/ops/exceptions");
        return [.. list.GetProperty("items").EnumerateArray()
            .Where(e => e.GetProperty("operation").GetString() == "mergeCandidate" && e.GetProperty("payload").GetString()!.Contains(goldenId, StringComparison.Ordinal))];
    }

    [Fact]
    public async Task fifty_concurrent_first_orders_with_one_email_make_one_golden_customer()
    {
        var email = $"{Unique("rush")}@example.com";
        var ids = Enumerable.Range(0, 50).Select(_ => NewId()).ToList();
        // Guests, the same address typed differently: one person.
        await Task.WhenAll(ids.Select((id, i) => SendAsync("orders/create", Order(id, null, i % 2 == 0 ? email : $"  {email.ToUpperInvariant()} ", "Rita", "Rush"))));

        var goldens = await Task.WhenAll(ids.Select(GoldenOfOrderAsync));
        var golden = Assert.Single(goldens.Distinct());

        var found = Assert.Single(await LookupAsync($"email={Uri.EscapeDataString(email)}"));
        Assert.Equal(golden, found.GetProperty("goldenId").GetString());
        Assert.Equal(ids.Select(id => $"{Shop}/{id}").Order(), found.GetProperty("orders").EnumerateArray().Select(o => o.GetString()).Order());

        // The ERP books all 50 orders on that one customer, which it holds once.
        await Eventually.TrueAsync(() => Task.FromResult(sandbox.BcSim.Entities("salesOrders")
            .Count(o => ids.Contains(long.Parse(o["externalDocumentNumber"]!.GetValue<string>(), CultureInfo.InvariantCulture))) == 50), Deadline, "50 sales orders");
        Assert.All(sandbox.BcSim.Entities("salesOrders").Where(o => ids.Contains(long.Parse(o["externalDocumentNumber"]!.GetValue<string>(), CultureInfo.InvariantCulture))),
            o => Assert.Equal(golden, o["customerNumber"]!.GetValue<string>()));
        Assert.Single(sandbox.BcSim.Entities("customers"), c => c["number"]!.GetValue<string>() == golden);
    }

    [Fact]
    public async Task a_guest_order_attaches_to_the_registered_customer_of_its_email_and_an_order_without_email_stays_unattached()
    {
        var customerId = NewId();
        var email = $"{Unique("mia")}@Example.com";
        await SendAsync("customers/create", ShopifyCustomer(customerId, email, "Mia", "Keller"));
        var golden = await GoldenOfShopifyCustomerAsync(customerId);

        var guestOrder = NewId();
        await SendAsync("orders/create", Order(guestOrder, null, $" {email.ToLowerInvariant()}  ", "Mia", "Keller"));
        Assert.Equal(golden, await GoldenOfOrderAsync(guestOrder));

        var anonymous = NewId();
        await SendAsync("orders/create", Order(anonymous, null, null));
        var (_, order) = await sandbox.Http.GetApiAsync($"/api/v1/orders/{Shop}/{anonymous}");
        Assert.Equal(JsonValueKind.Null, order.GetProperty("goldenCustomerId").ValueKind);
        Assert.Contains(order.GetProperty("timeline").EnumerateArray(), e => e.GetProperty("kind").GetString() == "identity"
            && e.GetProperty("detail").GetString()!.Contains("unattached", StringComparison.Ordinal));

        var customer = await CustomerAsync(golden);
        Assert.Contains($"{Shop}/{guestOrder}", customer.GetProperty("orders").EnumerateArray().Select(o => o.GetString()));
        Assert.Equal(2, customer.GetProperty("sources").GetArrayLength());
    }

    [Fact]
    public async Task a_family_inbox_gives_two_customers_and_a_candidate_that_a_steward_approves_and_then_unmerges()
    {
        var email = $"{Unique("family")}@example.com";
        var (anna, peter) = (NewId(), NewId());
        await SendAsync("customers/create", ShopifyCustomer(anna, email, "Anna", "Berg"));
        await SendAsync("customers/create", ShopifyCustomer(peter, email, "Peter", "Berg", address1: "7 Oak Lane", zip: "94110"));
        var (goldenAnna, goldenPeter) = (await GoldenOfShopifyCustomerAsync(anna), await GoldenOfShopifyCustomerAsync(peter));
        Assert.NotEqual(goldenAnna, goldenPeter);

        // Peter's next update finds his own customer again (email + first name), not Anna's.
        await SendAsync("customers/update", ShopifyCustomer(peter, email, "Peter", "Berg", "+1 415-555-2671", address1: "7 Oak Lane", zip: "94110"));
        Assert.Equal(goldenPeter, await GoldenOfShopifyCustomerAsync(peter));

        var candidate = Assert.Single(await OpenCandidatesAsync(goldenPeter));
        Assert.Contains("first names differ", candidate.GetProperty("vendorMessage").GetString(), StringComparison.Ordinal);
        var approve = await sandbox.Http.SendAsync(ApiPost($"/api/v1/ops/exceptions/{candidate.GetProperty("id").GetString()}/approve", new { actor = "steward@retailer" }));
        Assert.Equal(HttpStatusCode.OK, approve.StatusCode);

        // The older record survives; the other id keeps resolving to it; the audit shows who and what.
        var survivor = await CustomerAsync(goldenPeter);
        Assert.Equal(goldenAnna, survivor.GetProperty("goldenId").GetString());
        Assert.Equal(goldenPeter, survivor.GetProperty("requestedId").GetString());
        var merge = Assert.Single(survivor.GetProperty("mergeHistory").EnumerateArray(), h => h.GetProperty("kind").GetString() == "merge");
        Assert.Equal("steward@retailer", merge.GetProperty("actor").GetString());
        Assert.Equal("approved by a data steward", merge.GetProperty("rule").GetString());
        Assert.Contains(merge.GetProperty("changes").EnumerateArray(), c => c.GetProperty("field").GetString() == "phone" && c.GetProperty("after").GetString() == "+1 415-555-2671");
        Assert.Contains($"shopify:{Shop}/{peter}", merge.GetProperty("sourceKeys").EnumerateArray().Select(k => k.GetString()));
        Assert.Empty(await OpenCandidatesAsync(goldenPeter));

        var split = await sandbox.Http.SendAsync(ApiPost($"/api/v1/customers/{Tenant}/{goldenAnna}/unmerge", new { absorbedId = goldenPeter, actor = "steward@retailer" }));
        Assert.Equal(HttpStatusCode.OK, split.StatusCode);
        var (annaAfter, peterAfter) = (await CustomerAsync(goldenAnna), await CustomerAsync(goldenPeter));
        Assert.Equal(("Anna", "Peter"), (Field(annaAfter, "firstName"), Field(peterAfter, "firstName")));
        Assert.Null(Field(annaAfter, "phone"));
        Assert.Equal(JsonValueKind.Null, peterAfter.GetProperty("requestedId").ValueKind);
        Assert.Contains(annaAfter.GetProperty("mergeHistory").EnumerateArray(), h => h.GetProperty("kind").GetString() == "unmerge");
        Assert.Equal(goldenPeter, await GoldenOfShopifyCustomerAsync(peter));
    }

    [Fact]
    public async Task a_household_phone_is_no_evidence_the_same_name_on_it_is_a_candidate_never_a_merge_and_a_rejection_is_remembered()
    {
        var (lea, tom, thom) = (NewId(), NewId(), NewId());
        await SendAsync("customers/create", ShopifyCustomer(lea, $"{Unique("lea")}@example.com", "Lea", "Novak", "(650) 253-0000"));
        await SendAsync("customers/create", ShopifyCustomer(tom, $"{Unique("tom")}@example.com", "Tom", "Novak", "+16502530000", address1: "1 Pine Court", zip: "94111"));
        var (goldenLea, goldenTom) = (await GoldenOfShopifyCustomerAsync(lea), await GoldenOfShopifyCustomerAsync(tom));
        Assert.NotEqual(goldenLea, goldenTom);
        Assert.Empty(await OpenCandidatesAsync(goldenTom));

        // The same phone and (nearly) the same name under another email: maybe Tom again, so a steward is asked.
        await SendAsync("customers/create", ShopifyCustomer(thom, $"{Unique("thom")}@example.com", "Thom", "Novak", "650.253.0000", address1: "3 Birch Road", zip: "94112"));
        var goldenThom = await GoldenOfShopifyCustomerAsync(thom);
        Assert.NotEqual(goldenTom, goldenThom);
        var candidate = Assert.Single(await OpenCandidatesAsync(goldenThom));
        Assert.Contains(goldenTom, candidate.GetProperty("payload").GetString(), StringComparison.Ordinal);
        Assert.Contains("same phone and name", candidate.GetProperty("vendorMessage").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await sandbox.Http.SendAsync(ApiPost($"/api/v1/ops/exceptions/{candidate.GetProperty("id").GetString()}/reject", new { actor = "steward" }))).StatusCode);
        Assert.Empty(await OpenCandidatesAsync(goldenThom));

        await SendAsync("customers/update", ShopifyCustomer(thom, $"{Unique("thom")}@example.com", "Thom", "Novak", "650.253.0000", address1: "3 Birch Road", zip: "94112"));
        Assert.Empty(await OpenCandidatesAsync(goldenThom));
        Assert.Equal(3, (await LookupAsync("phone=%2B16502530000")).Count);
    }

    [Fact]
    public async Task each_field_follows_its_owner_and_the_golden_record_reaches_the_crm_and_the_erp()
    {
        var customerId = NewId();
        var email = $"{Unique("owner")}@example.com";
        var t0 = DateTimeOffset.UtcNow.AddMinutes(-10);
        await SendAsync("customers/create", ShopifyCustomer(customerId, email, "Ola", "Nordmann", updatedAt: t0));
        var golden = await GoldenOfShopifyCustomerAsync(customerId);

        // The ERP's customer (our golden id is its number) sets billing and credit; the CRM sets the segment.
        var erp = await CallbackAsync("/webhooks/erp/bc", "sandbox-erp-secret", new
        {
            eventId = Guid.NewGuid().ToString(), type = "customer.changed", id = golden, goldenId = golden, occurredAt = t0.AddMinutes(1),
            fields = new Dictionary<string, string> { ["billingAddress"] = "1 Ledger Road||94107|San Francisco|US", ["creditLimit"] = "2500", ["paymentTerms"] = "NET30" },
        });
        Assert.Equal(golden, erp.GetProperty("goldenId").GetString());
        await CallbackAsync("/webhooks/crm/salesforce", "sandbox-crm-secret", new
        {
            eventId = Guid.NewGuid().ToString(), type = "contact.changed", id = "003CRM" + customerId, occurredAt = t0.AddMinutes(2),
            fields = new Dictionary<string, string> { ["email"] = email.ToUpperInvariant(), ["segment"] = "VIP", ["firstName"] = "Ola" },
        });

        // Later Shopify changes the default address: shipping follows, billing stays the ERP's.
        await SendAsync("customers/update", ShopifyCustomer(customerId, email, "Ola", "Nordmann", updatedAt: t0.AddMinutes(3), address1: "99 New Street"));
        var customer = await CustomerAsync(golden);
        Assert.Equal(("1 Ledger Road||94107|San Francisco|US", "erp"), (Field(customer, "billingAddress"), customer.GetProperty("fields").GetProperty("billingAddress").GetProperty("system").GetString()));
        Assert.StartsWith("99 New Street", Field(customer, "shippingAddress"), StringComparison.Ordinal);
        Assert.Equal(("2500", "VIP"), (Field(customer, "creditLimit"), Field(customer, "segment")));
        Assert.Equal(3, customer.GetProperty("sources").GetArrayLength());
        Assert.Contains(customer.GetProperty("timeline").EnumerateArray(), e => e.GetProperty("kind").GetString() == "identity:notApplied"
            && e.GetProperty("detail").GetString()!.Contains("billingAddress (erp owns it)", StringComparison.Ordinal));

        // Distribution: the CRM contact is keyed by the golden id and the ERP customer number is the golden id, each once.
        await Eventually.TrueAsync(async () =>
        {
            var view = await CustomerAsync(golden);
            return view.GetProperty("distribution").EnumerateObject().All(d => d.Value.GetString() == "Synced")
                && sandbox.SalesforceSim.Records("Contact").Any(c => c["RetailSync_Golden_Id__c"]?.GetValue<string>() == golden && c["MailingStreet"]?.GetValue<string>() == "1 Ledger Road");
        }, Deadline, "golden record synced to the CRM and the ERP");
        Assert.Single(sandbox.SalesforceSim.Records("Contact"), c => c["RetailSync_Golden_Id__c"]?.GetValue<string>() == golden);
        var erpCustomer = Assert.Single(sandbox.BcSim.Entities("customers"), c => c["number"]!.GetValue<string>() == golden);
        Assert.Equal("Ola Nordmann", erpCustomer["displayName"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_redaction_removes_the_person_from_the_golden_record_and_frees_their_keys()
    {
        var customerId = NewId();
        var email = $"{Unique("forget")}@example.com";
        await SendAsync("customers/create", ShopifyCustomer(customerId, email, "Fay", "Gone", "+1 415-555-0199"));
        var golden = await GoldenOfShopifyCustomerAsync(customerId);
        Assert.Single(await LookupAsync($"email={Uri.EscapeDataString(email)}"));

        var redact = new JsonObject { ["shop_id"] = 1, ["shop_domain"] = Shop, ["customer"] = new JsonObject { ["id"] = customerId, ["email"] = email }, ["orders_to_redact"] = new JsonArray() };
        await SendAsync("customers/redact", Encoding.UTF8.GetBytes(redact.ToJsonString()));

        await Eventually.TrueAsync(async () => (await CustomerAsync(golden)).GetProperty("redacted").GetBoolean(), Deadline, "golden record redacted");
        var customer = await CustomerAsync(golden);
        Assert.Empty(customer.GetProperty("fields").EnumerateObject());
        Assert.Empty(customer.GetProperty("sources").EnumerateArray());
        Assert.DoesNotContain(email, customer.GetRawText(), StringComparison.OrdinalIgnoreCase);
        Assert.Empty(await LookupAsync($"email={Uri.EscapeDataString(email)}"));
    }

    [Fact]
    public async Task bad_lookups_and_bad_callbacks_get_problem_details()
    {
        var (status, problem) = await sandbox.Http.GetApiAsync($"/api/v1/customers/{Tenant}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("Missing lookup key", problem.GetProperty("title").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await sandbox.Http.GetApiAsync($"/api/v1/customers/{Tenant}/G0000000000000000")).Status);

        var unsigned = Signed("/webhooks/crm/salesforce", "wrong-secret", new { eventId = "e", type = "contact.changed", id = "003X", occurredAt = DateTimeOffset.UtcNow });
        Assert.Equal(HttpStatusCode.Unauthorized, (await sandbox.Http.SendAsync(unsigned)).StatusCode);
        var unknownField = await sandbox.Http.SendAsync(Signed("/webhooks/crm/salesforce", "sandbox-crm-secret",
            new { eventId = "e", type = "contact.changed", id = "003X", occurredAt = DateTimeOffset.UtcNow, fields = new { shoeSize = "44" } }));
        Assert.Equal(HttpStatusCode.BadRequest, unknownField.StatusCode);
        Assert.Equal("application/problem+json", unknownField.Content.Headers.ContentType?.MediaType);
    }

    private static HttpRequestMessage ApiPost(string path, object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "dev-api-key");
        return request;
    }
}
