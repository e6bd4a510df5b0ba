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
        // ERP callbacks are recorded with their own source prefix (erp:{connector}/{type}).
        Record(delivery.ReceivedAt, delivery.Topic.StartsWith("erp:", StringComparison.Ordinal) ? delivery.Topic : $"shopify:{delivery.Topic}", $"{outcome.ToString().ToLowerInvariant()}: {delivery.Describe()}{triggered}; {detail}", delivery.DedupeKey);
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
