using Orleans.TestingHost;
using RetailSync.Platform;

namespace RetailSync.Tests.Infrastructure;

/// <summary>One in-memory TestingHost cluster shared by the grain tests of a collection.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(StorageNames.State);
            silo.AddMemoryGrainStorage(StorageNames.PubSub);
            silo.UseInMemoryReminderService();
            RetailSync.Silo.Hosting.OrleansSiloConfiguration.AddEventStreams(silo);
            silo.Services.AddSingleton<RetailSync.Outbox.IOutboxIndex, RetailSync.Outbox.GrainOutboxIndex>();
        });
        builder.ConfigureClient(client => client.AddMemoryStreams(StorageNames.Events));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
