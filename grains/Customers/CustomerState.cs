using RetailSync.Intake;
using RetailSync.Outbox;

namespace RetailSync.Customers;

[GenerateSerializer, Alias("RetailSync.Customers.CustomerDistribution")]
public sealed class CustomerDistribution
{
    [Id(0)] public long SentVersion { get; set; }
    [Id(1)] public long AckedVersion { get; set; }
    [Id(3)] public string Status { get; set; } = "Pending";
    [Id(4)] public string? Error { get; set; }
    [Id(5)] public string? ExternalId { get; set; }

    /// <summary>What the last planned command told the system; the same again is not sent.</summary>
    [Id(6)] public string? LastPayload { get; set; }
}

[GenerateSerializer, Alias("RetailSync.Customers.CustomerState")]
public sealed class CustomerState
{
    [Id(0)] public DateTimeOffset? CreatedAt { get; set; }
    [Id(1)] public Dictionary<string, SourceRecord> Sources { get; set; } = new(StringComparer.Ordinal);
    [Id(2)] public Dictionary<string, string> SourceRules { get; set; } = new(StringComparer.Ordinal);
    [Id(3)] public Dictionary<string, GoldenField> Fields { get; set; } = new(StringComparer.Ordinal);
    [Id(4)] public List<string> Keys { get; set; } = [];
    [Id(5)] public List<string> Orders { get; set; } = [];
    [Id(6)] public List<string> MergedFrom { get; set; } = [];
    [Id(7)] public List<MergeRecord> History { get; set; } = [];
    [Id(8)] public HashSet<string> NotSame { get; set; } = new(StringComparer.Ordinal);
    [Id(9)] public HashSet<string> Candidates { get; set; } = new(StringComparer.Ordinal);
    [Id(10)] public string? MergedInto { get; set; }
    [Id(11)] public bool Redacted { get; set; }
    [Id(12)] public long Version { get; set; }
    [Id(13)] public Dictionary<string, CustomerDistribution> Distribution { get; set; } = new(StringComparer.Ordinal);
    [Id(14)] public Journal Journal { get; set; } = new();

    /// <summary>The versions planned for the CRM and the ERP, one entry per system (its <see cref="OutboxEntry.Group"/>).</summary>
    [Id(15)] public CommandOutbox Outbox { get; set; } = new();
}
