using System.Collections.Concurrent;
using RetailSync.Intake;

namespace RetailSync.Intake;

/// <summary>
/// The dedupe memory and timeline every entity grain persists with its state, so that accepting an
/// event and remembering it happen in one write.
/// </summary>
[GenerateSerializer, Alias("RetailSync.Intake.Journal")]
public sealed class Journal
{
    // Re-deliveries of one event come within Shopify's retry window; an entity sees few events in
    // that time, so the newest ids suffice. Older ones are caught by the updated_at rule.
    private const int RememberedEvents = 256;
    private const int TimelineLimit = 500;

    [Id(0)] public List<string> RecentEvents { get; set; } = [];
    [Id(1)] public List<TimelineEntry> Timeline { get; set; } = [];
    [Id(2)] public long TimelineDropped { get; set; }

    public bool HasSeen(ShopifyDelivery delivery) => RecentEvents.Contains(delivery.DedupeKey);

    public void Remember(ShopifyDelivery delivery)
    {
        RecentEvents.Add(delivery.DedupeKey);
        if (RecentEvents.Count > RememberedEvents)
        {
            RecentEvents.RemoveRange(0, RecentEvents.Count - RememberedEvents);
        }
    }

    public void Record(DateTimeOffset at, string kind, string detail, string? correlationId)
    {
        Timeline.Add(new TimelineEntry(at, kind, detail, correlationId));
        if (Timeline.Count > TimelineLimit)
        {
            // Keep the first entries (how the entity began) and the newest; count what went.
            Timeline.RemoveAt(10);
            TimelineDropped++;
        }
    }

    /// <summary>Records a delivery: its outcome, both Shopify ids, and when it was triggered.</summary>
    public void RecordDelivery(ShopifyDelivery delivery, IntakeOutcome outcome, string detail)
    {
        Remember(delivery);
        var triggered = delivery.TriggeredAt is { } t ? $" triggered {t:O}" : "";
        Record(delivery.ReceivedAt, KindOf(delivery.Topic), $"{outcome.ToString().ToLowerInvariant()}: {delivery.Describe()}{triggered}; {detail}", delivery.DedupeKey);
    }

    // Every timeline entry names its kind; sharing one string per topic saves a string per entry in
    // every active grain (the topics are few: Shopify's routed topics and each ERP connector's types).
    private static readonly ConcurrentDictionary<string, string> Kinds = new(StringComparer.Ordinal);

    /// <summary>ERP callbacks are recorded with their own source prefix (erp:{connector}/{type}), Shopify's as shopify:{topic}.</summary>
    private static string KindOf(string topic)
    {
        if (Kinds.TryGetValue(topic, out var kind))
        {
            return kind;
        }

        kind = topic.StartsWith("erp:", StringComparison.Ordinal) ? topic : $"shopify:{topic}";
        return Kinds.Count < 1024 ? Kinds.GetOrAdd(topic, kind) : kind;
    }

    /// <summary>Drops timeline entries that mention any of the given personal values.</summary>
    public void Scrub(IEnumerable<string?> personalValues)
    {
        var values = personalValues.OfType<string>().Where(v => v.Length > 2).ToList();
        if (values.Count > 0)
        {
            Timeline.RemoveAll(e => values.Any(v => e.Detail.Contains(v, StringComparison.OrdinalIgnoreCase)));
        }
    }
}
