using System.Text.Json.Nodes;
using RetailSync.Connectors;
using RetailSync.Connectors.Tryton;
using RetailSync.Operations;
using RetailSync.Orders;
using RetailSync.Shopify;
using RetailSync.Silo.Erp;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Erp;

/// <summary>The Tryton adapter against a running Tryton server (no simulator).</summary>
[Collection(TrytonCollection.Name)]
public sealed class TrytonAdapterTests(TrytonFixture tryton)
{
    private TrytonRpc Rpc => tryton.Erp.Rpc;

    private static ErpOrderSubmission FixtureOrder(string file = "orders_create__hookdeck-2024-10.json") =>
        OrderPropagation.ErpSubmission(ShopifyFixtures.Shop, ShopifyMapper.Order(ShopifyFixtures.Json(file)));

    private async Task<JsonObject[]> SalesAsync(string reference) =>
        [.. (await Rpc.SearchReadAsync("sale.sale", [new JsonArray("reference", "=", reference)], ["id", "state", "number", "shipments", "invoices", "total_amount"]))
            .OfType<JsonObject>()];

    [Fact]
    public async Task the_order_fixture_becomes_exactly_one_confirmed_and_processed_sale_when_submitted_twice_concurrently()
    {
        var submission = FixtureOrder();
        await tryton.Erp.UpsertCustomerAsync(submission.Customer);

        // Two independent clients (two sessions, as two silos would be) submit the same order at once.
        var other = tryton.Server.Client();
        var results = await Task.WhenAll(tryton.Erp.SubmitSalesOrderAsync(submission.Order), other.SubmitSalesOrderAsync(submission.Order));

        var sales = await SalesAsync(submission.Order.ExternalDocumentNumber);
        var sale = Assert.Single(sales);
        Assert.Equal("processing", sale["state"]!.GetValue<string>());
        Assert.NotEmpty(sale["shipments"]!.AsArray());
        Assert.NotEmpty(sale["invoices"]!.AsArray());
        Assert.All(results, r => Assert.Equal(sale["id"]!.ToString(), r.Id));
        Assert.Equal(398m, TrytonRpc.ToDecimal(sale["total_amount"]));
        Assert.Equal(ShopifyFixtures.Json("orders_create__hookdeck-2024-10.json").GetProperty("id").GetRawText(), submission.Order.ExternalDocumentNumber);
    }

    [Fact]
    public async Task a_sale_left_in_draft_by_a_crash_between_create_and_confirm_is_completed_not_created_again()
    {
        var submission = FixtureOrder("orders_create__gadget-docs-2026-01.json");
        var order = submission.Order with { ExternalDocumentNumber = "CRASH-" + Guid.NewGuid().ToString("N")[..8] };
        await tryton.Erp.UpsertCustomerAsync(submission.Customer);

        // What a process that died right after its create call leaves behind: the sale, in draft.
        var party = await tryton.Erp.FindCustomerAsync(submission.Customer.Number);
        var address = (await Rpc.SearchReadAsync("party.address", [new JsonArray("party", "=", long.Parse(party!.Id))], ["id"], 1))[0]!["id"]!.GetValue<long>();
        var product = (await Rpc.SearchReadAsync("product.product", [new JsonArray("code", "=", "SKU2006-001")], ["id", "default_uom"], 1))[0]!;
        await Rpc.CreateAsync("sale.sale", [new JsonObject
        {
            ["company"] = (await Rpc.ContextAsync())["company"]!.GetValue<long>(), ["party"] = long.Parse(party.Id),
            ["currency"] = (await Rpc.SearchReadAsync("currency.currency", [new JsonArray("code", "=", "USD")], ["id"], 1))[0]!["id"]!.GetValue<long>(),
            ["reference"] = order.ExternalDocumentNumber, ["invoice_address"] = address, ["shipment_address"] = address,
            ["lines"] = new JsonArray(new JsonArray("create", new JsonArray(new JsonObject
            {
                ["type"] = "line", ["product"] = product["id"]!.GetValue<long>(), ["unit"] = product["default_uom"]!.GetValue<long>(),
                ["quantity"] = 1.0, ["unit_price"] = TrytonRpc.Decimal(89.99m), ["description"] = "SKU2006-001",
            }))),
        }]);
        Assert.Equal("draft", Assert.Single(await SalesAsync(order.ExternalDocumentNumber))["state"]!.GetValue<string>());

        var result = await tryton.Erp.SubmitSalesOrderAsync(order);

        var sale = Assert.Single(await SalesAsync(order.ExternalDocumentNumber));
        Assert.Equal("processing", sale["state"]!.GetValue<string>());
        Assert.Equal("processing", result.Status);
        Assert.Equal(sale["number"]!.GetValue<string>(), result.Number);
    }

