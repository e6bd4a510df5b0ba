using System.Collections.Immutable;
using Microsoft.Extensions.Options;
using Orleans.Streams;
using RetailSync.Customers;
using RetailSync.Erp;
using RetailSync.Intake;
using RetailSync.Inventory;
using RetailSync.Model;
using RetailSync.Operations;
using RetailSync.Outbox;
using RetailSync.Platform;

namespace RetailSync.Orders;

/// <summary>
/// One order. The rules are <see cref="OrderDecider"/>'s; this grain does the I/O around them: it hands each input to
/// the decider, raises what the decision raises, stores the new state (its planned commands and domain events with it)
/// in one write, then sends: commands through the outbox, events on the order stream.
/// </summary>
public sealed partial class OrderGrain : Grain, IOrderGrain, IOrderSteps, ICommandOwner
{
    /// <summary>The name its state is stored under (what shop erasure looks for).</summary>
    public const string StateName = "order";

    private readonly IPersistentState<OrderState> state;
    private readonly IOptions<OutboundOptions> options;
    private readonly IOptions<InventoryOptions> inventory;
    private readonly TimeProvider clock;
    private readonly OutboxSender outbox;
    private IGrainTimer? wakeTimer;

    /// <summary>Steps asked of this activation and not answered yet (asking twice would only cost a call).</summary>
    private bool resolving, reserving;

    /// <summary>
    /// The version stored when the activation last got a result that can be worked out again (the buyer's golden id, a
    /// reservation that changed nothing else, the CRM context): not worth a write of its own, where it would triple the
    /// writes per order. Stored with the next change or when the activation ends; a crash before that only repeats the
    /// lookups, each idempotent (the SKU answers Reserved for an order it holds already).
    /// </summary>
    private (bool Pending, string? Since) unsaved;

    public OrderGrain(
        [PersistentState(StateName, StorageNames.State)] IPersistentState<OrderState> state,
        IOutboxIndex outboxIndex,
        IOptions<OutboundOptions> options,
        IOptions<InventoryOptions> inventory,
        TimeProvider clock)
    {
        (this.state, this.options, this.inventory, this.clock) = (state, options, inventory, clock);
        outbox = new OutboxSender(this, GrainFactory, outboxIndex, () => SendAsync(resend: true));
    }

    private OrderState S => state.State;

    private string Key => this.GetPrimaryKeyString();

    private OrderRules Rules => new(options.Value.CrmContextWait, inventory.Value.Oversell);

