using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RetailSync.Connectors;
using RetailSync.Connectors.Salesforce;
using RetailSync.Sandbox.Salesforce;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Connectors;

[Collection(SandboxCollection.Name)]
public sealed class SalesforceAdapterTests(SandboxHostFixture sandbox) : IAsyncLifetime
{
    public Task InitializeAsync() => sandbox.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private static JsonObject Contact(int i, string? lastName = "Doe") => new() { ["RetailSync_Id__c"] = $"g{i}", ["LastName"] = lastName, ["Email"] = $"p{i}@example.com" };

    [Fact]
    public async Task upserts_are_batched_by_200_with_a_result_per_record()
    {
        var records = Enumerable.Range(0, 450).Select(i => Contact(i, i == 7 ? null : "Doe")).ToList();
        var results = await sandbox.Crm.UpsertAsync("Contact", "RetailSync_Id__c", records);

        Assert.Equal(450, results.Count);
        Assert.Equal(3, sandbox.SalesforceSim.ApiUsage);
        Assert.Equal("REQUIRED_FIELD_MISSING", results[7].ErrorCode);
        Assert.Equal(449, results.Count(r => r.Success && r.Created));

        var again = await sandbox.Crm.UpsertAsync("Contact", "RetailSync_Id__c", [Contact(1)]);
        Assert.False(again[0].Created);
        Assert.Equal(results[1].Id, again[0].Id);
        Assert.Equal(449, sandbox.SalesforceSim.Records("Contact").Count);
    }

    [Fact]
    public async Task an_order_needs_an_account_and_one_the_crm_does_not_know_goes_under_the_guest_account()
    {
        JsonObject Order(string id) => new() { ["Shopify_Order_Id__c"] = id, ["Name"] = "#" + id, ["Status"] = "Draft", ["EffectiveDate"] = "2026-12-01" };
        var guest = Assert.Single(await sandbox.Crm.UpsertAsync("Order", "Shopify_Order_Id__c", [Order("9001")]));
        Assert.True(guest.Success, guest.Message);
        Assert.Equal(SalesforceSimulator.GuestAccountId, sandbox.SalesforceSim.Records("Order").Single()["AccountId"]!.GetValue<string>());

        var unknown = Order("9002");
        unknown["AccountId"] = "001SB0000000NOSUCH";
        Assert.Equal("INVALID_CROSS_REFERENCE_KEY", Assert.Single(await sandbox.Crm.UpsertAsync("Order", "Shopify_Order_Id__c", [unknown])).ErrorCode);

        // Without a guest account configured, Salesforce refuses the order as it would.
        var right = sandbox.Host.App.Services.GetRequiredService<IOptionsMonitor<ConnectorOptions>>().CurrentValue.Salesforce;
        var bare = new StaticOptions<ConnectorOptions>(new ConnectorOptions
        {
            Salesforce = { LoginUrl = right.LoginUrl, ClientId = right.ClientId, ClientSecret = right.ClientSecret, RequestsPerSecond = 1000 },
        });
        var http = new HttpClient();
        var crm = new SalesforceClient(http, bare, new SalesforceSession(http, bare), Microsoft.Extensions.Logging.Abstractions.NullLogger<SalesforceClient>.Instance);
        Assert.Equal("REQUIRED_FIELD_MISSING", Assert.Single(await crm.UpsertAsync("Order", "Shopify_Order_Id__c", [Order("9003")])).ErrorCode);
    }

    [Fact]
    public async Task an_expired_session_is_renewed_once_for_every_caller_that_saw_it_fail()
    {
        var session = sandbox.Host.App.Services.GetRequiredService<SalesforceSession>();
        await sandbox.Crm.UpsertAsync("Contact", "RetailSync_Id__c", [Contact(0)]);
        var renewals = session.Renewals;
        var issued = sandbox.SalesforceSim.Sessions.Issued;

        // The org's session timeout passes while eight commands are on their way.
        sandbox.SalesforceSim.Sessions.ExpireAll();
        var results = await Task.WhenAll(Enumerable.Range(1, 8).Select(i => sandbox.Crm.UpsertAsync("Contact", "RetailSync_Id__c", [Contact(i)])));

        Assert.All(results, r => Assert.True(r[0].Success, r[0].Message));
        Assert.Equal(renewals + 1, session.Renewals);
        Assert.Equal(issued + 1, sandbox.SalesforceSim.Sessions.Issued);
        Assert.Equal(9, sandbox.SalesforceSim.Records("Contact").Count);
    }

