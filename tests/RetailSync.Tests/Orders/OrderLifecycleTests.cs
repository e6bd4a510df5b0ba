using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Orders;

/// <summary>The central workflow in the embedded default: Shopify → ERP → Shopify and CRM, over HTTP to the sandbox.</summary>
[Collection(SandboxCollection.Name)]
public sealed class OrderLifecycleTests(SandboxHostFixture sandbox) : IAsyncLifetime
{
    private const string Shop = ShopifyFixtures.Shop;

    public async Task InitializeAsync()
    {
        await sandbox.ResetAsync();
        sandbox.BcSim.SeedItem("IPOD2008PINK", "iPod Nano 8GB pink", 199m, 100m);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static long NewId() => Random.Shared.NextInt64(1_000_000_000, 9_000_000_000);

    private async Task<JsonElement> WaitForAsync(long orderId, Func<JsonElement, bool> done, string what)
    {
        JsonElement last = default;
        try
        {
            await Eventually.TrueAsync(async () =>
            {
                var (status, order) = await sandbox.Http.GetApiAsync($"/api/v1/orders/{Shop}/{orderId}");
                last = order;
                return status == HttpStatusCode.OK && done(order);
            }, TimeSpan.FromSeconds(30), what);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}; last seen: status {(last.ValueKind == JsonValueKind.Object ? last.GetProperty("status").GetString() : "-")}, systems {(last.ValueKind == JsonValueKind.Object ? last.GetProperty("systems").GetRawText() : "-")}, outbox {(last.ValueKind == JsonValueKind.Object ? last.GetProperty("outbox").GetRawText() : "-")}", ex);
        }

        return last;
    }

    /// <summary>Every system synced and nothing left in the outbox (a system reads Synced after one command while the next waits).</summary>
    private static bool AllSynced(JsonElement order) =>
        order.GetProperty("systems").EnumerateObject().All(s => s.Value.GetProperty("status").GetString() == "Synced")
        && order.GetProperty("outbox").EnumerateArray().All(e => e.GetProperty("status").GetString() is "Succeeded" or "Failed");

