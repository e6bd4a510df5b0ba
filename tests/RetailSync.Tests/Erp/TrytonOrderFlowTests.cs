using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using System.Net.Http.Json;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RetailSync.Connectors;
using RetailSync.Silo.Erp;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Erp;

/// <summary>
/// The order workflow with Tryton as the ERP (selected by configuration), Shopify and the CRM from the
/// sandbox: a signed webhook in, a processed Tryton sale out, and the order's status from Tryton's answer.
/// </summary>
[Collection(TrytonCollection.Name)]
public sealed class TrytonOrderFlowTests(TrytonFixture tryton) : IAsyncLifetime
{
    private const string Shop = ShopifyFixtures.Shop;
    private InProcessHost host = null!;

    // Tryton cannot call back: its warehouse stock is polled and shown at the sandbox shop's location 1.
    public async Task InitializeAsync() => host = await tryton.StartHostAsync("--RetailSync:Inventory:PollPeriod=00:00:01", "--RetailSync:Inventory:Locations:WH=1");

    public async Task DisposeAsync() => await host.DisposeAsync();

    /// <summary>The hookdeck orders/create fixture as a new order of a new customer.</summary>
    private static (long Id, byte[] Body, long CustomerId) NewOrder()
    {
        var id = Random.Shared.NextInt64(1_000_000_000, 9_000_000_000);
        var customerId = Random.Shared.NextInt64(1_000_000_000, 9_000_000_000);
        var node = JsonNode.Parse(ShopifyFixtures.OrderVariant("orders_create__hookdeck-2024-10.json", id, DateTimeOffset.UtcNow))!.AsObject();
        node["customer"]!["id"] = customerId;
        node["customer"]!["email"] = $"buyer-{customerId}@example.com";
        node["email"] = $"buyer-{customerId}@example.com";
        return (id, Encoding.UTF8.GetBytes(node.ToJsonString()), customerId);
    }

    private async Task<JsonElement> WaitForStatusAsync(long id, string status)
    {
        JsonElement last = default;
        try
        {
            await Eventually.TrueAsync(async () =>
            {
                var (code, order) = await host.Http.GetApiAsync($"/api/v1/orders/{Shop}/{id}");
                last = order;
                return code == HttpStatusCode.OK && order.GetProperty("status").GetString() == status;
            }, TimeSpan.FromSeconds(60), $"order {id} {status}");
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}; last seen: {(last.ValueKind == JsonValueKind.Object ? last.GetRawText() : "-")}", ex);
        }