    [Fact]
    public async Task a_batch_of_sales_is_submitted_in_a_few_calls_and_a_resubmission_finds_them()
    {
        var customer = new ErpCustomer("RS-BATCH", "Batch Buyer", "batch@example.com", null, "1 Main St", "Ottawa", "K1A 0B1", "CA");
        await tryton.Erp.UpsertCustomerAsync(customer);
        var prefix = "BATCH-" + Guid.NewGuid().ToString("N")[..6];
        var orders = Enumerable.Range(1, 5).Select(i => new ErpSalesOrder($"{prefix}-{i}", customer.Number, new DateOnly(2026, 11, 27), "USD",
            [new ErpLine("SKU2006-020", i, 10m)])).ToList();

        var first = await tryton.Erp.SubmitSalesOrdersAsync(orders);
        var again = await tryton.Erp.SubmitSalesOrdersAsync(orders);

        Assert.All(first, r => Assert.Equal("processing", r.Order!.Status));
        Assert.Equal(first.Select(r => r.Order!.Id), again.Select(r => r.Order!.Id));
        foreach (var order in orders)
        {
            Assert.Single(await SalesAsync(order.ExternalDocumentNumber));
        }
    }

    [Fact]
    public async Task one_refusal_in_a_batch_is_that_orders_own_answer_and_the_others_are_processed()
    {
        var careful = new ErpCustomer("RS-CAREFUL-" + Guid.NewGuid().ToString("N")[..6], "Careful Buyer", null, null, "1 Main St", "Boston", "02110", "US");
        var regular = new ErpCustomer("RS-REGULAR", "Regular Buyer", null, null, "2 Main St", "Boston", "02110", "US");
        await tryton.Erp.UpsertCustomersAsync([careful, regular]);
        await TrytonSetup.SetCreditLimitAsync(Rpc, careful.Number, 1m);
        var prefix = "MIXED-" + Guid.NewGuid().ToString("N")[..6];
        var orders = new[]
        {
            new ErpSalesOrder($"{prefix}-1", regular.Number, new DateOnly(2026, 11, 27), "USD", [new ErpLine("SKU2006-001", 1, 10m)]),
            new ErpSalesOrder($"{prefix}-2", careful.Number, new DateOnly(2026, 11, 27), "USD", [new ErpLine("SKU2006-001", 1, 10m)]),
            new ErpSalesOrder($"{prefix}-3", regular.Number, new DateOnly(2026, 11, 27), "USD", [new ErpLine("NO-SUCH-SKU", 1, 10m)]),
            new ErpSalesOrder($"{prefix}-4", regular.Number, new DateOnly(2026, 11, 27), "USD", [new ErpLine("SKU2006-001", 2, 10m)]),
        };

        var results = await tryton.Erp.SubmitSalesOrdersAsync(orders);

        Assert.Equal("processing", results[0].Order!.Status);
        Assert.Equal(ErpStatuses.OnHold, results[1].Order!.Status);
        Assert.Equal(FailureKind.Permanent, results[2].Error!.Kind);
        Assert.Contains("NO-SUCH-SKU", results[2].Error!.Message, StringComparison.Ordinal);
        Assert.Equal("processing", results[3].Order!.Status);
        Assert.Empty(await SalesAsync($"{prefix}-3"));
    }

    [Fact]
    public async Task a_customer_is_found_again_by_code_and_by_email_and_a_party_entered_by_hand_is_adopted_not_duplicated()
    {
        var email = $"ada-{Guid.NewGuid():N}@example.com";
        var created = await tryton.Erp.UpsertCustomerAsync(new ErpCustomer("RS-ADA-1", "Ada Lovelace", email, null, "12 St James's Sq", "London", "SW1Y 4JH", "GB"));

        Assert.Equal(created.Id, (await tryton.Erp.FindCustomerAsync("RS-ADA-1"))!.Id);
        Assert.Equal(created.Id, (await tryton.Erp.FindCustomerByEmailAsync(email))!.Id);
        var again = await tryton.Erp.UpsertCustomerAsync(new ErpCustomer("RS-ADA-1", "Ada King", email, null, null, null, null, null));
        Assert.Equal(created.Id, again.Id);
        var name = await Rpc.ModelAsync("party.party", "read", [new JsonArray(long.Parse(created.Id)), new JsonArray("name")]);
        Assert.Equal("Ada King", name![0]!["name"]!.GetValue<string>());

        // A clerk typed the customer into Tryton before we knew them: matched by email, given our id.
        var handEmail = $"grace-{Guid.NewGuid():N}@example.com";
        var hand = (await Rpc.CreateAsync("party.party", [new JsonObject
        {
            ["name"] = "Grace Hopper", ["code"] = "HAND-" + Guid.NewGuid().ToString("N")[..6],
            ["contact_mechanisms"] = new JsonArray(new JsonArray("create", new JsonArray(new JsonObject { ["type"] = "email", ["value"] = handEmail }))),
        }]))[0];
        var adopted = await tryton.Erp.UpsertCustomerAsync(new ErpCustomer("RS-GRACE-1", "Grace Hopper", handEmail, null, null, null, null, null));
        Assert.Equal(hand.ToString(System.Globalization.CultureInfo.InvariantCulture), adopted.Id);
        Assert.Equal("RS-GRACE-1", adopted.Number);
        Assert.Single(await Rpc.SearchReadAsync("party.party", [new JsonArray("contact_mechanisms.value", "=", handEmail)], ["id"]));
    }

