using System.Collections.Immutable;
using RetailSync.Intake;
using RetailSync.Model;

namespace RetailSync.Refunds;

/// <summary>A refund (<c>{shop}/{refundId}</c>) or a return (<c>{shop}/return-{returnId}</c>) and its saga.</summary>
[Alias("RetailSync.Refunds.IRefundGrain")]
public interface IRefundGrain : IGrainWithStringKey
{
    [Alias("ReceiveRefund")]
    Task<IntakeOutcome> ReceiveRefundAsync(ShopifyDelivery delivery, Refund refund);

    [Alias("ReceiveReturn")]
    Task<IntakeOutcome> ReceiveReturnAsync(ShopifyDelivery delivery, Return @return);

    [Alias("Get")]
    Task<RefundView?> GetAsync();

    /// <summary>Erases the free text a buyer or staff may have written (refund and return notes) where it is held.</summary>
    [Alias("Redact")]
    Task RedactAsync(string reason);
}

[GenerateSerializer, Immutable, Alias("RetailSync.Refunds.RefundView")]
public sealed record RefundView(
    [property: Id(0)] string Shop,
    [property: Id(1)] string Id,
    [property: Id(2)] Refund? Refund,
    [property: Id(3)] Return? Return,
    [property: Id(4)] ImmutableArray<TimelineEntry> Timeline,
    [property: Id(5)] string Status = RefundStatus.Received,
    [property: Id(6)] ImmutableArray<RefundStepView> Steps = default,
    [property: Id(7)] DateTimeOffset? ReceivedAt = null,
    [property: Id(8)] DateTimeOffset? CompletedAt = null);

/// <summary>Where a refund's saga stands.</summary>
public static class RefundStatus
{
    public const string Received = "Received";

    /// <summary>The refund arrived before its order: parked until the order exists, not dropped.</summary>
    public const string WaitingForOrder = "WaitingForOrder";

    public const string InProgress = "InProgress";

    /// <summary>Every system confirmed: ERP credit memo, CRM case, the order's refund.</summary>
    public const string Completed = "Completed";

    /// <summary>A step failed for good; the steps already done were compensated and operations has the exception.</summary>
    public const string Compensated = "Compensated";
}

[GenerateSerializer, Immutable, Alias("RetailSync.Refunds.RefundStepView")]
public sealed record RefundStepView(
    [property: Id(0)] string Key,
    [property: Id(1)] string System,
    [property: Id(2)] string Operation,
    [property: Id(3)] string Status,
    [property: Id(4)] int Attempts,
    [property: Id(5)] DateTimeOffset PlannedAt,
    [property: Id(6)] DateTimeOffset? EndedAt,
    [property: Id(7)] string? Result);
