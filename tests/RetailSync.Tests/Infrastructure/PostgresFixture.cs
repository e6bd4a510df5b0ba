using RetailSync.Testing;

namespace RetailSync.Tests.Infrastructure;

/// <summary>One PostgreSQL server for the whole test run; each test class makes its own database.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public PostgresServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await PostgresServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

// Alone, not beside the parallel collections: its multi-process failover timings are what it tests.
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}