    [Fact]
    public async Task a_connected_app_with_a_wrong_secret_is_refused_by_the_token_endpoint_with_its_reason()
    {
        var right = sandbox.Host.App.Services.GetRequiredService<IOptionsMonitor<ConnectorOptions>>().CurrentValue.Salesforce;
        var options = new ConnectorOptions
        {
            Salesforce = { LoginUrl = right.LoginUrl, ClientId = right.ClientId, ClientSecret = right.ClientSecret + "-wrong" },
        };
        var session = new SalesforceSession(new HttpClient(), new StaticOptions<ConnectorOptions>(options));

        var refused = await Assert.ThrowsAsync<ConnectorException>(async () => await session.CurrentAsync(CancellationToken.None));
        Assert.Equal("invalid_client", refused.VendorCode);
        Assert.Equal(FailureKind.Permanent, refused.Kind);
        Assert.Contains("invalid client credentials", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task an_upsert_that_loses_the_race_to_insert_its_external_id_updates_the_record_that_won()
    {
        // The contact's golden record and its first order reach Salesforce at once: the other insert commits first.
        sandbox.SalesforceSim.RaceNextInsert("Contact", "RetailSync_Id__c", "g2");
        var results = await sandbox.Crm.UpsertAsync("Contact", "RetailSync_Id__c", [Contact(1), Contact(2, "Racer")]);

        Assert.All(results, r => Assert.True(r.Success, r.Message));
        Assert.True(results[0].Created);
        Assert.False(results[1].Created);
        var contact = Assert.Single(sandbox.SalesforceSim.Records("Contact"), c => c["RetailSync_Id__c"]?.ToString() == "g2");
        Assert.Equal(results[1].Id, contact["Id"]!.ToString());
        Assert.Equal("Racer", contact["LastName"]!.ToString());
        Assert.Equal(2, sandbox.SalesforceSim.ApiUsage);
    }

    [Fact]
    public async Task queries_follow_next_records_url_and_the_limit_header_is_read()
    {
        await sandbox.Crm.UpsertAsync("Contact", "RetailSync_Id__c", [.. Enumerable.Range(0, 250).Select(i => Contact(i))]);
        sandbox.SalesforceSim.QueryBatchSize = 100;
        try
        {
            var rows = await sandbox.Crm.QueryAsync("SELECT Id, RetailSync_Id__c FROM Contact");
            Assert.Equal(250, rows.Count);
            Assert.Equal(250, rows.Select(r => r["RetailSync_Id__c"]!.GetValue<string>()).Distinct().Count());
            var one = await sandbox.Crm.QueryAsync("SELECT Id, Email FROM Contact WHERE RetailSync_Id__c = 'g42'");
            Assert.Equal("p42@example.com", Assert.Single(one)["Email"]!.GetValue<string>());
        }
        finally
        {
            sandbox.SalesforceSim.QueryBatchSize = 2000;
        }

        var client = Assert.IsType<SalesforceClient>(sandbox.Crm);
        Assert.Equal(sandbox.SalesforceSim.ApiUsage, client.ApiUsage?.Used);
    }

    [Fact]
    public async Task a_bad_query_is_permanent_and_the_daily_limit_is_transient()
    {
        var bad = await Assert.ThrowsAsync<ConnectorException>(() => sandbox.Crm.QueryAsync("SELEKT Id FROM Contact"));
        Assert.Equal((FailureKind.Permanent, "MALFORMED_QUERY"), (bad.Kind, bad.VendorCode));

        sandbox.SalesforceSim.DailyAllocation = sandbox.SalesforceSim.ApiUsage;
        try
        {
            var limited = await Assert.ThrowsAsync<ConnectorException>(() => sandbox.Crm.CreateAsync("Case", new JsonObject { ["Subject"] = "Refund" }));
            Assert.Equal((FailureKind.Transient, "REQUEST_LIMIT_EXCEEDED"), (limited.Kind, limited.VendorCode));
        }
        finally
        {
            sandbox.SalesforceSim.DailyAllocation = 100_000;
        }
    }

    [Fact]
    public async Task a_case_is_created_and_updated()
    {
        var id = await sandbox.Crm.CreateAsync("Case", new JsonObject { ["Subject"] = "Refund 890088186047892400", ["Status"] = "New", ["Origin"] = "Web" });
        Assert.StartsWith("500", id, StringComparison.Ordinal);
        await sandbox.Crm.UpdateAsync("Case", id, new JsonObject { ["Status"] = "Closed" });
        Assert.Equal("Closed", Assert.Single(sandbox.SalesforceSim.Records("Case"))["Status"]!.GetValue<string>());
    }
}
