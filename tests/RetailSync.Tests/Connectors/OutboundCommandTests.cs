using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using RetailSync.Connectors;
using RetailSync.Connectors.Resilience;
using RetailSync.Operations;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Connectors;

[Collection(SandboxCollection.Name)]
public sealed class OutboundCommandTests(SandboxHostFixture sandbox) : IAsyncLifetime
{
    public Task InitializeAsync() => sandbox.ResetAsync();

    public async Task DisposeAsync()
    {
        await sandbox.FaultAsync("bc");
        await sandbox.Http.DeleteAsync("/sandbox/salesforce/validation-rules");
    }

    private IOutboundCommandGrain Command(string key) => sandbox.Host.Grains.GetGrain<IOutboundCommandGrain>(key);

    [Fact]
    public async Task during_an_erp_outage_writes_queue_and_retry_then_complete_once_and_the_circuit_opens_and_closes()
    {
        sandbox.BcSim.SeedItem("SKU-1", "Thing", 10m, 100m);
        await sandbox.Erp.UpsertCustomerAsync(new ErpCustomer("RS-OUT", "Outage Customer", null, null, null, null, null, null));
        var health = sandbox.Host.App.Services.GetRequiredService<ConnectorHealth>();
        var openedBefore = health.History.Count(h => h.System == "bc" && h.State == "Open");

        await sandbox.FaultAsync("bc", outage: true);
        var keys = Enumerable.Range(0, 10).Select(i => $"erp:salesOrder:OUT-{i}").ToList();
        foreach (var (key, i) in keys.Select((k, i) => (k, i)))
        {
            await Command(key).SubmitAsync(OutboundExecutor.Command("erp", "salesOrder",
                new ErpSalesOrder($"OUT-{i}", "RS-OUT", new DateOnly(2026, 1, 15), "USD", [new ErpLine("SKU-1", 1, 10m)])));
        }

        await Eventually.TrueAsync(async () =>
        {
            var views = await Task.WhenAll(keys.Select(k => Command(k).GetAsync()));
            return views.All(v => v!.Status == CommandStatus.Retrying && v.Attempts >= 2)
                && health.History.Count(h => h.System == "bc" && h.State == "Open") > openedBefore;
        }, TimeSpan.FromSeconds(60), "commands retrying and the bc circuit open");
        Assert.Empty(sandbox.BcSim.Entities("salesOrders"));

        await sandbox.FaultAsync("bc");
        await Eventually.TrueAsync(async () =>
        {
            var views = await Task.WhenAll(keys.Select(k => Command(k).GetAsync()));
            return views.All(v => v!.Status == CommandStatus.Succeeded);
        }, TimeSpan.FromSeconds(60), "all commands succeeded after the outage");

        var orders = sandbox.BcSim.Entities("salesOrders").Select(o => o["externalDocumentNumber"]!.GetValue<string>()).Order().ToList();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"OUT-{i}").Order(), orders);
        var transitions = health.History.Where(h => h.System == "bc").Select(h => h.State).ToList();
        Assert.Equal("Closed", transitions[^1]);
        Assert.Contains("Open", transitions);
    }

    [Fact]
    public async Task a_vendor_validation_error_lands_in_the_exception_queue_and_a_retry_after_the_fix_succeeds()
    {
        (await sandbox.Http.PostAsJsonAsync("/sandbox/salesforce/validation-rules",
            new { sObject = "Contact", field = "Email", message = "Email is required for loyalty members" })).EnsureSuccessStatusCode();
        var key = "crm:upsert:Contact:loyal-1";
        await Command(key).SubmitAsync(OutboundExecutor.Command("crm", "upsert",
            new CrmUpsert("Contact", "RetailSync_Id__c", new JsonObject { ["RetailSync_Id__c"] = "loyal-1", ["LastName"] = "Loyal" }), "order-42"));
        await Eventually.TrueAsync(async () => (await Command(key).GetAsync())!.Status == CommandStatus.Failed, TimeSpan.FromSeconds(30), "command failed");

        var (status, list) = await sandbox.Http.GetApiAsync("/api/v1/ops/exceptions");
        Assert.Equal(HttpStatusCode.OK, status);
        var exception = list.GetProperty("items").EnumerateArray().Single(e => e.GetProperty("id").GetString() == key);
        Assert.Equal("FIELD_CUSTOM_VALIDATION_EXCEPTION", exception.GetProperty("vendorCode").GetString());
        Assert.Equal("Email is required for loyalty members", exception.GetProperty("vendorMessage").GetString());
        Assert.Equal("order-42", exception.GetProperty("correlationId").GetString());
        Assert.Contains("loyal-1", exception.GetProperty("payload").GetString(), StringComparison.Ordinal);
        Assert.Empty(sandbox.SalesforceSim.Records("Contact"));

        // The fix: the CRM admin relaxes the rule. Then the operator presses retry.
        await sandbox.Http.DeleteAsync("/sandbox/salesforce/validation-rules");
        using var retry = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/ops/exceptions/{Uri.EscapeDataString(key)}/retry");
        retry.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "dev-api-key");
        var answer = await sandbox.Http.SendJsonAsync(retry);
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal(CommandStatus.Succeeded, answer.Body.GetProperty("command").GetProperty("status").GetString());
        Assert.Equal("Resolved", answer.Body.GetProperty("exception").GetProperty("status").GetString());
        Assert.Single(sandbox.SalesforceSim.Records("Contact"));
        var (_, open) = await sandbox.Http.GetApiAsync("/api/v1/ops/exceptions");
        Assert.DoesNotContain(open.GetProperty("items").EnumerateArray(), e => e.GetProperty("id").GetString() == key);
    }

    [Fact]
    public async Task submitting_the_same_command_key_twice_runs_it_once()
    {
        var command = OutboundExecutor.Command("crm", "upsert", new CrmUpsert("Contact", "RetailSync_Id__c", new JsonObject { ["RetailSync_Id__c"] = "twice", ["LastName"] = "T", ["Email"] = "t@example.com" }));
        await Task.WhenAll(Command("crm:upsert:Contact:twice").SubmitAsync(command), Command("crm:upsert:Contact:twice").SubmitAsync(command));
        await Eventually.TrueAsync(async () => (await Command("crm:upsert:Contact:twice").GetAsync())!.Status == CommandStatus.Succeeded, TimeSpan.FromSeconds(30), "succeeded");
        Assert.Equal(1, (await Command("crm:upsert:Contact:twice").GetAsync())!.Attempts);
        Assert.Equal(1, sandbox.SalesforceSim.ApiUsage);
    }
}
