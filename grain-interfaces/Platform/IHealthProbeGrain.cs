namespace RetailSync.Platform;

/// <summary>A tiny persistent grain used to prove that the cluster answers and storage accepts writes.</summary>
[Alias("RetailSync.Platform.IHealthProbeGrain")]
public interface IHealthProbeGrain : IGrainWithStringKey
{
    /// <summary>Persists one more touch and returns the new total and the silo that served it.</summary>
    [Alias("Touch")]
    Task<ProbeResult> TouchAsync();

    /// <summary>Reads the persisted total without writing.</summary>
    [Alias("Read")]
    Task<ProbeResult> ReadAsync();
}

[GenerateSerializer, Immutable, Alias("RetailSync.Platform.ProbeResult")]
public sealed record ProbeResult([property: Id(0)] long Touches, [property: Id(1)] string Silo);
