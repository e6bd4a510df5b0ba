using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RetailSync.Connectors;
using RetailSync.Connectors.BusinessCentral;
using RetailSync.Sandbox.BusinessCentral;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Connectors;

[Collection(SandboxCollection.Name)]
public sealed class BusinessCentralAdapterTests(SandboxHostFixture sandbox) : IAsyncLifetime
{
    public async Task InitializeAsync()
    {
        await sandbox.ResetAsync();
        sandbox.BcSim.SeedItem("IPOD2008PINK", "iPod Nano 8GB pink", 199m, 40m);
        await sandbox.Erp.UpsertCustomerAsync(new ErpCustomer("RS-1", "Jon Snow", "jon@example.com", null, null, null, null, "US"));
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static ErpSalesOrder Order(string number) =>
        new(number, "RS-1", new DateOnly(2026, 1, 15), "USD", [new ErpLine("IPOD2008PINK", 2, 199m)]);

    [Fact]
    public async Task a_sales_order_is_created_once_per_external_document_number()
    {
        var first = await sandbox.Erp.SubmitSalesOrderAsync(Order("SHOP-1001"));
        var second = await sandbox.Erp.SubmitSalesOrderAsync(Order("SHOP-1001"));
        Assert.Equal(first.Id, second.Id);
        Assert.Equal(398m, first.Total);
        Assert.Single(sandbox.BcSim.Entities("salesOrders"));
        Assert.Equal(40m, await sandbox.Erp.GetInventoryAsync("IPOD2008PINK"));
    }

    [Fact]
    public async Task business_central_refuses_a_customer_number_over_20_characters_and_long_names_are_cut_to_fit()
    {
        var refused = await Assert.ThrowsAsync<ConnectorException>(() =>
            sandbox.Erp.UpsertCustomerAsync(new ErpCustomer("SHOPIFY-1153106273147", "Jon Snow", null, null, null, null, null, "US")));
        Assert.Equal("Application_StringExceededLength", refused.VendorCode);
        Assert.Equal(FailureKind.Permanent, refused.Kind);

        var name = "Daenerys Stormborn of House Targaryen, the First of Her Name, Queen of the Andals and the First Men, Protector";
        var kept = await sandbox.Erp.UpsertCustomerAsync(new ErpCustomer("SH-VJE7EVZ0LM6", name, "dany@example.com", null,
            "1 Dragonstone Road", "Dragonstone upon the Narrow Sea", "D1", "GB"));
        var stored = sandbox.BcSim.Entities("customers").Single(c => c["number"]!.GetValue<string>() == kept.Number);
        Assert.Equal(name[..100], stored["displayName"]!.GetValue<string>());
        Assert.Equal("Dragonstone upon the Narrow Se", stored["city"]!.GetValue<string>());
    }

    [Fact]
    public async Task tokens_come_from_entra_through_msal_and_an_expired_one_is_replaced_once_for_every_caller()
    {
        var tokens = sandbox.Host.App.Services.GetRequiredService<BusinessCentralTokens>();
        Assert.Equal(40m, await sandbox.Erp.GetInventoryAsync("IPOD2008PINK"));
        var fetched = tokens.FromEntra;
        var issued = sandbox.BcSim.Tokens.Issued;
        Assert.True(issued >= 1, "the set-up's calls went with a token from the sandbox's Entra ID");

        // The hour passes while eight calls are on their way: Business Central refuses the token MSAL still holds.
        sandbox.BcSim.Tokens.ExpireAll();
        var stock = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => sandbox.Erp.GetInventoryAsync("IPOD2008PINK")));

