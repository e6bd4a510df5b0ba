using Orleans.Storage;

namespace RetailSync.Silo.Storage;

/// <summary>
/// Cluster mode's grain storage: Orleans' ADO.NET storage, handed the state already serialized. That storage
/// serializes inside its command builder, after opening a connection, so off the grain's turn: a grain whose
/// calls interleave (the exception queue) could change its state meanwhile, and the write would fail on a
/// collection changed under the serializer or store a half-changed state. Here the bytes are made in the
/// grain's turn, before the first await, and <see cref="PassThroughSerializer"/> gives them to the storage as
/// they are. Reads and clears go straight through.
/// </summary>
public sealed class TurnSerializedGrainStorage(IGrainStorage inner, IGrainStorageSerializer serializer) : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ReadStateAsync(stateName, grainId, grainState);

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var carrier = new GrainState<Serialized>(new Serialized(serializer.Serialize(grainState.State)), grainState.ETag)
        {
            RecordExists = grainState.RecordExists,
        };
        await inner.WriteStateAsync(stateName, grainId, carrier);
        grainState.ETag = carrier.ETag;
        grainState.RecordExists = carrier.RecordExists;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ClearStateAsync(stateName, grainId, grainState);

    /// <summary>The ADO.NET storage initialises itself in the silo's lifecycle.</summary>
    public void Participate(ISiloLifecycle lifecycle) => (inner as ILifecycleParticipant<ISiloLifecycle>)?.Participate(lifecycle);

    /// <summary>A state in bytes already.</summary>
    public sealed record Serialized(BinaryData Bytes);
}

/// <summary>The storage's serializer: bytes made in the grain's turn pass as they are; everything else as before.</summary>
public sealed class PassThroughSerializer(IGrainStorageSerializer inner) : IGrainStorageSerializer
{
    public BinaryData Serialize<T>(T? input) => input is TurnSerializedGrainStorage.Serialized serialized ? serialized.Bytes : inner.Serialize(input);

    public T? Deserialize<T>(BinaryData input) => inner.Deserialize<T>(input);
}
