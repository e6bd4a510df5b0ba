using System.Net;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Platform;

public sealed class EmbeddedHostTests
{
    [Fact]
    public async Task the_embedded_default_process_answers_health_and_serves_the_dashboard()
    {
        await using var silo = SiloProcess.Start(
            $"--RetailSync:Embedded:SiloPort={PostgresServer.FreePort()}",
            $"--RetailSync:Embedded:GatewayPort={PostgresServer.FreePort()}");
        await silo.WaitReadyAsync(TimeSpan.FromSeconds(30));

        using var http = new HttpClient { BaseAddress = new Uri(silo.HttpUrl) };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready")).StatusCode);
        var dashboard = await http.GetAsync("/dashboard/");
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        Assert.Contains("<title>Orleans Dashboard</title>", await dashboard.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/sandbox/")).StatusCode);
        // The process's memory after a full collection, for operators (and the memory benchmark): behind the API key.
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/v1/ops/memory")).StatusCode);
        var (status, memory) = await http.GetApiAsync("/api/v1/ops/memory");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(memory.GetProperty("heapBytes").GetInt64() > 0 && memory.GetProperty("workingSetBytes").GetInt64() >= memory.GetProperty("heapBytes").GetInt64());
        Assert.Contains("state is in memory", silo.Log);
        Assert.Contains(silo.HttpUrl, silo.Log);
    }

    [Fact]
    public async Task unknown_routes_answer_problem_details()
    {
        await using var host = await InProcessHost.StartEmbeddedAsync("--RetailSync:Dashboard:Enabled=false");
        var response = await host.Http.GetAsync("/no/such/thing");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