    [Fact]
    public async Task a_shopify_order_becomes_one_erp_sales_order_a_crm_order_and_a_shopify_tag_and_is_accepted()
    {
        var id = NewId();
        sandbox.ShopifySim.SeedOrder(id.ToString(System.Globalization.CultureInfo.InvariantCulture), "#9999");
        var body = ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", id, DateTimeOffset.UtcNow);
        Assert.Equal(HttpStatusCode.OK, (await sandbox.Http.SendAsync(ShopifyFixtures.Delivery("orders/create", body, eventId: "c-" + id))).StatusCode);
        // Shopify delivers it again: nothing more may happen.
        Assert.Equal(HttpStatusCode.OK, (await sandbox.Http.SendAsync(ShopifyFixtures.Delivery("orders/create", body, eventId: "c-" + id))).StatusCode);

        var order = await WaitForAsync(id, o => o.GetProperty("status").GetString() == "Accepted" && AllSynced(o), "order accepted and synced everywhere");

        var erpOrders = sandbox.BcSim.Entities("salesOrders").Where(o => o["externalDocumentNumber"]!.GetValue<string>() == id.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var erpOrder = Assert.Single(erpOrders);
        Assert.Equal(erpOrder["number"]!.GetValue<string>(), order.GetProperty("systems").GetProperty("erp").GetProperty("externalId").GetString());
        var crmOrder = Assert.Single(sandbox.SalesforceSim.Records("Order"), o => o["Shopify_Order_Id__c"]!.GetValue<string>() == id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("Accepted", crmOrder["RetailSync_Status__c"]!.GetValue<string>());
        Assert.Equal(erpOrder["number"]!.GetValue<string>(), crmOrder["ERP_Order_Number__c"]!.GetValue<string>());
        var shopify = (await sandbox.Http.GetFromJsonAsync<JsonElement>("/sandbox/state")).GetProperty("shopify").GetProperty("orders").EnumerateArray()
            .Single(o => o.GetProperty("id").GetString() == id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("retailsync:accepted", shopify.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(erpOrder["number"]!.GetValue<string>(), shopify.GetProperty("metafields").GetProperty("retail_sync.erp_order_no").GetString());

        // The CRM lookup, the buyer's golden customer and the stock reservation run side by side (in any order), all before the ERP submission.
        var steps = order.GetProperty("timeline").EnumerateArray().Select(e => e.GetProperty("kind").GetString()).ToList();
        Assert.Equal(["shopify:orders/create", "status", "crm:context", "identity", "stock", "erp:submitOrder", "status", "crm:upsert", "shopify:syncStatus"],
            steps.Take(2).Concat(steps.Skip(2).Take(3).Order()).Concat(steps.Skip(5).Take(2)).Concat(steps.Skip(7).Order()).ToList());
        var golden = order.GetProperty("goldenCustomerId").GetString()!;
        Assert.Equal(golden, erpOrder["customerNumber"]!.GetValue<string>());
        // No CRM contact has this email: the order says so, and the CRM order goes under the guest account, linked to no contact.
        Assert.False(order.GetProperty("crmContext").GetProperty("found").GetBoolean());
        Assert.Equal(RetailSync.Sandbox.Salesforce.SalesforceSimulator.GuestAccountId, crmOrder["AccountId"]!.GetValue<string>());
        Assert.Null(crmOrder["BillToContactId"]);
    }

    [Fact]
    public async Task a_known_customer_gets_its_crm_context_before_erp_submission_and_the_crm_order_is_linked_to_it()
    {
        using var salesforce = new HttpClient { BaseAddress = new Uri(sandbox.Http.BaseAddress!, "/sandbox/salesforce/services/data/v62.0/") };
        salesforce.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", RetailSync.Sandbox.Salesforce.SalesforceSimulator.AccessToken);
        var account = await (await salesforce.PostAsJsonAsync("sobjects/Account", new JsonObject { ["Name"] = "Example Corp" })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(account.ValueKind == JsonValueKind.Object, account.GetRawText());
        var accountId = account.GetProperty("id").GetString();
        var contact = await (await salesforce.PostAsJsonAsync("sobjects/Contact",
            new JsonObject { ["LastName"] = "Smith", ["Email"] = "john@example.com", ["AccountId"] = accountId, ["Segment__c"] = "VIP", ["OwnerId"] = "005000000000001" }))
            .Content.ReadFromJsonAsync<JsonElement>();
        var contactId = contact.GetProperty("id").GetString();

        var id = NewId();
        var idText = id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        sandbox.ShopifySim.SeedOrder(idText, "#2");
        await sandbox.Http.SendAsync(ShopifyFixtures.Delivery("orders/create", ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", id, DateTimeOffset.UtcNow)));
        var order = await WaitForAsync(id, o => o.GetProperty("status").GetString() == "Accepted" && AllSynced(o), "accepted");

        var context = order.GetProperty("crmContext");
        Assert.True(context.GetProperty("found").GetBoolean());
        Assert.Equal(contactId, context.GetProperty("contactId").GetString());
        Assert.Equal(accountId, context.GetProperty("accountId").GetString());
        Assert.Equal("VIP", context.GetProperty("segment").GetString());
        Assert.Equal("005000000000001", context.GetProperty("ownerId").GetString());
        var kinds = order.GetProperty("timeline").EnumerateArray().Select(e => e.GetProperty("kind").GetString()).ToList();
        Assert.True(kinds.IndexOf("crm:context") < kinds.IndexOf("erp:submitOrder"), string.Join(", ", kinds));
        var crmOrder = Assert.Single(sandbox.SalesforceSim.Records("Order"), o => o["Shopify_Order_Id__c"]!.GetValue<string>() == idText);
        Assert.Equal(accountId, crmOrder["AccountId"]!.GetValue<string>());
        Assert.Equal(contactId, crmOrder["BillToContactId"]!.GetValue<string>());
    }

    [Fact]
    public async Task orders_queued_while_the_erp_is_down_reach_it_in_batches_once_it_is_back()
    {
        await sandbox.FaultAsync(RetailSync.Sandbox.SandboxApi.BusinessCentral, outage: true);
        var ids = Enumerable.Range(0, 30).Select(_ => NewId()).ToList();
        foreach (var id in ids)
        {
            sandbox.ShopifySim.SeedOrder(id.ToString(System.Globalization.CultureInfo.InvariantCulture), null);
            Assert.Equal(HttpStatusCode.OK, (await sandbox.Http.SendAsync(ShopifyFixtures.Delivery("orders/create",
                ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", id, DateTimeOffset.UtcNow)))).StatusCode);
        }

        // They wait in the ERP's queue, visible as backlog.
        await Eventually.TrueAsync(async () =>
        {
            var (_, kpis) = await sandbox.Http.GetApiAsync("/api/v1/kpis");
            return kpis.GetProperty("backlog").GetProperty("erp").GetProperty("pending").GetInt32() >= ids.Count;
        }, TimeSpan.FromSeconds(30), "30 orders queued for the ERP");
        var before = sandbox.Traffic.BusinessCentral.Snapshot();
        var admittedBefore = Convert.ToInt64(before.GetType().GetProperty("admitted")!.GetValue(before), System.Globalization.CultureInfo.InvariantCulture);

        await sandbox.FaultAsync(RetailSync.Sandbox.SandboxApi.BusinessCentral);
        foreach (var id in ids)
        {
            await WaitForAsync(id, o => o.GetProperty("status").GetString() == "Accepted", "accepted after the outage");
        }

        // One sales order each, sent in $batch calls: fewer ERP requests than the 3 a single order needs
        // at least (customer lookup, order lookup, order create). Retries after the outage come due at
        // jittered times, so the batches are not all full.
        var numbers = ids.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
        Assert.Equal(ids.Count, sandbox.BcSim.Entities("salesOrders").Count(o => numbers.Contains(o["externalDocumentNumber"]!.GetValue<string>())));
        var after = sandbox.Traffic.BusinessCentral.Snapshot();
        var requests = Convert.ToInt64(after.GetType().GetProperty("admitted")!.GetValue(after), System.Globalization.CultureInfo.InvariantCulture) - admittedBefore;
        Assert.True(requests < 2 * ids.Count, $"{requests} ERP requests for {ids.Count} orders");
    }

    [Fact]
    public async Task with_the_crm_down_the_erp_submission_waits_for_the_context_only_briefly()
    {
        (await sandbox.Http.PostAsJsonAsync("/sandbox/faults", new { system = RetailSync.Sandbox.SandboxApi.Salesforce, outage = true })).EnsureSuccessStatusCode();
        var id = NewId();
        sandbox.ShopifySim.SeedOrder(id.ToString(System.Globalization.CultureInfo.InvariantCulture), "#3");
        await sandbox.Http.SendAsync(ShopifyFixtures.Delivery("orders/create", ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", id, DateTimeOffset.UtcNow)));

        // The ERP accepts it although the CRM never answered; the CRM's part stays pending, not lost.
        var order = await WaitForAsync(id, o => o.GetProperty("status").GetString() == "Accepted", "accepted without the CRM");
        Assert.Contains(order.GetProperty("timeline").EnumerateArray(), e => e.GetProperty("detail").GetString()!.StartsWith("no CRM context within", StringComparison.Ordinal));
        Assert.NotEqual("Synced", order.GetProperty("systems").GetProperty("crm").GetProperty("status").GetString());
        Assert.Contains(order.GetProperty("outbox").EnumerateArray(), e => e.GetProperty("key").GetString()!.StartsWith("crm:", StringComparison.Ordinal) && e.GetProperty("status").GetString() != "Succeeded");
    }

    [Fact]
    public async Task a_cancellation_before_shipment_cancels_in_the_erp_and_is_told_to_shopify_and_the_crm()
    {
        var id = NewId();
        var idText = id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        sandbox.ShopifySim.SeedOrder(idText, "#1");
        var created = DateTimeOffset.UtcNow;
        await sandbox.Http.SendAsync(ShopifyFixtures.Delivery("orders/create", ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", id, created)));
        await WaitForAsync(id, o => o.GetProperty("status").GetString() == "Accepted" && AllSynced(o), "accepted");

        var cancelled = JsonNode.Parse(ShopifyFixtures.OrderVariant("orders_cancelled__hookdeck-2024-10.json", id, created.AddMinutes(1), cancelled: true))!;
        cancelled["cancelled_at"] = created.AddMinutes(1).ToString("O");
        await sandbox.Http.SendAsync(ShopifyFixtures.Delivery("orders/cancelled", System.Text.Encoding.UTF8.GetBytes(cancelled.ToJsonString())));

        var order = await WaitForAsync(id, o => o.GetProperty("status").GetString() == "Cancelled" && AllSynced(o), "cancelled everywhere");
        Assert.DoesNotContain(sandbox.BcSim.Entities("salesOrders"), o => o["externalDocumentNumber"]!.GetValue<string>() == idText);
        Assert.Equal("Cancelled", Assert.Single(sandbox.SalesforceSim.Records("Order"), o => o["Shopify_Order_Id__c"]!.GetValue<string>() == idText)["RetailSync_Status__c"]!.GetValue<string>());
        var tags = (await sandbox.Http.GetFromJsonAsync<JsonElement>("/sandbox/state")).GetProperty("shopify").GetProperty("orders").EnumerateArray()
            .Single(o => o.GetProperty("id").GetString() == idText).GetProperty("tags").EnumerateArray().Select(t => t.GetString()).ToList();
        Assert.Contains("retailsync:cancelled", tags);
        Assert.DoesNotContain("retailsync:accepted", tags);
        Assert.Contains(order.GetProperty("timeline").EnumerateArray(), e => e.GetProperty("kind").GetString() == "erp:cancelOrder");
    }

    [Fact]
    public async Task an_erp_refusal_rejects_the_order_raises_it_for_operations_and_tells_shopify()
    {
        var id = NewId();
        var idText = id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        sandbox.ShopifySim.SeedOrder(idText, "#2");
        var node = JsonNode.Parse(ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", id, DateTimeOffset.UtcNow))!;
        foreach (var line in node["line_items"]!.AsArray())
        {
            line!["sku"] = "DISCONTINUED-1";
        }

        await sandbox.Http.SendAsync(ShopifyFixtures.Delivery("orders/create", System.Text.Encoding.UTF8.GetBytes(node.ToJsonString())));
        var order = await WaitForAsync(id, o => o.GetProperty("status").GetString() == "Rejected"
            && o.GetProperty("systems").GetProperty("shopify").GetProperty("status").GetString() == "Synced", "rejected and told to Shopify");
        Assert.Equal("Failed", order.GetProperty("systems").GetProperty("erp").GetProperty("status").GetString());
        Assert.Contains("DISCONTINUED-1", order.GetProperty("systems").GetProperty("erp").GetProperty("error").GetString(), StringComparison.Ordinal);

        var (_, exceptions) = await sandbox.Http.GetApiAsync("/api/v1/ops/exceptions");
        Assert.Contains(exceptions.GetProperty("items").EnumerateArray(), e => e.GetProperty("id").GetString() == $"erp:submitOrder:{Shop}:{idText}"
            && e.GetProperty("vendorCode").GetString() == "Application_FieldValidationException");

        var (_, kpis) = await sandbox.Http.GetApiAsync("/api/v1/kpis");
        Assert.True(kpis.GetProperty("ordersByStatus").GetProperty("Rejected").GetInt64() >= 1);
    }
}
