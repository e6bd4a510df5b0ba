using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Orleans.Storage;
using RetailSync.Silo.Storage;

namespace RetailSync.Tests.Platform;

/// <summary>
/// Cluster mode's storage stores the state as it was when the grain asked for the write, although the ADO.NET
/// storage serializes later (after opening its connection), while an interleaving grain may change it.
/// </summary>
public sealed class TurnSerializedGrainStorageTests
{
    private sealed class Json : IGrainStorageSerializer
    {
        public BinaryData Serialize<T>(T? input) => BinaryData.FromObjectAsJson(input);

        public T? Deserialize<T>(BinaryData input) => input.ToObjectFromJson<T>();
    }

    /// <summary>Serializes only once its "connection" is open, as the ADO.NET storage does.</summary>
    private sealed class LateSerializingStorage(IGrainStorageSerializer serializer) : IGrainStorage
    {
        public TaskCompletionSource Open { get; } = new();

        public BinaryData? Stored { get; private set; }

        public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            await Open.Task;
            Stored = serializer.Serialize(grainState.State);
            grainState.ETag = "1";
            grainState.RecordExists = true;
        }

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            if (Stored is not null)
            {
                grainState.State = serializer.Deserialize<T>(Stored)!;
                grainState.ETag = "1";
                grainState.RecordExists = true;
            }

            return Task.CompletedTask;
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => Task.CompletedTask;
    }

    private static readonly GrainId Grain = GrainId.Create("test", "one");

    private static async Task<List<int>> WriteChangeDuringWriteAndReadBack(Func<LateSerializingStorage, IGrainStorage> wrap)
    {
        var json = new Json();
        var late = new LateSerializingStorage(new PassThroughSerializer(json));
        var storage = wrap(late);
        var state = new GrainState<List<int>>([1]);

        var write = storage.WriteStateAsync("state", Grain, state);
        state.State!.Add(2); // an interleaved call changes the state while the write waits for its connection
        late.Open.SetResult();
        await write;
        Assert.Equal("1", state.ETag);
        Assert.True(state.RecordExists);

        var read = new GrainState<List<int>>([]);
        await storage.ReadStateAsync("state", Grain, read);
        return read.State!;
    }

    [Fact]
    public async Task the_state_is_stored_as_it_was_when_the_write_was_asked_for()
    {
        Assert.Equal([1], await WriteChangeDuringWriteAndReadBack(late => new TurnSerializedGrainStorage(late, new Json())));
    }

    [Fact]
    public async Task without_it_a_change_made_during_the_write_gets_in()
    {
        // What the ADO.NET storage alone does, and why the decorator exists.
        Assert.Equal([1, 2], await WriteChangeDuringWriteAndReadBack(late => late));
    }
}

/// <summary>The cluster silo's configuration puts the decorator in front of the ADO.NET storage.</summary>
public sealed class ClusterStorageWiringTests
{
    [Fact]
    public void cluster_mode_grain_state_goes_through_the_turn_serializing_storage()
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RetailSync:Mode"] = "Cluster",
            ["RetailSync:Cluster:ConnectionString"] = "Host=127.0.0.1;Port=1;Username=none",
            ["RetailSync:Cluster:ClusterId"] = "wiring",
        });
        builder.UseOrleans(silo => RetailSync.Silo.Hosting.OrleansSiloConfiguration.ConfigureCluster(silo, builder.Configuration));
        using var host = builder.Build();

        Assert.IsType<TurnSerializedGrainStorage>(host.Services.GetRequiredKeyedService<IGrainStorage>(RetailSync.Platform.StorageNames.State));
    }
}
