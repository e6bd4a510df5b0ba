using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace RetailSync.Connectors.Resilience;

/// <summary>Circuit state per vendor, as a log line, a metric and a value operations can read.</summary>
public sealed partial class ConnectorHealth(ILogger<ConnectorHealth> logger, IMeterFactory meters)
{
    public const string MeterName = "RetailSync.Connectors";
    private readonly Counter<long> transitions = meters.Create(MeterName).CreateCounter<long>("retailsync.connector.circuit_transitions", description: "Circuit breaker state changes per vendor system");
    private readonly ConcurrentQueue<(string System, string State, DateTimeOffset At)> history = new();

    public IReadOnlyList<(string System, string State, DateTimeOffset At)> History => [.. history];

    public void Record(string system, string state)
    {
        history.Enqueue((system, state, DateTimeOffset.UtcNow));
        transitions.Add(1, new KeyValuePair<string, object?>("system", system), new KeyValuePair<string, object?>("state", state));
        LogCircuit(logger, system, state);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Circuit of {System} is now {State}")]
    private static partial void LogCircuit(ILogger logger, string system, string state);
}
