using RetailSync.Connectors.Tryton;
using RetailSync.Silo.Erp;

namespace RetailSync.Tests.Infrastructure;

/// <summary>
/// A real Tryton server (Debian's trytond 6.0) on loopback, started from a copy of the prepared database
/// for this test collection and stopped afterwards. scripts/test.sh installs the packages when absent.
/// </summary>
public sealed class TrytonFixture : IAsyncLifetime
{
    /// <summary>The SKUs of the order fixtures and of these tests, with list prices and opening stock.</summary>
    public static readonly TrytonProduct[] Products =
    [
        new("IPOD2008PINK", 199m, 100), new("CASE-LEATHER-PREM", 49.99m, 100), new("LENS-PROTECT-2YR", 29.99m, 100),
        new("SKU2006-001", 10m, 100), new("SKU2006-020", 10m, 100), new("SKU2006-035", 10m, 100),
        new("TRY-STOCK", 5m, 0), new("TRY-BUYERS", 20m, 1000),
    ];

    public LocalTryton Server { get; private set; } = null!;

    public TrytonClient Erp { get; private set; } = null!;

    /// <summary>An embedded host whose ERP is this Tryton, retrying quickly; <paramref name="extra"/> adds settings.</summary>
    public Task<InProcessHost> StartHostAsync(params string[] extra) => InProcessHost.StartEmbeddedAsync([
        "--RetailSync:Dashboard:Enabled=false",
        "--RetailSync:Connectors:Erp=Tryton",
        $"--RetailSync:Connectors:Tryton:Url={Server.Options.Url}",
        $"--RetailSync:Connectors:Tryton:Database={Server.Options.Database}",
        $"--RetailSync:Connectors:Tryton:Password={Server.Options.Password}",
        "--RetailSync:Outbound:RetryBaseDelay=00:00:00.100",
        "--RetailSync:Outbound:MaxDelay=00:00:01",
        .. extra]);

    public async Task InitializeAsync()
    {
        if (!LocalTryton.Installed)
        {
            throw new InvalidOperationException("Tryton is not installed: run scripts/test.sh, which installs tryton-server and its modules from Debian");
        }

        Server = await LocalTryton.StartAsync(Products);
        Erp = Server.Client();
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class TrytonCollection : ICollectionFixture<TrytonFixture>
{
    public const string Name = "tryton";
}
