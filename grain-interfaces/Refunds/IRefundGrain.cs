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
}

[GenerateSerializer, Immutable, Alias("RetailSync.Refunds.RefundView")]
public sealed record RefundView(
    [property: Id(0)] string Shop,
    [property: Id(1)] string Id,
    [property: Id(2)] Refund? Refund,
    [property: Id(3)] Return? Return,
    [property: Id(4)] ImmutableArray<TimelineEntry> Timeline);