        Assert.All(stock, s => Assert.Equal(40m, s));
        Assert.Equal(fetched + 1, tokens.FromEntra);
        Assert.Equal(issued + 1, sandbox.BcSim.Tokens.Issued);
    }

    [Fact]
    public async Task a_wrong_client_secret_is_refused_by_entra_with_its_reason()
    {
        var right = sandbox.Host.App.Services.GetRequiredService<IOptionsMonitor<ConnectorOptions>>().CurrentValue.BusinessCentral;
        var options = new ConnectorOptions
        {
            BusinessCentral = { TenantId = right.TenantId, ClientId = right.ClientId, ClientSecret = "not-the-secret", SandboxEntraUrl = right.SandboxEntraUrl },
        };
        var tokens = new BusinessCentralTokens(new StaticOptions<ConnectorOptions>(options));

        var refused = await Assert.ThrowsAsync<ConnectorException>(() => tokens.TokenAsync(null, CancellationToken.None));
        Assert.Equal("invalid_client", refused.VendorCode);
        Assert.Equal(FailureKind.Permanent, refused.Kind);
        Assert.Contains("AADSTS7000215", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task many_callers_creating_one_new_customer_at_once_get_the_one_business_central_keeps()
    {
        // Business Central refuses a second customer of one number (409 Internal_EntityWithSameKeyExists): the
        // losers read again and take the winner's record, as an order and the golden record arriving together must.
        var customer = new ErpCustomer("RS-RUSH", "Rush Buyer", "rush@example.com", "+16135550142", "1 Sparks St", "Ottawa", "K1P 5B4", "CA");

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => sandbox.Erp.UpsertCustomersAsync([customer])));

        Assert.All(answers, a => Assert.Null(a[0].Error));
        var kept = Assert.Single(sandbox.BcSim.Entities("customers"), c => c["number"]?.ToString() == "RS-RUSH");
        Assert.All(answers, a => Assert.Equal(kept["id"]!.ToString(), a[0].Customer!.Id));
    }

    [Fact]
    public async Task a_stale_etag_makes_the_adapter_read_again_and_decide_again()
    {
        await sandbox.Erp.SubmitSalesOrderAsync(Order("SHOP-2002"));
        var decisions = 0;
        var updated = await sandbox.Erp.UpdateSalesOrderAsync("SHOP-2002", current =>
        {
            decisions++;
            if (decisions == 1)
            {
                // Another user edits the order between our read and our write.
                sandbox.BcSim.Execute("PATCH", $"/companies({BusinessCentralSimulator.CompanyId})/salesOrders({current.Id})", "", "*", new JsonObject { ["shipToName"] = "Someone else" });
            }

            return new JsonObject { ["requestedDeliveryDate"] = "2026-01-20" };
        });
        Assert.Equal(2, decisions);
        Assert.Equal("2026-01-20", updated.Raw["requestedDeliveryDate"]!.GetValue<string>());
        Assert.Equal("Someone else", updated.Raw["shipToName"]!.GetValue<string>());
    }

    [Fact]
    public async Task the_sandbox_refuses_a_patch_without_if_match_as_business_central_does()
    {
        var order = await sandbox.Erp.SubmitSalesOrderAsync(Order("SHOP-3003"));
        using var request = new HttpRequestMessage(HttpMethod.Patch, $"/sandbox/bc/v2.0/sandbox/api/v2.0/companies({BusinessCentralSimulator.CompanyId})/salesOrders({order.Id})")
        {
            Content = new StringContent("""{"shipToName":"x"}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", BusinessCentralSimulator.AccessToken);
        var response = await sandbox.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("BadRequest_InvalidToken", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task many_orders_go_in_batches_of_100_and_a_resubmission_creates_none()
    {
        var orders = Enumerable.Range(0, 150).Select(i => Order($"BULK-{i}")).ToList();
        var before = sandbox.Traffic.BusinessCentral.Requests;
        var results = await sandbox.Erp.SubmitSalesOrdersAsync(orders);
        Assert.All(results, r => Assert.NotNull(r.Order));
        Assert.Equal(4, sandbox.Traffic.BusinessCentral.Requests - before);

        var again = await sandbox.Erp.SubmitSalesOrdersAsync(orders);
        Assert.Equal(results.Select(r => r.Order!.Id), again.Select(r => r.Order!.Id));
        Assert.Equal(150, sandbox.BcSim.Entities("salesOrders").Count);
    }

    [Fact]
    public async Task an_unknown_item_is_a_permanent_failure_with_the_erps_message()
    {
        var ex = await Assert.ThrowsAsync<ConnectorException>(() => sandbox.Erp.SubmitSalesOrderAsync(
            new ErpSalesOrder("SHOP-BAD", "RS-1", new DateOnly(2026, 1, 15), "USD", [new ErpLine("NO-SUCH-SKU", 1, 1m)])));
        Assert.Equal(FailureKind.Permanent, ex.Kind);
        Assert.Equal("Application_FieldValidationException", ex.VendorCode);
        Assert.Contains("NO-SUCH-SKU", ex.VendorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task concurrent_upserts_of_one_customer_make_one_customer_and_an_unchanged_one_is_not_rewritten()
    {
        var customer = new ErpCustomer("RS-MANY", "Many Orders", "m@example.com", null, null, null, null, "US");
        var refs = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => sandbox.Erp.UpsertCustomerAsync(customer)));
        Assert.Single(refs.Select(r => r.Id).Distinct());
        Assert.Single(sandbox.BcSim.Entities("customers"), c => c["number"]!.GetValue<string>() == "RS-MANY");

        var etag = sandbox.BcSim.Entities("customers").Single(c => c["number"]!.GetValue<string>() == "RS-MANY")["@odata.etag"]!.GetValue<string>();
        await sandbox.Erp.UpsertCustomerAsync(customer);
        Assert.Equal(etag, sandbox.BcSim.Entities("customers").Single(c => c["number"]!.GetValue<string>() == "RS-MANY")["@odata.etag"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_credit_memo_is_created_once()
    {
        var memo = new ErpCreditMemo("REFUND-890088186047892400", "RS-1", new DateOnly(2026, 1, 16), [new ErpLine("IPOD2008PINK", 1, 199m)]);
        var first = await sandbox.Erp.CreateCreditMemoAsync(memo);
        Assert.Equal(first, await sandbox.Erp.CreateCreditMemoAsync(memo));
        Assert.Single(sandbox.BcSim.Entities("salesCreditMemos"));
    }
}
