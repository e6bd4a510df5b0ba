using System.Collections.Immutable;
using RetailSync.Intake;
using RetailSync.Model;
using RetailSync.Platform;

namespace RetailSync.Orders;

public sealed class OrderGrain(
    [PersistentState("order", StorageNames.State)] IPersistentState<OrderState> state,
    TimeProvider clock) : Grain, IOrderGrain
{
    private OrderState S => state.State;

    public Task<IntakeOutcome> ReceiveOrderAsync(ShopifyDelivery delivery, Order order)
    {
        var created = S.Order is null;
        return this.ReceiveAsync(state, S.Journal, delivery, () =>
        {
            var outcome = OrderIntakeRules.Decide(S.Order, order);
            if (outcome == IntakeOutcome.Applied)
            {
                S.Order = S.Redacted ? OrderIntakeRules.Redact(order) : order;
                S.Shop ??= delivery.Shop;
                S.Tenant ??= delivery.Tenant;
                var shopify = S.Systems[SystemNames.Shopify];
                shopify.ExternalId = order.OrderId;
                shopify.LastSyncedAt = delivery.ReceivedAt;
            }

            return outcome;
        }, outcome => outcome == IntakeOutcome.Stale
            ? $"updated_at {order.UpdatedAt:O} is older than applied {S.Order!.UpdatedAt:O}"
            : $"{(created ? "created" : "updated")} at updated_at {order.UpdatedAt:O}, financial {order.FinancialStatus ?? "-"}, fulfilment {order.FulfillmentStatus ?? "-"}{(order.CancelledAt is null ? "" : ", cancelled")}");
    }

    public Task<IntakeOutcome> ReceiveFulfillmentAsync(ShopifyDelivery delivery, Fulfillment fulfillment) =>
        this.ReceiveAsync(state, S.Journal, delivery, () =>
        {
            var existing = S.Fulfillments.FindIndex(f => f.FulfillmentId == fulfillment.FulfillmentId);
            if (existing >= 0 && fulfillment.UpdatedAt < S.Fulfillments[existing].UpdatedAt)
            {
                return IntakeOutcome.Stale;
            }

            if (existing >= 0)
            {
                S.Fulfillments[existing] = fulfillment;
            }
            else
            {
                S.Fulfillments.Add(fulfillment);
            }

            S.Shop ??= delivery.Shop;
            S.Tenant ??= delivery.Tenant;
            return IntakeOutcome.Applied;
        }, _ => $"fulfillment {fulfillment.FulfillmentId} {fulfillment.Status ?? "-"}, {fulfillment.Lines.Length} lines");

    public async Task RedactAsync(string reason)
    {
        if (S.Order is { } order)
        {
            S.Journal.Scrub(OrderIntakeRules.PersonalValues(order));
            S.Order = OrderIntakeRules.Redact(order);
        }

        S.Redacted = true;
        S.Journal.Record(clock.GetUtcNow(), "privacy:redacted", reason, null);
        await this.WriteOrForgetAsync(state);
    }

    public Task<OrderView?> GetAsync()
    {
        if (S.Order is null && S.Fulfillments.Count == 0)
        {
            return Task.FromResult<OrderView?>(null);
        }

        var (shop, orderId) = EntityKeys.Split(this.GetPrimaryKeyString());
        var systems = ImmutableDictionary.CreateRange(S.Systems.Select(kv =>
            KeyValuePair.Create(kv.Key, new SystemSyncView(kv.Value.Status, kv.Value.ExternalId, kv.Value.LastSyncedAt, kv.Value.Error))));
        return Task.FromResult<OrderView?>(new OrderView(
            shop, orderId, S.Status, systems, S.Order!, [.. S.Fulfillments], [.. S.Journal.Timeline], S.Redacted));
    }
}

[GenerateSerializer, Alias("RetailSync.Orders.OrderState")]
public sealed class OrderState
{
    [Id(0)] public Order? Order { get; set; }
    [Id(1)] public string Status { get; set; } = "Received";
    [Id(2)] public Dictionary<string, SystemSync> Systems { get; set; } = new()
    {
        [SystemNames.Shopify] = new SystemSync { Status = "Synced" },
        [SystemNames.Crm] = new SystemSync(),
        [SystemNames.Erp] = new SystemSync(),
    };
    [Id(3)] public List<Fulfillment> Fulfillments { get; set; } = [];
    [Id(4)] public Journal Journal { get; set; } = new();
    [Id(5)] public bool Redacted { get; set; }
    [Id(6)] public string? Shop { get; set; }
    [Id(7)] public string? Tenant { get; set; }
}

[GenerateSerializer, Alias("RetailSync.Orders.SystemSync")]
public sealed class SystemSync
{
    [Id(0)] public string Status { get; set; } = "Pending";
    [Id(1)] public string? ExternalId { get; set; }
    [Id(2)] public DateTimeOffset? LastSyncedAt { get; set; }
    [Id(3)] public string? Error { get; set; }
}
