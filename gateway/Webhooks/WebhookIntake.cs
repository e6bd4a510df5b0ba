using RetailSync.Intake;

namespace RetailSync.Gateway.Webhooks;

/// <summary>What the webhook endpoint answers once a delivery is durable.</summary>
public sealed record WebhookAnswer(string Status, string? Effect = null);

/// <summary>
/// Where a verified, mapped Shopify delivery becomes durable before the webhook is answered: the target
/// grain itself (embedded default) or the PostgreSQL webhook inbox (cluster mode, see <see cref="PostgresWebhookInbox"/>).
/// </summary>
public interface IWebhookIntake
{
    /// <summary>Returns once the delivery is durable; throws when it cannot be (the caller answers 503).</summary>
    Task<WebhookAnswer> RecordAsync(ShopifyDelivery delivery, byte[] body, ShopifyTopics.Apply apply, CancellationToken cancellationToken);
}

/// <summary>Records in the target grain: the answer waits for the grain's own write and says what it did.</summary>
public sealed class GrainWebhookIntake(IGrainFactory grains) : IWebhookIntake
{
    public async Task<WebhookAnswer> RecordAsync(ShopifyDelivery delivery, byte[] body, ShopifyTopics.Apply apply, CancellationToken cancellationToken)
    {
        var outcome = await apply(grains).WaitAsync(cancellationToken);
        return outcome == IntakeOutcome.Duplicate
            ? new WebhookAnswer("duplicate")
            : new WebhookAnswer("accepted", outcome.ToString().ToLowerInvariant());
    }
}

/// <summary>Deliveries answered but not yet in their grains, for <c>GET /api/v1/kpis</c>.</summary>
public interface IWebhookBacklog
{
    Task<InboxFigures> FiguresAsync(CancellationToken cancellationToken = default);
}