    [Fact]
    public async Task the_second_person_of_a_family_inbox_gets_a_party_of_their_own()
    {
        // Two golden customers, one email (a household's shared inbox): the first one's party is not taken over.
        var email = $"family-{Guid.NewGuid():N}@example.com";
        var (first, second) = (RetailSync.Customers.GoldenIds.New(), RetailSync.Customers.GoldenIds.New());
        var parent = await tryton.Erp.UpsertCustomerAsync(new ErpCustomer(first, "Ann Lee", email, null, null, null, null, null));
        var child = await tryton.Erp.UpsertCustomerAsync(new ErpCustomer(second, "Ben Lee", email, null, null, null, null, null));

        Assert.NotEqual(parent.Id, child.Id);
        Assert.Equal(parent.Id, (await tryton.Erp.FindCustomerAsync(first))!.Id);
        Assert.Equal(child.Id, (await tryton.Erp.FindCustomerAsync(second))!.Id);
        var names = await Rpc.ModelAsync("party.party", "read", [new JsonArray(long.Parse(parent.Id), long.Parse(child.Id)), new JsonArray("name")]);
        Assert.Equal(["Ann Lee", "Ben Lee"], names!.AsArray().Select(n => n!["name"]!.GetValue<string>()).Order());
    }

    [Fact]
    public async Task stock_read_back_matches_what_was_put_in()
    {
        var before = (await tryton.Erp.GetStockAsync("TRY-STOCK"))!;
        await TrytonSetup.PutStockAsync(Rpc, "TRY-STOCK", 37);
        await TrytonSetup.PutStockAsync(Rpc, "TRY-STOCK", -5);

        var after = (await tryton.Erp.GetStockAsync("TRY-STOCK"))!;
        Assert.Equal(before.Quantity + 32, after.Quantity);
        Assert.Equal(before.ForecastQuantity + 32, after.ForecastQuantity);
        Assert.Equal(after.Quantity, await tryton.Erp.GetInventoryAsync("TRY-STOCK"));
        Assert.Null(await tryton.Erp.GetStockAsync("NO-SUCH-SKU"));
    }

    [Fact]
    public async Task a_refund_produces_one_posted_credit_note_and_the_goods_taken_back_return_to_stock()
    {
        var customer = new ErpCustomer("RS-REFUND", "Refund Buyer", "refund@example.com", null, "1 Main St", "Boston", "02110", "US");
        await tryton.Erp.UpsertCustomerAsync(customer);
        var reference = "REFUND-" + Guid.NewGuid().ToString("N")[..8];
        // One case comes back into stock, one is written off.
        var memo = new ErpCreditMemo(reference, customer.Number, DateOnly.FromDateTime(DateTime.UtcNow),
            [new ErpLine("CASE-LEATHER-PREM", 1, 24.99m), new ErpLine("CASE-LEATHER-PREM", 1, 24.99m, Restock: false)]);
        var stockBefore = (await tryton.Erp.GetStockAsync("CASE-LEATHER-PREM"))!.Quantity;

        var number = await tryton.Erp.CreateCreditMemoAsync(memo);
        var again = await tryton.Erp.CreateCreditMemoAsync(memo);

        Assert.Equal(number, again);
        var notes = await Rpc.SearchReadAsync("account.invoice", [new JsonArray("reference", "=", reference)], ["state", "number", "total_amount"]);
        var note = Assert.Single(notes)!;
        Assert.Equal("posted", note["state"]!.GetValue<string>());
        Assert.Equal(-49.98m, TrytonRpc.ToDecimal(note["total_amount"]));
        Assert.StartsWith("CN", number, StringComparison.Ordinal);
        Assert.Equal("done", (await tryton.Erp.ReturnShipmentAsync(reference))!["state"]!.GetValue<string>());
        Assert.Single(await Rpc.SearchReadAsync("stock.shipment.out.return", [new JsonArray("reference", "=", reference)], ["id"]));
        Assert.Equal(stockBefore + 1, (await tryton.Erp.GetStockAsync("CASE-LEATHER-PREM"))!.Quantity);
    }

