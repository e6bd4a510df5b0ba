using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Refunds;

/// <summary>
/// The refund saga in the embedded default against the sandbox: a CRM case, the ERP credit memo, the
/// order's refund — complete only when all three confirmed, compensated when the ERP refuses.
/// </summary>
[Collection(SandboxCollection.Name)]
public sealed class RefundSagaTests(SandboxHostFixture sandbox) : IAsyncLifetime
{
    private const string Shop = ShopifyFixtures.Shop;

    public async Task InitializeAsync()
    {
        await sandbox.ResetAsync();
        sandbox.BcSim.SeedItem("IPOD2008PINK", "iPod Nano 8GB pink", 199m, 100m);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static string NewId() => Random.Shared.NextInt64(1_000_000_000, 9_000_000_000).ToString(CultureInfo.InvariantCulture);

    private async Task CreateOrderAsync(string orderId, bool waitAccepted = true)
    {
        sandbox.ShopifySim.SeedOrder(orderId, "#" + orderId[..4]);
        var body = ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", long.Parse(orderId, CultureInfo.InvariantCulture), DateTimeOffset.UtcNow);
        Assert.Equal(HttpStatusCode.OK, (await sandbox.Http.SendAsync(ShopifyFixtures.Delivery("orders/create", body))).StatusCode);
        if (waitAccepted)
        {
            await Eventually.TrueAsync(async () => (await OrderAsync(orderId)).GetProperty("status").GetString() == "Accepted", TimeSpan.FromSeconds(30), "order accepted");
        }
    }

    /// <summary>The hookdeck refunds/create fixture (both iPod lines of the hookdeck order, one to restock) for the given order.</summary>
    private static byte[] Refund(string refundId, string orderId, bool firstLineOnly = false)
    {
        var node = JsonNode.Parse(ShopifyFixtures.Bytes("refunds_create__hookdeck-2024-10.json"))!.AsObject();
        node["id"] = long.Parse(refundId, CultureInfo.InvariantCulture);
        node["order_id"] = long.Parse(orderId, CultureInfo.InvariantCulture);
        var lines = node["refund_line_items"]!.AsArray();
        lines[0]!["restock_type"] = "return";
        if (firstLineOnly)
        {
            lines.RemoveAt(1);
        }

        return Encoding.UTF8.GetBytes(node.ToJsonString());
    }

    private async Task<JsonElement> OrderAsync(string orderId) => (await sandbox.Http.GetApiAsync($"/api/v1/orders/{Shop}/{orderId}")).Body;

    private async Task<JsonElement> WaitForRefundAsync(string refundId, string status)
    {
        JsonElement last = default;
        try
        {
            await Eventually.TrueAsync(async () =>
            {
                var (code, refund) = await sandbox.Http.GetApiAsync($"/api/v1/refunds/{Shop}/{refundId}");
                last = refund;
                return code == HttpStatusCode.OK && refund.GetProperty("status").GetString() == status;
            }, TimeSpan.FromSeconds(30), $"refund {status}");
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}; last seen: {(last.ValueKind == JsonValueKind.Object ? last.GetRawText() : "-")}", ex);
        }

        return last;
    }

    private List<JsonObject> CreditMemos(string refundId) =>
        [.. sandbox.BcSim.Entities("salesCreditMemos").Where(m => m["externalDocumentNumber"]!.GetValue<string>() == $"RF-{refundId}")];

    private JsonObject Case(string refundId) =>
        Assert.Single(sandbox.SalesforceSim.Records("Case"), c => c["Shopify_Refund_Id__c"]?.GetValue<string>() == refundId);