        return last;
    }

    private async Task<JsonArray> SalesAsync(long id) =>
        await tryton.Erp.Rpc.SearchReadAsync("sale.sale", [new JsonArray("reference", "=", id.ToString(CultureInfo.InvariantCulture))], ["id", "state", "number"]);

    [Fact]
    public async Task a_signed_shopify_order_becomes_one_processed_tryton_sale_and_the_order_is_accepted()
    {
        var (id, body, _) = NewOrder();
        Assert.Equal(HttpStatusCode.OK, (await host.Http.SendAsync(ShopifyFixtures.Delivery("orders/create", body, eventId: "t-" + id))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await host.Http.SendAsync(ShopifyFixtures.Delivery("orders/create", body, eventId: "t-" + id))).StatusCode);

        var order = await WaitForStatusAsync(id, "Accepted");

        var sale = Assert.Single(await SalesAsync(id))!;
        Assert.Equal("processing", sale["state"]!.GetValue<string>());
        Assert.Equal(sale["number"]!.GetValue<string>(), order.GetProperty("systems").GetProperty("erp").GetProperty("externalId").GetString());
        // The party is the buyer's golden customer (a new person here: the order created it).
        var golden = order.GetProperty("goldenCustomerId").GetString();
        Assert.NotNull(golden);
        Assert.NotNull(await tryton.Erp.FindCustomerAsync(golden!));
        Assert.Contains(order.GetProperty("timeline").EnumerateArray(), e => e.GetProperty("kind").GetString() == "erp:submitOrder");
    }

    [Fact]
    public async Task a_refund_of_a_tryton_order_posts_one_credit_note_and_completes_the_saga()
    {
        var (id, body, _) = NewOrder();
        await host.Http.SendAsync(ShopifyFixtures.Delivery("orders/create", body));
        await WaitForStatusAsync(id, "Accepted");
        var refundId = Random.Shared.NextInt64(1_000_000_000, 9_000_000_000);
        var refund = JsonNode.Parse(ShopifyFixtures.Bytes("refunds_create__hookdeck-2024-10.json"))!.AsObject();
        refund["id"] = refundId;
        refund["order_id"] = id;
        // Dated today: Tryton books the credit note in the fiscal period of its date.
        refund["created_at"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:sszzz", System.Globalization.CultureInfo.InvariantCulture);
        var refundBody = Encoding.UTF8.GetBytes(refund.ToJsonString());
        await host.Http.SendAsync(ShopifyFixtures.Delivery("refunds/create", refundBody, eventId: $"r-{refundId}"));
        await host.Http.SendAsync(ShopifyFixtures.Delivery("refunds/create", refundBody, eventId: $"r-{refundId}"));

        JsonElement last = default;
        await Eventually.TrueAsync(async () =>
        {
            var (code, view) = await host.Http.GetApiAsync($"/api/v1/refunds/{Shop}/{refundId}");
            last = view;
            return code == HttpStatusCode.OK && view.GetProperty("status").GetString() == "Completed";
        }, TimeSpan.FromSeconds(60), "refund completed").ContinueWith(t => t.IsFaulted
            ? throw new TimeoutException($"refund not completed: {(last.ValueKind == JsonValueKind.Object ? last.GetProperty("steps").GetRawText() : "-")}")
            : Task.CompletedTask).Unwrap();

        var notes = await tryton.Erp.Rpc.SearchReadAsync("account.invoice", [new JsonArray("reference", "=", $"RF-{refundId}")], ["state", "total_amount"]);
        var note = Assert.Single(notes)!;
        Assert.Equal("posted", note["state"]!.GetValue<string>());
        Assert.Equal(-398m, RetailSync.Connectors.Tryton.TrytonRpc.ToDecimal(note["total_amount"]));
        await WaitForStatusAsync(id, "Refunded");
    }

    [Fact]
    public async Task trytons_stock_is_polled_into_the_sku_grain_and_shown_in_shopify()
    {
        const string Sku = "LENS-PROTECT-2YR";
        var item = Random.Shared.Next(100_000, 999_999).ToString(CultureInfo.InvariantCulture);
        host.App.Services.GetRequiredService<RetailSync.Sandbox.Shopify.ShopifySimulator>().SeedInventory(item, "1", 0);
        var product = JsonNode.Parse(ShopifyFixtures.Bytes("products_update__hookdeck-2024-10.json"))!.AsObject();
        product["variants"]![0]!["sku"] = Sku;
        product["variants"]![0]!["inventory_item_id"] = long.Parse(item, CultureInfo.InvariantCulture);
        Assert.Equal(HttpStatusCode.OK, (await host.Http.SendAsync(ShopifyFixtures.Delivery("products/update", Encoding.UTF8.GetBytes(product.ToJsonString())))).StatusCode);

        async Task ShownAsync(decimal expected, string what) => await Eventually.TrueAsync(async () =>
        {
            var (code, view) = await host.Http.GetApiAsync($"/api/v1/inventory/sandbox/{Sku}");
            var shopify = (await host.Http.GetFromJsonAsync<JsonElement>("/sandbox/state")).GetProperty("shopify").GetProperty("inventoryLevels").EnumerateArray()
                .FirstOrDefault(l => l.GetProperty("inventoryItemId").GetString() == item);
            return code == HttpStatusCode.OK && view.GetProperty("onHand").GetDecimal() == expected
                && shopify.ValueKind == JsonValueKind.Object && shopify.GetProperty("available").GetInt32() == (int)expected;
        }, TimeSpan.FromSeconds(30), what);

        var before = (await tryton.Erp.GetStockAsync(Sku))!.Quantity;
        await ShownAsync(before, "Tryton's stock in the SKU grain and in Shopify");
        await TrytonSetup.PutStockAsync(tryton.Erp.Rpc, Sku, 7);
        await ShownAsync(before + 7, "the clerk's 7 more, polled and shown");
    }

    [Fact]
    public async Task an_order_over_the_customers_credit_limit_ends_on_hold_with_trytons_reason()
    {
        var (id, body, customerId) = NewOrder();
        // The customer registered before: their golden record is in Tryton already (party code = golden id),
        // where the credit department set a limit below the order's 398.00.
        var customer = JsonNode.Parse(ShopifyFixtures.Bytes("customers_create__hookdeck-2024-10.json"))!.AsObject();
        customer["id"] = customerId;
        customer["email"] = $"buyer-{customerId}@example.com";
        Assert.Equal(HttpStatusCode.OK, (await host.Http.SendAsync(ShopifyFixtures.Delivery("customers/create", Encoding.UTF8.GetBytes(customer.ToJsonString())))).StatusCode);
        var golden = (await host.Http.GetApiAsync($"/api/v1/sources/shopify/{Shop}/customers/{customerId}")).Body.GetProperty("goldenId").GetString()!;
        await Eventually.TrueAsync(async () => (await tryton.Erp.FindCustomerAsync(golden)) is not null, TimeSpan.FromSeconds(30), "golden customer in Tryton");
        await TrytonSetup.SetCreditLimitAsync(tryton.Erp.Rpc, golden, 50m);

        Assert.Equal(HttpStatusCode.OK, (await host.Http.SendAsync(ShopifyFixtures.Delivery("orders/create", body))).StatusCode);

        var order = await WaitForStatusAsync(id, "OnHold");
        var held = order.GetProperty("timeline").EnumerateArray().Last(e => e.GetProperty("kind").GetString() == "status");
        Assert.Contains("credit limit", held.GetRawText(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal("quotation", Assert.Single(await SalesAsync(id))!["state"]!.GetValue<string>());
    }
}
