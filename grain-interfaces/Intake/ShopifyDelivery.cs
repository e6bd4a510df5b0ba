namespace RetailSync.Intake;

/// <summary>Everything about one webhook delivery that is not its payload: who sent it, which event, when.</summary>
[GenerateSerializer, Immutable, Alias("RetailSync.Intake.ShopifyDelivery")]
public sealed record ShopifyDelivery(
    [property: Id(0)] string Shop,
    [property: Id(1)] string Tenant,
    [property: Id(2)] string Topic,
    [property: Id(3)] string? EventId,
    [property: Id(4)] string? WebhookId,
    [property: Id(5)] DateTimeOffset? TriggeredAt,
    [property: Id(6)] string? ApiVersion,
    [property: Id(7)] bool Test,
    [property: Id(8)] DateTimeOffset ReceivedAt)
{
    /// <summary>
    /// The id that is the same on every re-delivery of one event: Shopify's event id, or the webhook
    /// id when an older API version sends none.
    /// </summary>
    public string DedupeKey => EventId ?? WebhookId ?? throw new InvalidOperationException("a delivery needs an event or webhook id");

    public string Describe() => $"{Topic} event {EventId ?? "-"} webhook {WebhookId ?? "-"}{(Test ? " (test)" : "")}";
}

/// <summary>What the target grain did with a delivery. Anything but an exception means it is durable.</summary>
public enum IntakeOutcome
{
    /// <summary>Recorded and applied.</summary>
    Applied,

    /// <summary>Recorded, but older than what the entity already holds, so nothing changed.</summary>
    Stale,

    /// <summary>Seen before (same event id): nothing recorded again.</summary>
    Duplicate,

    /// <summary>Recorded, but the entity ignores it (e.g. the shop was uninstalled or redacted).</summary>
    Ignored,
}

[GenerateSerializer, Immutable, Alias("RetailSync.Intake.TimelineEntry")]
public sealed record TimelineEntry(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] string Kind,
    [property: Id(2)] string Detail,
    [property: Id(3)] string? CorrelationId);
