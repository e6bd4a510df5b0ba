using System.Diagnostics;
using Xunit.Abstractions;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Orleans.TestingHost;
using RetailSync.Connectors;
using RetailSync.Connectors.Resilience;
using RetailSync.Sandbox;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Connectors;

/// <summary>The vendor's limit, measured by the vendor (the sandbox), holds however many writers there are.</summary>
[Collection(Name)]
public sealed class RateBudgetTests(ITestOutputHelper output)
{
    public const string Name = "timing";

    /// <summary>A closed loop of <paramref name="workers"/> concurrent writers, as a busy dispatcher would be.</summary>
    private static async Task<List<T>> Writers<T>(int count, int workers, Func<int, Task<T>> write)
    {
        var next = -1;
        var results = new T[count];
        await Task.WhenAll(Enumerable.Range(0, workers).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                results[i] = await write(i);
            }
        }));
        return [.. results];
    }

    private static JsonObject Contact(string key) => new() { ["RetailSync_Id__c"] = key, ["LastName"] = "Doe" };

    [Fact]
    public async Task a_burst_of_1000_writes_never_exceeds_the_vendor_limit_loses_nothing_and_uses_the_budget()
    {
        const int limit = 200;
        await using var host = await InProcessHost.StartEmbeddedAsync(
            "--RetailSync:Dashboard:Enabled=false",
            $"--RetailSync:Connectors:Salesforce:RequestsPerSecond={limit}",
            "--RetailSync:Connectors:RateLimitHeadroom=0.95");
        (await host.Http.PostAsJsonAsync("/sandbox/faults", new { system = SandboxApi.Salesforce, rateLimitPerSecond = limit })).EnsureSuccessStatusCode();
        var crm = host.App.Services.GetRequiredService<ICrm>();
        // Connections, JIT and the budget grain's activation are not what this measures.
        await crm.UpsertAsync("Contact", "RetailSync_Id__c", [Contact("warm-up")]);

        var watch = Stopwatch.StartNew();
        var results = await Writers(1000, 20, i => crm.UpsertAsync("Contact", "RetailSync_Id__c", [Contact($"burst-{i}")]));
        watch.Stop();

        var traffic = host.App.Services.GetRequiredService<SandboxTraffic>().Salesforce;
        Assert.All(results, r => Assert.True(r[0].Success));
        Assert.Equal(1001, host.App.Services.GetRequiredService<RetailSync.Sandbox.Salesforce.SalesforceSimulator>().Records("Contact").Count);
        Assert.Equal(0, traffic.RejectedByRateLimit);
        Assert.True(traffic.MaxPerSecond() <= limit, $"sandbox saw {traffic.MaxPerSecond()} requests in one second");
        var ideal = TimeSpan.FromSeconds(1000.0 / limit);
        output.WriteLine($"1000 writes at a {limit}/s limit: {watch.Elapsed.TotalSeconds:F2} s (ideal {ideal.TotalSeconds:F2} s, {watch.Elapsed / ideal:F2}x), sandbox max {traffic.MaxPerSecond()}/s, rejected {traffic.RejectedByRateLimit}");
        // How close to the ideal it gets is a figure for the flash-sale benchmark, not an assertion here (a busy
        // CI machine measured 1.21x). Twice the ideal would mean the limiter leaves half the budget unused: a bug.
        Assert.True(watch.Elapsed <= ideal * 2, $"took {watch.Elapsed}, ideal {ideal}: the limiter wastes its budget");
    }

    [Fact]
    public async Task two_silos_together_stay_within_one_vendor_limit()
    {
        const int limit = 50;
        await using var sandboxHost = await InProcessHost.StartEmbeddedAsync("--RetailSync:Dashboard:Enabled=false");
        (await sandboxHost.Http.PostAsJsonAsync("/sandbox/faults", new { system = SandboxApi.Salesforce, rateLimitPerSecond = limit })).EnsureSuccessStatusCode();

        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSiloHost((_, host) =>
        {
            host.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["RetailSync:Connectors:Salesforce:InstanceUrl"] = sandboxHost.Http.BaseAddress + "sandbox/salesforce",
                ["RetailSync:Connectors:Salesforce:AccessToken"] = RetailSync.Sandbox.Salesforce.SalesforceSimulator.AccessToken,
                ["RetailSync:Connectors:Salesforce:RequestsPerSecond"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["RetailSync:Connectors:RateLimitHeadroom"] = "0.95",
            });
            host.Services.AddRetailSyncConnectors();
        });
        await using var cluster = builder.Build();
        await cluster.DeployAsync();

        var writers = cluster.Silos.Select((silo, s) => (s, crm: silo.ServiceProvider.GetRequiredService<ICrm>())).ToList();
        Assert.Equal(2, writers.Count);
        await Task.WhenAll(writers.Select(w => Writers(150, 20, i => w.crm.UpsertAsync("Contact", "RetailSync_Id__c", [Contact($"silo{w.s}-{i}")]))));

        var traffic = sandboxHost.App.Services.GetRequiredService<SandboxTraffic>().Salesforce;
        Assert.Equal(300, sandboxHost.App.Services.GetRequiredService<RetailSync.Sandbox.Salesforce.SalesforceSimulator>().Records("Contact").Count);
        Assert.Equal(0, traffic.RejectedByRateLimit);
        output.WriteLine($"two silos, 300 writes at a {limit}/s limit: sandbox max {traffic.MaxPerSecond()}/s, rejected {traffic.RejectedByRateLimit}");
        Assert.True(traffic.MaxPerSecond() <= limit, $"sandbox saw {traffic.MaxPerSecond()} requests in one second from two silos");
    }
}

[CollectionDefinition(RateBudgetTests.Name, DisableParallelization = true)]
public sealed class TimingCollection;