    [Fact]
    public async Task a_full_refund_completes_in_every_system_once_and_the_order_is_refunded()
    {
        var (orderId, refundId) = (NewId(), NewId());
        await CreateOrderAsync(orderId);

        var body = Refund(refundId, orderId);
        Assert.Equal(HttpStatusCode.OK, (await sandbox.Http.SendAsync(ShopifyFixtures.Delivery("refunds/create", body, eventId: "r-" + refundId))).StatusCode);
        var again = await sandbox.Http.SendAsync(ShopifyFixtures.Delivery("refunds/create", body, eventId: "r-" + refundId));
        Assert.Equal("duplicate", (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());

        var refund = await WaitForRefundAsync(refundId, "Completed");
        var memo = Assert.Single(CreditMemos(refundId));
        // The returned iPod comes back into stock (an Item line); the other is written off (the write-off account).
        Assert.Equal(["Account", "Item"], memo["salesCreditMemoLines"]!.AsArray().Select(l => l!["lineType"]!.GetValue<string>()).Order().ToArray());
        Assert.Equal("Closed", Case(refundId)["Status"]!.GetValue<string>());
        Assert.All(refund.GetProperty("steps").EnumerateArray(), s => Assert.Equal("Succeeded", s.GetProperty("status").GetString()));
        Assert.Contains(refund.GetProperty("timeline").EnumerateArray(), e => e.GetProperty("detail").GetString()!.Contains("restock", StringComparison.Ordinal));
        Assert.Contains(refund.GetProperty("timeline").EnumerateArray(), e => e.GetProperty("detail").GetString()!.Contains("write-off", StringComparison.Ordinal));

        // The returned unit waits on the SKU until the ERP's next stock figure counts it.
        var (_, sku) = await sandbox.Http.GetApiAsync("/api/v1/inventory/sandbox/IPOD2008PINK");
        Assert.Equal(1, Assert.Single(sku.GetProperty("pendingRestocks").EnumerateArray(), r => r.GetProperty("key").GetString()!.Contains(refundId, StringComparison.Ordinal))
            .GetProperty("quantity").GetInt32());
        // (A count far above what the other tests of this shared sandbox order, so the oversell guard never holds them.)
        (await sandbox.Http.PostAsJsonAsync("/sandbox/erp/stock", new { sku = "IPOD2008PINK", location = "MAIN", onHand = 100_001m })).EnsureSuccessStatusCode();
        (_, sku) = await sandbox.Http.GetApiAsync("/api/v1/inventory/sandbox/IPOD2008PINK");
        Assert.DoesNotContain(sku.GetProperty("pendingRestocks").EnumerateArray(), r => r.GetProperty("key").GetString()!.Contains(refundId, StringComparison.Ordinal));
        Assert.Equal(100_001m, sku.GetProperty("locations").EnumerateArray().Single(l => l.GetProperty("location").GetString() == "MAIN").GetProperty("onHand").GetDecimal());

        await Eventually.TrueAsync(async () => (await OrderAsync(orderId)).GetProperty("status").GetString() == "Refunded", TimeSpan.FromSeconds(30), "order refunded");
        await Eventually.TrueAsync(async () => (await sandbox.Http.GetFromJsonAsync<JsonElement>("/sandbox/state")).GetProperty("shopify").GetProperty("orders")
            .EnumerateArray().Single(o => o.GetProperty("id").GetString() == orderId).GetProperty("tags").EnumerateArray().Any(t => t.GetString() == "retailsync:refunded"),
            TimeSpan.FromSeconds(30), "Shopify tagged refunded");
    }

    [Fact]
    public async Task a_partial_refund_of_one_line_of_two_credits_that_line_and_marks_the_order_partially_refunded()
    {
        var (orderId, refundId) = (NewId(), NewId());
        await CreateOrderAsync(orderId);

        await sandbox.Http.SendAsync(ShopifyFixtures.Delivery("refunds/create", Refund(refundId, orderId, firstLineOnly: true)));

        await WaitForRefundAsync(refundId, "Completed");
        Assert.Single(Assert.Single(CreditMemos(refundId))["salesCreditMemoLines"]!.AsArray());
        var order = await OrderAsync(orderId);
        Assert.Equal("Accepted", order.GetProperty("status").GetString());
        Assert.True(order.GetProperty("partiallyRefunded").GetBoolean());
    }

    [Fact]
    public async Task a_cancellation_that_carries_a_refund_starts_its_saga_once()
    {
        var body = ShopifyFixtures.Bytes("orders_cancelled__activepieces.json");
        Assert.Equal(HttpStatusCode.OK, (await sandbox.Http.SendAsync(ShopifyFixtures.Delivery("orders/cancelled", body, eventId: "cancel-with-refund"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await sandbox.Http.SendAsync(ShopifyFixtures.Delivery("orders/cancelled", body, eventId: "cancel-with-refund"))).StatusCode);

        var refund = await WaitForRefundAsync("945108681014", "Completed");
        Assert.Equal(2, refund.GetProperty("refund").GetProperty("lines").GetArrayLength());
        Assert.Single(refund.GetProperty("timeline").EnumerateArray(), e => e.GetProperty("kind").GetString() == "shopify:orders/cancelled");
        Assert.Equal("Closed", Case("945108681014")["Status"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_return_request_and_its_approval_open_and_update_a_crm_case()
    {
        var returnId = NewId();
        byte[] Return(string file)
        {
            var node = JsonNode.Parse(ShopifyFixtures.Bytes(file))!.AsObject();
            node["id"] = long.Parse(returnId, CultureInfo.InvariantCulture);
            node["admin_graphql_api_id"] = $"gid://shopify/Return/{returnId}";
            return Encoding.UTF8.GetBytes(node.ToJsonString());
        }

        Assert.Equal(HttpStatusCode.OK, (await sandbox.Http.SendAsync(ShopifyFixtures.Delivery("returns/request", Return("returns_request__hookdeck-2024-10.json")))).StatusCode);
        await Eventually.TrueAsync(() => Task.FromResult(sandbox.SalesforceSim.Records("Case").Any(c => c["Shopify_Return_Id__c"]?.GetValue<string>() == returnId
            && c["Status"]!.GetValue<string>() == "New")), TimeSpan.FromSeconds(30), "return case opened");
        Assert.Equal(HttpStatusCode.OK, (await sandbox.Http.SendAsync(ShopifyFixtures.Delivery("returns/approve", Return("returns_approve__hookdeck-2024-10.json")))).StatusCode);

        await Eventually.TrueAsync(() => Task.FromResult(sandbox.SalesforceSim.Records("Case").Single(c => c["Shopify_Return_Id__c"]?.GetValue<string>() == returnId)["Status"]!.GetValue<string>() == "Working"),
            TimeSpan.FromSeconds(30), "return case approved");
        // The CRM holds the case a moment before the return grain has the CRM's answer recorded.
        await Eventually.TrueAsync(async () =>
        {
            var (_, view) = await sandbox.Http.GetApiAsync($"/api/v1/returns/{Shop}/{returnId}");
            return view.GetProperty("steps").EnumerateArray().Count(s => s.GetProperty("status").GetString() == "Succeeded") == 2;
        }, TimeSpan.FromSeconds(30), "both return steps recorded as succeeded");
    }

    [Fact]
    public async Task a_refund_that_arrives_before_its_order_waits_for_it_and_then_completes()
    {
        var (orderId, refundId) = (NewId(), NewId());
        Assert.Equal(HttpStatusCode.OK, (await sandbox.Http.SendAsync(ShopifyFixtures.Delivery("refunds/create", Refund(refundId, orderId)))).StatusCode);
        await WaitForRefundAsync(refundId, "WaitingForOrder");
        Assert.Empty(CreditMemos(refundId));

        await CreateOrderAsync(orderId, waitAccepted: false);

        await WaitForRefundAsync(refundId, "Completed");
        Assert.Single(CreditMemos(refundId));
    }

    [Fact]
    public async Task an_erp_refusal_compensates_the_crm_case_raises_an_exception_and_a_retry_completes_the_refund()
    {
        var (orderId, refundId) = (NewId(), NewId());
        await CreateOrderAsync(orderId);
        // The item is blocked out of the ERP meanwhile: Business Central refuses the credit memo line.
        var item = sandbox.BcSim.Entities("items").Single(i => i["number"]!.GetValue<string>() == "IPOD2008PINK");
        sandbox.BcSim.Execute("DELETE", $"/companies({RetailSync.Sandbox.BusinessCentral.BusinessCentralSimulator.CompanyId})/items({item["id"]})", "", "*", null);

        await sandbox.Http.SendAsync(ShopifyFixtures.Delivery("refunds/create", Refund(refundId, orderId)));

        var refund = await WaitForRefundAsync(refundId, "Compensated");
        Assert.Empty(CreditMemos(refundId));
        await Eventually.TrueAsync(() => Task.FromResult(Case(refundId)["Status"]!.GetValue<string>() == "Escalated"), TimeSpan.FromSeconds(30), "case escalated");
        Assert.Contains(refund.GetProperty("timeline").EnumerateArray(), e => e.GetProperty("detail").GetString()!.Contains("compensating", StringComparison.Ordinal));
        var exceptionId = $"refund:creditMemo:{Shop}:{refundId}";
        var (_, exceptions) = await sandbox.Http.GetApiAsync("/api/v1/ops/exceptions");
        Assert.Contains(exceptions.GetProperty("items").EnumerateArray(), e => e.GetProperty("id").GetString() == exceptionId);
        Assert.NotEqual("Refunded", (await OrderAsync(orderId)).GetProperty("status").GetString());

        // Operations restores the item and retries from the exception queue.
        sandbox.BcSim.SeedItem("IPOD2008PINK", "iPod Nano 8GB pink", 199m, 100m);
        using var retry = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/ops/exceptions/{Uri.EscapeDataString(exceptionId)}/retry");
        retry.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "dev-api-key");
        Assert.True((await sandbox.Http.SendAsync(retry)).IsSuccessStatusCode);

        await WaitForRefundAsync(refundId, "Completed");
        Assert.Single(CreditMemos(refundId));
        Assert.Equal("Closed", Case(refundId)["Status"]!.GetValue<string>());
        await Eventually.TrueAsync(async () => (await OrderAsync(orderId)).GetProperty("status").GetString() == "Refunded", TimeSpan.FromSeconds(30), "order refunded");
    }
}
