using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using RetailSync.Silo.Hosting;

namespace RetailSync.Tests.Infrastructure;

/// <summary>
/// The real silo host (the same <see cref="SiloHost.Build"/> that <c>dotnet run --project silo</c> uses),
/// started inside the test process on free ports with real Kestrel, so tests speak real HTTP to it.
/// </summary>
public sealed class InProcessHost : IAsyncDisposable
{
    private InProcessHost(WebApplication app, HttpClient http)
    {
        App = app;
        Http = http;
    }

    public WebApplication App { get; }

    public HttpClient Http { get; }

    public IClusterClient Grains => App.Services.GetRequiredService<IClusterClient>();

    public static async Task<InProcessHost> StartEmbeddedAsync(params string[] extraArgs) =>
        await StartAsync([
            $"--RetailSync:Embedded:SiloPort={PostgresServer.FreePort()}",
            $"--RetailSync:Embedded:GatewayPort={PostgresServer.FreePort()}",
            .. extraArgs]);

    public static async Task<InProcessHost> StartClusterAsync(string connectionString, params string[] extraArgs) =>
        await StartAsync([
            "--RetailSync:Mode=Cluster",
            $"--RetailSync:Cluster:ConnectionString={connectionString}",
            $"--RetailSync:Cluster:ClusterId=test-{Guid.NewGuid():N}",
            $"--RetailSync:Cluster:SiloPort={PostgresServer.FreePort()}",
            $"--RetailSync:Cluster:GatewayPort={PostgresServer.FreePort()}",
            .. extraArgs]);

    private static async Task<InProcessHost> StartAsync(string[] args)
    {
        var app = SiloHost.Build(["--urls=http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning", .. args]);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new InProcessHost(app, new HttpClient { BaseAddress = new Uri(address) });
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
