using RetailSync.Intake;
using RetailSync.Model;
using RetailSync.Platform;

namespace RetailSync.Refunds;

public sealed class RefundGrain(
    [PersistentState("refund", StorageNames.State)] IPersistentState<RefundState> state) : Grain, IRefundGrain
{
    private RefundState S => state.State;

    public Task<IntakeOutcome> ReceiveRefundAsync(ShopifyDelivery delivery, Refund refund) =>
        this.ReceiveAsync(state, S.Journal, delivery, () =>
        {
            // A refund is immutable in Shopify: the first payload is the refund.
            if (S.Refund is not null)
            {
                return IntakeOutcome.Stale;
            }

            S.Refund = refund;
            return IntakeOutcome.Applied;
        }, _ => $"order {refund.OrderId}, {refund.Lines.Length} lines, transacted {refund.Transacted?.Amount.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}");

    public Task<IntakeOutcome> ReceiveReturnAsync(ShopifyDelivery delivery, Return @return) =>
        this.ReceiveAsync(state, S.Journal, delivery, () =>
        {
            var outcome = ReturnRules.Decide(S.Return, @return);
            if (outcome == IntakeOutcome.Applied)
            {
                S.Return = ReturnRules.Merge(S.Return, @return);
            }

            return outcome;
        }, _ => $"order {@return.OrderId}, status {@return.Status}");

    public Task<RefundView?> GetAsync()
    {
        if (S.Refund is null && S.Return is null)
        {
            return Task.FromResult<RefundView?>(null);
        }

        var (shop, id) = EntityKeys.Split(this.GetPrimaryKeyString());
        return Task.FromResult<RefundView?>(new RefundView(shop, id, S.Refund, S.Return, [.. S.Journal.Timeline]));
    }
}

/// <summary>Returns only move forward: requested → open (approved) → closed, or declined/canceled.</summary>
public static class ReturnRules
{
    private static int Rank(string status) => status switch
    {
        "requested" => 0,
        "open" => 1,
        "closed" or "declined" or "canceled" => 2,
        _ => 0,
    };

    public static IntakeOutcome Decide(Return? current, Return incoming) =>
        current is not null && Rank(incoming.Status) < Rank(current.Status) ? IntakeOutcome.Stale : IntakeOutcome.Applied;

    /// <summary>Later payloads may omit the lines an earlier one listed (Shopify's approve sample does); keep them.</summary>
    public static Return Merge(Return? current, Return incoming) =>
        current is not null && incoming.Lines.IsEmpty ? incoming with { Lines = current.Lines } : incoming;
}

[GenerateSerializer, Alias("RetailSync.Refunds.RefundState")]
public sealed class RefundState
{
    [Id(0)] public Refund? Refund { get; set; }
    [Id(1)] public Return? Return { get; set; }
    [Id(2)] public Journal Journal { get; set; } = new();
}
