namespace RetailSync.Platform;

public sealed class HealthProbeGrain(
    [PersistentState("probe", StorageNames.State)] IPersistentState<HealthProbeState> state) : Grain, IHealthProbeGrain
{
    public async Task<ProbeResult> TouchAsync()
    {
        state.State.Touches++;
        state.State.LastTouchedAt = DateTimeOffset.UtcNow;
        await state.WriteStateAsync();
        return new ProbeResult(state.State.Touches, RuntimeIdentity);
    }

    public Task<ProbeResult> ReadAsync() => Task.FromResult(new ProbeResult(state.State.Touches, RuntimeIdentity));
}

[GenerateSerializer, Alias("RetailSync.Platform.HealthProbeState")]
public sealed class HealthProbeState
{
    [Id(0)] public long Touches { get; set; }
    [Id(1)] public DateTimeOffset LastTouchedAt { get; set; }
}