    [Fact]
    public async Task an_order_over_the_credit_limit_is_on_hold_with_trytons_reason_and_completes_once_the_limit_allows_it()
    {
        var customer = new ErpCustomer("RS-LIMIT-" + Guid.NewGuid().ToString("N")[..6], "Careful Buyer", null, null, "1 Main St", "Boston", "02110", "US");
        await tryton.Erp.UpsertCustomerAsync(customer);
        await TrytonSetup.SetCreditLimitAsync(Rpc, customer.Number, 100m);
        var order = new ErpSalesOrder("LIMIT-" + Guid.NewGuid().ToString("N")[..8], customer.Number, new DateOnly(2026, 11, 27), "USD", [new ErpLine("IPOD2008PINK", 2, 199m)]);

        var held = await tryton.Erp.SubmitSalesOrderAsync(order);

        Assert.Equal(ErpStatuses.OnHold, held.Status);
        Assert.Contains("credit limit", held.HoldReason, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("quotation", Assert.Single(await SalesAsync(order.ExternalDocumentNumber))["state"]!.GetValue<string>());

        // A credit controller raises the limit; the retry confirms the same sale.
        await TrytonSetup.SetCreditLimitAsync(Rpc, customer.Number, 10_000m);
        var accepted = await tryton.Erp.SubmitSalesOrderAsync(order);
        Assert.Equal("processing", accepted.Status);
        Assert.Equal(held.Id, accepted.Id);
    }

    [Fact]
    public async Task a_concurrent_change_makes_the_adapter_read_again_and_decide_again()
    {
        var customer = new ErpCustomer("RS-CONC", "Concurrent Buyer", null, null, "1 Main St", "Boston", "02110", "US");
        await tryton.Erp.UpsertCustomerAsync(customer);
        var order = new ErpSalesOrder("CONC-" + Guid.NewGuid().ToString("N")[..8], customer.Number, new DateOnly(2026, 11, 27), "USD", [new ErpLine("SKU2006-035", 1, 10m)]);
        await tryton.Erp.SubmitSalesOrderAsync(order);
        var other = tryton.Server.Client();
        var decisions = 0;

        var updated = await tryton.Erp.UpdateSalesOrderAsync(order.ExternalDocumentNumber, current =>
        {
            decisions++;
            if (decisions == 1)
            {
                // Tryton's record timestamps (on SQLite) count whole seconds: the clerk's edit must fall in a
                // later second than the sale's last write to be told apart from it, as it would in real use.
                SpinWait.SpinUntil(() => DateTimeOffset.UtcNow.ToUnixTimeSeconds() > long.Parse(current.ETag, System.Globalization.CultureInfo.InvariantCulture),
                    TimeSpan.FromSeconds(3));

                // Someone edits the sale in Tryton between our read and our write.
                other.Rpc.WriteAsync("sale.sale", [long.Parse(current.Id)], new JsonObject { ["description"] = "edited by a clerk" }).GetAwaiter().GetResult();
            }

            return new JsonObject { ["comment"] = "from RetailSync" };
        });

        Assert.Equal(2, decisions);
        var sale = await Rpc.ModelAsync("sale.sale", "read", [new JsonArray(long.Parse(updated.Id)), new JsonArray("description", "comment")]);
        Assert.Equal("edited by a clerk", sale![0]!["description"]!.GetValue<string>());
        Assert.Equal("from RetailSync", sale[0]!["comment"]!.GetValue<string>());
    }

    [Fact]
    public async Task trytons_refusals_are_permanent_with_its_message_and_an_expired_session_logs_in_again()
    {
        var refused = await Assert.ThrowsAsync<ConnectorException>(() =>
            Rpc.CreateAsync("party.party", [new JsonObject { ["name"] = "Dup", ["code"] = "COMPANY" }]));
        Assert.Equal(FailureKind.Permanent, refused.Kind);
        Assert.Equal("UserError", refused.VendorCode);
        Assert.False(string.IsNullOrWhiteSpace(refused.VendorMessage));

        // The server forgets the session (as after a restart or a timeout): the next call logs in again.
        var client = tryton.Server.Client();
        Assert.NotNull(await client.FindCustomerAsync("COMPANY"));
        await tryton.Server.ExpireSessionsAsync();
        Assert.NotNull(await client.FindCustomerAsync("COMPANY"));
    }
}