    private IOrderSteps Steps => this.AsReference<IOrderSteps>();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // After a crash or a move, planned commands, events or an exception to raise may not have been sent: send them now.
        if (S.Outbox.AnyUnfinished || S.Unpublished is { Count: > 0 } || S.Cancel == CancelState.AfterShipment)
        {
            Steps.DispatchAsync().Ignore();
        }

        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (unsaved.Pending && state.Etag == unsaved.Since)
        {
            try
            {
                await this.WriteOrForgetAsync(state);
            }
            catch (Exception)
            {
                // Worked out again by the next activation (see unsaved).
            }
        }
    }

    public async Task<IntakeOutcome> ReceiveOrderAsync(ShopifyDelivery delivery, Order order)
    {
        this.EnsureRecorded(state);
        if (!S.Journal.HasSeen(delivery))
        {
            // The index first, then the write: a delivery answered 503 must have recorded nothing, and an accepted one
            // must be findable by the sweeper if a crash takes this order and its commands. Listed without pending work
            // costs one needless nudge at most.
            await outbox.ListAsync();
        }

        return await ApplyAsync(OrderDecider.Receive(S, Key, delivery, order, clock.GetUtcNow()));
    }

    public async Task<IntakeOutcome> ReceiveFulfillmentAsync(ShopifyDelivery delivery, Fulfillment fulfillment)
    {
        this.EnsureRecorded(state);
        return await ApplyAsync(OrderDecider.Fulfillment(S, delivery, fulfillment));
    }

    public async Task<IntakeOutcome> ReceiveErpEventAsync(ShopifyDelivery delivery, ErpOrderEvent erpEvent)
    {
        // The ERP only knows orders we sent it; an event for an order this grain never had is misaddressed.
        _ = S.Order ?? throw new InvalidOperationException($"order {erpEvent.OrderId} is unknown here");
        this.EnsureRecorded(state);
        if (!S.Journal.HasSeen(delivery))
        {
            await outbox.ListAsync();
        }

        return await ApplyAsync(OrderDecider.ErpEvent(S, Key, delivery, erpEvent, clock.GetUtcNow()));
    }

    public async Task RefundAppliedAsync(string refundId, ImmutableDictionary<string, int> quantitiesByLineId) =>
        await ApplyAsync(OrderDecider.RefundApplied(S, Key, refundId, quantitiesByLineId, clock.GetUtcNow()));

    public async Task StockReservedAsync(string sku) =>
        await ApplyAsync(OrderDecider.StockReservedLater(S, Key, sku, Rules, clock.GetUtcNow()));

    public async Task CommandEndedAsync(CommandView command)
    {
        var decision = OrderDecider.CommandEnded(S, Key, command, clock.GetUtcNow());
        if (decision.Ended is { Entry.Command.Operation: "context" })
        {
            // The CRM context came: the ERP submission need not wait for its deadline.
            wakeTimer?.Dispose();
            wakeTimer = null;
        }

        await ApplyAsync(decision);
    }

    public Task CommandRetryingAsync(CommandView command)
    {
        OrderDecider.CommandRetrying(S, command);
        return Task.CompletedTask;
    }

    public async Task<CommandView?> RetryCommandAsync(string key)
    {
        var (decision, answer) = OrderDecider.OperatorRetry(S, key, clock.GetUtcNow());
        await ApplyAsync(decision);
        return answer;
    }

    public Task ResumeAsync() => SendAsync(resend: true);

    public Task DispatchAsync() => SendAsync(resend: false);

    public Task RestateAsync()
    {
        if (S.Order is not null)
        {
            (S.Unpublished ??= []).Add(OrderDecider.Restated(S, Key, clock.GetUtcNow()));
        }

        return SendAsync(resend: false);
    }

    public async Task RedactAsync(string reason)
    {
        if (S.GoldenCustomerId is { } golden && !S.Redacted)
        {
            // The buyer's golden record goes too (customers/redact names the person's orders).
            var tenant = S.Tenant ?? S.Shop!;
            var holder = await GrainFactory.GetGrain<IIdentityResolverGrain>(0).FollowAsync(tenant, golden);
            await GrainFactory.GetGrain<ICustomerGrain>(EntityKeys.ForShop(tenant, holder)).RedactAsync(reason);
        }

        var personal = OrderDecider.Redact(S, reason, clock.GetUtcNow());
        await this.WriteOrForgetAsync(state);
        await outbox.RedactExceptionsAsync(OrderDecider.OwnerKey(S), personal);
    }

    public Task<OrderView?> GetAsync()
    {
        var (shop, orderId) = EntityKeys.Split(Key);
        return Task.FromResult(OrderDecider.View(S, shop, orderId));
    }

    /// <summary>A decision's I/O: its exceptions raised or resolved, its change stored (or kept for later), then what is due sent.</summary>
    private async Task<IntakeOutcome> ApplyAsync(OrderDecision decision)
    {
        if (decision.Persist == Persist.Nothing && decision.Outcome != IntakeOutcome.Duplicate)
        {
            return decision.Outcome;
        }

        var now = clock.GetUtcNow();
        foreach (var exception in decision.Raise)
        {
            await outbox.RaiseAsync(exception);
        }

        foreach (var (id, resolution) in decision.Resolve)
        {
            await outbox.ResolveAsync(id, resolution);
        }

        if (decision.Ended is var (entry, outcome))
        {
            await outbox.SettleAsync(entry, outcome, OrderDecider.OwnerKey(S), now);
        }

        if (decision.Persist == Persist.Now)
        {
            await this.WriteOrForgetAsync(state);
        }
        else if (decision.Persist == Persist.Later)
        {
            unsaved = (true, state.Etag);
        }

        // A duplicate of a delivery whose answer was lost also gets here: what it planned goes out if it has not.
        await SendAsync(resend: false);
        return decision.Outcome;
    }

    /// <summary>
    /// Sends what the stored state says is due: the exception for a cancellation after shipment, the SKUs' notice,
    /// the unpublished events, the steps the order waits for, and the commands ready to go. A failure here never fails
    /// the caller: the outbox tries again shortly, and its index covers the case where this activation goes too.
    /// </summary>
    private async Task SendAsync(bool resend)
    {
        try
        {
            var now = clock.GetUtcNow();
            if (S.Cancel == CancelState.AfterShipment)
            {
                await outbox.RaiseAsync(OrderDecider.CancelAfterShipment(S, now));
                S.Cancel = CancelState.AfterShipmentRaised;
                await this.WriteOrForgetAsync(state);
            }

            await TellSkusAsync(now);
            await PublishAsync();
            if (!S.Outbox.AnyUnfinished)
            {
                outbox.Unlist(always: resend);
                return;
            }

            await outbox.ListAsync();
            if (S.Buyer == BuyerState.Pending && !resolving)
            {
                resolving = true;
                Steps.ResolveBuyerAsync().Ignore();
            }

            if (S.Stock == StockHold.Pending && !reserving)
            {
                reserving = true;
                Steps.ReserveStockAsync().Ignore();
            }

            var (ready, wakeAt) = OrderDecider.Sendable(S, Rules, now);
            if (wakeAt is { } at)
            {
                wakeTimer?.Dispose();
                wakeTimer = this.RegisterGrainTimer(() => SendAsync(resend: false), new GrainTimerCreationOptions(at - now, Timeout.InfiniteTimeSpan));
            }

            await outbox.HandAsync(ready, resend);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            outbox.RetrySoon();
        }
    }

    /// <summary>The SKUs learn what became of the order's reservations: allocated by the ERP, or ended.</summary>
    private async Task TellSkusAsync(DateTimeOffset now)
    {
        if (OrderDecider.StockNoticeDue(S) is not var (notice, skus))
        {
            return;
        }

        await Task.WhenAll(skus.Select(sku => notice == StockNotice.Allocated
            ? Sku(sku).AllocatedAsync(Key, S.ErpAcceptedAt ?? now)
            : Sku(sku).ReleaseAsync(Key)));
        S.StockTold = notice;
    }

    /// <summary>
    /// Publishes the events stored with the last changes. Cleared in memory only: the next write stores them cleared,
    /// and a crash before it publishes them again, which projections absorb (each order's events carry its sequence).
    /// </summary>
    private async Task PublishAsync()
    {
        if (S.Unpublished is not { Count: > 0 } pending)
        {
            return;
        }

        // One batch per change, through the silo's publisher (see OrderEventPublisherGrain for why not from here).
        await GrainFactory.GetGrain<IOrderEventPublisher>(0).PublishAsync(new([.. pending]));

        S.Unpublished = null;
    }

}
