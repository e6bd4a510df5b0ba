using System.Collections.Immutable;
using System.Text.Json;
using Microsoft.Extensions.Options;
using RetailSync.Connectors;
using RetailSync.Customers;
using RetailSync.Erp;
using RetailSync.Intake;
using RetailSync.Inventory;
using RetailSync.Model;
using RetailSync.Operations;
using RetailSync.Platform;

namespace RetailSync.Orders;

/// <summary>
/// One order: intake of Shopify's payloads, the lifecycle (<see cref="OrderStateMachine"/>), and an
/// outbox of the commands each change implies, persisted with the change in one write and sent
/// afterwards, one at a time per system so that they reach each system in order.
/// </summary>
public sealed class OrderGrain(
    [PersistentState("order", StorageNames.State)] IPersistentState<OrderState> state,
    IOutboxIndex outboxIndex,
    IOptions<OutboundOptions> options,
    IOptions<RetailSync.Inventory.InventoryOptions> inventory,
    TimeProvider clock) : Grain, IOrderGrain, ICommandOwner
{
    private static readonly TimeSpan DispatchRetry = TimeSpan.FromSeconds(2);

    /// <summary>Commands handed to their dispatcher by this activation (a new activation hands them again).</summary>
    private readonly HashSet<string> handed = new(StringComparer.Ordinal);
    private bool indexed;
    private IGrainTimer? retryTimer;
    private IGrainTimer? contextTimer;
    private bool resolving;
    private bool reserving;

    /// <summary>
    /// The activation holds results that can be worked out again (the buyer's golden id, a reservation that changed
    /// nothing else, the CRM context): not worth a write of their own at intake, where they would triple the writes
    /// per order. They are stored with the next change or when the activation ends; a crash before that only
    /// repeats the lookups, each idempotent (the SKU answers Reserved for an order it holds already).
    /// </summary>
    private bool unsaved;

    /// <summary>The stored version when the last such result came: any write since then stored it too.</summary>
    private string? unsavedSince;

    private OrderState S => state.State;

    private void KeepUnsaved() => (unsaved, unsavedSince) = (true, state.Etag);

    private bool Unfinished => S.Outbox.Any(e => e.EndedAt is null);

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (unsaved && state.Etag == unsavedSince)
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

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // After a crash or a move, planned commands (or an exception to raise) may not have been sent: send them now.
        if (Unfinished || (S.CancelAfterShipment && !S.CancelExceptionRaised))
        {
            this.AsReference<IOrderGrain>().DispatchAsync().Ignore();
        }

        return Task.CompletedTask;
    }

    public async Task<IntakeOutcome> ReceiveOrderAsync(ShopifyDelivery delivery, Order order)
    {
        var created = S.Order is null;
        if (!S.Journal.HasSeen(delivery))
        {
            // The index first, then the write: a delivery answered 503 must have recorded nothing,
            // and an accepted one must be findable by the sweeper if a crash takes this order and its
            // queued commands. Listed without pending work costs one needless nudge at most.
            await IndexAsync();
        }

        var outcome = await this.ReceiveAsync(state, S.Journal, delivery, () =>
        {
            var outcome = OrderIntakeRules.Decide(S.Order, order);
            if (outcome == IntakeOutcome.Applied)
            {
                S.Order = S.Redacted ? OrderIntakeRules.Redact(order) : order;
                S.Shop ??= delivery.Shop;
                S.Tenant ??= delivery.Tenant;
                S.ReceivedAt ??= delivery.ReceivedAt;
                var shopify = S.Systems[SystemNames.Shopify];
                shopify.ExternalId = order.OrderId;
                shopify.LastSyncedAt = delivery.ReceivedAt;
            }

            return outcome;
        }, outcome => outcome == IntakeOutcome.Stale
            ? $"updated_at {order.UpdatedAt:O} is older than applied {S.Order!.UpdatedAt:O}"
            : $"{(created ? "created" : "updated")} at updated_at {order.UpdatedAt:O}, financial {order.FinancialStatus ?? "-"}, fulfilment {order.FulfillmentStatus ?? "-"}{(order.CancelledAt is null ? "" : ", cancelled")}",
            then: () => Plan(S.Order!, delivery.DedupeKey));
        if (Unfinished || (S.CancelAfterShipment && !S.CancelExceptionRaised))
        {
            // A duplicate of a delivery whose answer was lost also gets here: list it again if needed.
            // Handing the commands to their dispatchers is an in-memory enqueue, cheaper in this turn
            // than a message to ourselves; a failure there is retried by timer and never fails the delivery.
            await IndexAsync();
            await DispatchAsync(resend: false);
        }
        else if (indexed)
        {
            indexed = false;
            outboxIndex.RemoveAsync(this.GetGrainId().ToString()).Ignore();
        }

        return outcome;
    }

    /// <summary>What a newly applied Shopify payload asks of the other systems.</summary>
    private void Plan(Order order, string correlationId)
    {
        if (S.Status == OrderStatus.Received && !S.Outbox.Any(e => e.Command.Operation == "submitOrder"))
        {
            // Known customer: ask the CRM for their context first; the ERP submission waits for it, briefly.
            if ((order.Customer?.Email ?? order.Email) is { Length: > 0 } email && S.CrmContext is null)
            {
                Enqueue("crm", "context", email, correlationId);
            }

            // The oversell guard: the SKUs are reserved after this write; the ERP submission waits for them.
            if (order.Lines.Any(l => !string.IsNullOrEmpty(l.Sku) && l.Quantity > 0) && S.StockStatus is null)
            {
                S.StockStatus = StockStates.Pending;
            }

            // The buyer's golden customer is resolved after this write, off the webhook's path; the ERP
            // customer is that golden id when it comes in time.
            if (S.GoldenCustomerId is null && CustomerRecords.FromOrder(S.Shop!, order) is not null)
            {
                S.IdentityPending = true;
            }
            else if (S.GoldenCustomerId is null)
            {
                S.Journal.Record(clock.GetUtcNow(), "identity", "no customer and no email on the order: left unattached to any customer", correlationId);
            }

            Fire(OrderTrigger.SubmitToErp, $"submitting to the ERP as {order.OrderId}");
            Enqueue("erp", "submitOrder", OrderPropagation.ErpSubmission(S.Shop!, order, S.GoldenCustomerId), correlationId);
        }

        if (order.CancelledAt is not null && !S.CancelRequested)
        {
            S.CancelRequested = true;
            if (OrderStatus.Shipped(S.Status))
            {
                S.Journal.Record(clock.GetUtcNow(), "decision", $"cancelled in Shopify after shipment ({S.Status}): raised for operations", correlationId);
                S.CancelAfterShipment = true;
            }
            else if (S.StockStatus is StockStates.Pending or StockStates.Short
                     && S.Outbox.FirstOrDefault(e => e.Command.Operation == "submitOrder" && e.EndedAt is null) is { Sent: false } waiting)
            {
                // Never sent: the ERP has nothing to cancel, and the stock it waited for goes to the next order.
                S.Outbox.Remove(waiting);
                Fire(OrderTrigger.Cancel, "cancelled in Shopify while waiting for stock: never sent to the ERP");
                Propagate(correlationId);
            }
            else
            {
                S.Journal.Record(clock.GetUtcNow(), "decision", "cancelled in Shopify: cancelling in the ERP", correlationId);
                Enqueue("erp", "cancelOrder", order.OrderId, correlationId);
            }
        }
    }

    private void Enqueue<T>(string system, string operation, T payload, string? correlationId, string? suffix = null)
    {
        var key = $"{system}:{operation}:{S.Shop}:{S.Order!.OrderId}{(suffix is null ? "" : ":" + suffix)}";
        if (S.Outbox.Any(e => e.Key == key))
        {
            return;
        }

        var command = OutboundExecutor.Command(system, operation, payload, correlationId) with { ReplyTo = this.GetGrainId().ToString() };
        S.Outbox.Add(new OutboxEntry { Key = key, Command = command, PlannedAt = clock.GetUtcNow() });
        S.Systems[SystemNames.For(system)].Status = "Pending";
    }

    private bool Fire(OrderTrigger trigger, string why)
    {
        if (!OrderStateMachine.TryFire(S.Status, trigger, out var next))
        {
            S.Journal.Record(clock.GetUtcNow(), "decision", $"{trigger} ignored in status {S.Status}", null);
            return false;
        }

        S.Journal.Record(clock.GetUtcNow(), "status", $"{S.Status} → {next}: {why}", null);
        S.Status = next;
        S.StatusChanges++;
        GrainFactory.GetGrain<IKpiGrain>("kpis").OrderStatusChangedAsync(next, clock.GetUtcNow() - (S.ReceivedAt ?? clock.GetUtcNow())).Ignore();
        return true;
    }

    private async Task IndexAsync()
    {
        if (!indexed)
        {
            await outboxIndex.AddAsync(this.GetGrainId().ToString());
            indexed = true;
        }
    }

    public Task DispatchAsync() => DispatchAsync(resend: false);

    private async Task DispatchAsync(bool resend)
    {
        try
        {
            await DispatchOnceAsync(resend);
        }
        catch (Exception)
        {
            // A dispatcher on a silo that just died, a timeout: try again shortly while active; the
            // outbox index (and its sweeper) covers the case where this activation goes too.
            retryTimer?.Dispose();
            retryTimer = this.RegisterGrainTimer(async () =>
            {
                retryTimer?.Dispose();
                retryTimer = null;
                await DispatchAsync(resend: true);
            }, new GrainTimerCreationOptions(DispatchRetry, Timeout.InfiniteTimeSpan));
        }
    }

    private async Task DispatchOnceAsync(bool resend)
    {
        if (S.CancelAfterShipment && !S.CancelExceptionRaised)
        {
            S.CancelExceptionRaised = true;
            await RaiseAsync(new OpsException(
                $"order:cancelAfterShipment:{S.Shop}:{S.Order!.OrderId}", "erp", "cancelOrder", S.Order.OrderId, "SHIPPED",
                $"Order {S.Order.Name ?? S.Order.OrderId} was cancelled in Shopify after it shipped ({S.Status}); arrange a return or refund.",
                0, null, $"order:{S.Shop}:{S.Order.OrderId}", clock.GetUtcNow(), "Open", null, null, this.GetGrainId().ToString()));
            await this.WriteOrForgetAsync(state);
        }

        await TellSkusAsync();
        if (!Unfinished)
        {
            indexed = false;
            outboxIndex.RemoveAsync(this.GetGrainId().ToString()).Ignore();
            return;
        }

        await IndexAsync();
        if (S.IdentityPending && !resolving)
        {
            resolving = true;
            this.AsReference<IOrderGrain>().ResolveBuyerAsync().Ignore();
        }

        if (S.StockStatus == StockStates.Pending && !reserving)
        {
            reserving = true;
            this.AsReference<IOrderGrain>().ReserveStockAsync().Ignore();
        }


        // One command in flight per system keeps each system's changes in order.
        var heads = S.Outbox.Where(e => e.EndedAt is null).GroupBy(e => e.Command.System).Select(g => g.First())
            .Where(e => resend || !handed.Contains(e.Key)).Where(e => !WaitsBeforeErp(e)).ToList();
        foreach (var head in heads)
        {
            await GrainFactory.GetGrain<IOutboundDispatcherGrain>(head.Command.System)
                .EnqueueAsync([new DispatchItem(head.Key, head.Command, head.PlannedAt)]);
            handed.Add(head.Key);
            head.Sent = true;
        }
    }

    /// <summary>
    /// The ERP submission waits for the stock reservation (without a deadline), and for the CRM context and the
    /// buyer's golden customer while they are unfinished, at most <see cref="OutboundOptions.CrmContextWait"/>
    /// from its planning: a slow CRM or identity resolution must not hold orders back.
    /// </summary>
    private bool WaitsBeforeErp(OutboxEntry entry)
    {
        if (entry.Command.Operation == "submitOrder" && S.StockStatus is StockStates.Pending or StockStates.Short)
        {
            // The oversell guard has no deadline: an order never reaches the ERP past zero without a decision.
            return true;
        }

        if (entry.Command.Operation != "submitOrder"
            || (S.Outbox.FirstOrDefault(e => e.Command.Operation == "context") is not { EndedAt: null } && !S.IdentityPending))
        {
            return false;
        }

        var deadline = entry.PlannedAt + options.Value.CrmContextWait;
        var now = clock.GetUtcNow();
        if (now < deadline)
        {
            contextTimer?.Dispose();
            contextTimer = this.RegisterGrainTimer(() => DispatchAsync(resend: false),
                new GrainTimerCreationOptions(deadline - now, Timeout.InfiniteTimeSpan));
            return true;
        }

        if (!S.ContextWaitExpired)
        {
            S.ContextWaitExpired = true;
            S.Journal.Record(now, "decision", $"no {(S.IdentityPending ? "golden customer" : "CRM context")} within {options.Value.CrmContextWait.TotalSeconds:0.#} s: submitting to the ERP without it", entry.Key);
        }

        return false;
    }

    public Task ResumeAsync() => DispatchAsync(resend: true);

    /// <summary>
    /// The oversell guard: each SKU of the order is reserved against its available-to-sell. All reserved (or not
    /// tracked): the ERP submission goes. Any short: by configuration the order is Backordered and waits in the
    /// SKU's queue (first come first served), or an operator decides from the exception queue.
    /// </summary>
    public async Task ReserveStockAsync()
    {
        if (S.StockStatus != StockStates.Pending || S.Order is not { } order)
        {
            reserving = false;
            return;
        }

        var orderKey = this.GetPrimaryKeyString();
        try
        {
            foreach (var (sku, quantity) in order.Lines.Where(l => !string.IsNullOrEmpty(l.Sku) && l.Quantity > 0)
                         .GroupBy(l => l.Sku!, StringComparer.Ordinal).Select(g => (g.Key, g.Sum(l => l.Quantity))))
            {
                S.StockBySku[sku] = await Sku(sku).ReserveAsync(orderKey, quantity);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            reserving = false;
            S.Journal.Record(clock.GetUtcNow(), "stock", $"not reserved yet ({ex.GetType().Name}); tried again", null);
            retryTimer?.Dispose();
            retryTimer = this.RegisterGrainTimer(() => DispatchAsync(resend: false), new GrainTimerCreationOptions(DispatchRetry, Timeout.InfiniteTimeSpan));
            return;
        }

        reserving = false;
        var (status, planned) = (S.Status, S.Outbox.Count);
        await DecideStockAsync();
        if (S.StockStatus == StockStates.Reserved && S.Status == status && S.Outbox.Count == planned)
        {
            KeepUnsaved();
        }
        else
        {
            await this.WriteOrForgetAsync(state);
        }

        await DispatchAsync(resend: false);
    }

    public async Task StockReservedAsync(string sku)
    {
        if (S.StockStatus != StockStates.Short || !S.StockBySku.ContainsKey(sku))
        {
            return;
        }

        S.StockBySku[sku] = ReservationResult.Reserved;
        await DecideStockAsync();
        await this.WriteOrForgetAsync(state);
        await DispatchAsync(resend: false);
    }

    private Inventory.ISkuGrain Sku(string sku) => GrainFactory.GetGrain<Inventory.ISkuGrain>(EntityKeys.ForShop(S.Tenant ?? S.Shop!, sku));

    private async Task DecideStockAsync()
    {
        var now = clock.GetUtcNow();
        var shortOf = S.StockBySku.Where(s => s.Value == ReservationResult.Short).Select(s => s.Key).ToList();
        if (shortOf.Count == 0)
        {
            var reserved = S.StockBySku.Where(s => s.Value == ReservationResult.Reserved).Select(s => s.Key).ToList();
            S.Journal.Record(now, "stock", reserved.Count == 0 ? "no SKU of the order has an ERP figure yet: nothing to reserve" : $"reserved {string.Join(", ", reserved)}", null);
            var waited = S.StockStatus == StockStates.Short;
            S.StockStatus = StockStates.Reserved;
            if (waited && S.Status == OrderStatus.Backordered)
            {
                Fire(OrderTrigger.StockReserved, $"stock reserved for {string.Join(", ", reserved)}: submitting to the ERP");
            }

            return;
        }

        if (S.StockStatus == StockStates.Short)
        {
            return;
        }

        S.StockStatus = StockStates.Short;
        var why = $"not enough available to sell of {string.Join(", ", shortOf)}";
        if (inventory.Value.Oversell == OversellActions.Exception)
        {
            S.Journal.Record(now, "stock", $"{why}: held for operations (retry submits it anyway)", null);
            await RaiseAsync(new OpsException(OversellKey, "inventory", "oversell", string.Join(",", shortOf), "OVERSELL",
                $"Order {S.Order!.Name ?? S.Order.OrderId}: {why}. Retry to submit it to the ERP anyway.", 0, null,
                $"order:{S.Shop}:{S.Order.OrderId}", now, "Open", null, null, this.GetGrainId().ToString()));
            return;
        }

        FireAndPropagate(OrderTrigger.StockShort, $"{why}: waits for stock", OversellKey);
    }

    private string OversellKey => $"order:oversell:{S.Shop}:{S.Order!.OrderId}";

    /// <summary>The SKUs learn what became of the order's reservations: allocated by the ERP, or ended.</summary>
    private async Task TellSkusAsync()
    {
        var holds = S.StockBySku.Where(s => s.Value is ReservationResult.Reserved or ReservationResult.Short).Select(s => s.Key).ToList();
        if (holds.Count == 0)
        {
            return;
        }

        var orderKey = this.GetPrimaryKeyString();
        if (!S.StockAllocatedTold && S.StockStatus == StockStates.Reserved && S.Status is OrderStatus.Accepted or OrderStatus.PartiallyFulfilled or OrderStatus.Fulfilled)
        {
            await Task.WhenAll(holds.Select(sku => Sku(sku).AllocatedAsync(orderKey, S.ErpAcceptedAt ?? clock.GetUtcNow())));
            S.StockAllocatedTold = true;
        }
        else if (!S.StockReleasedTold && S.Status is OrderStatus.Rejected or OrderStatus.Cancelled)
        {
            await Task.WhenAll(holds.Select(sku => Sku(sku).ReleaseAsync(orderKey)));
            S.StockReleasedTold = true;
        }
    }

    /// <summary>
    /// Resolves the buyer to a golden customer (guest orders by their email). An ERP submission not yet sent
    /// takes the golden id as its customer number; one already sent keeps the shop's fallback customer.
    /// </summary>
    public async Task ResolveBuyerAsync()
    {
        if (!S.IdentityPending || S.Order is not { } order || CustomerRecords.FromOrder(S.Shop!, order) is not { } buyer)
        {
            resolving = false;
            return;
        }

        Resolution resolution;
        try
        {
            resolution = await GrainFactory.GetGrain<IIdentityResolverGrain>(0).ResolveAsync(S.Tenant ?? S.Shop!, buyer);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Tried again by the dispatch retry (and the sweeper after a crash); the ERP submission does not wait past its bound.
            resolving = false;
            S.Journal.Record(clock.GetUtcNow(), "identity", $"buyer not resolved yet ({ex.GetType().Name}: {ex.Message})", null);
            await DispatchAsync(resend: false);
            return;
        }

        resolving = false;
        S.IdentityPending = false;
        S.GoldenCustomerId = resolution.GoldenId;
        var now = clock.GetUtcNow();
        S.Journal.Record(now, "identity", resolution.GoldenId is null ? resolution.Detail : $"buyer is golden customer {resolution.GoldenId} ({resolution.Detail})", null);
        if (resolution.GoldenId is { } golden && S.Outbox.FirstOrDefault(e => e.Command.Operation == "submitOrder" && e.EndedAt is null && !e.Sent) is { } submit)
        {
            submit.Command = OutboundExecutor.Command("erp", "submitOrder", OrderPropagation.ErpSubmission(S.Shop!, order, golden), submit.Command.CorrelationId)
                with { ReplyTo = submit.Command.ReplyTo };
        }

        KeepUnsaved();
        await DispatchAsync(resend: false);
    }

    public async Task CommandEndedAsync(CommandView command)
    {
        var entry = S.Outbox.FirstOrDefault(e => e.Key == command.Key);
        if (entry is null || entry.EndedAt is not null)
        {
            return;
        }

        var now = clock.GetUtcNow();
        var succeeded = command.Status == CommandStatus.Succeeded;
        entry.EndedAt = now;
        entry.Succeeded = succeeded;
        handed.Remove(entry.Key);
        S.Journal.Record(now, $"{entry.Command.System}:{entry.Command.Operation}",
            succeeded ? $"done after {command.Attempts} attempt(s): {command.Result}" : $"failed after {command.Attempts} attempt(s): {command.LastError}", command.Key);
        Apply(entry, command, now);
        if (!succeeded)
        {
            entry.ExceptionRaised = true;
            await RaiseAsync(new OpsException(entry.Key, entry.Command.System, entry.Command.Operation, entry.Command.Payload, command.VendorCode,
                command.LastError ?? "failed", command.Attempts, entry.Command.CorrelationId, $"order:{S.Shop}:{S.Order?.OrderId}", now, "Open", null, null,
                this.GetGrainId().ToString()));
        }
        else if (entry.ExceptionRaised)
        {
            entry.ExceptionRaised = false;
            await GrainFactory.GetGrain<IExceptionQueueGrain>("ops").ResolveAsync(entry.Key, $"succeeded on retry after {command.Attempts} attempt(s)");
        }

        if (succeeded && entry.Command.Operation == "context")
        {
            // A read: stored with the next change (see unsaved).
            KeepUnsaved();
            contextTimer?.Dispose();
            contextTimer = null;
        }
        else
        {
            await this.WriteOrForgetAsync(state);
        }

        await DispatchAsync(resend: false);
    }

    public Task CommandRetryingAsync(CommandView command)
    {
        // Shown, not stored: the next outcome is what counts.
        if (S.Outbox.FirstOrDefault(e => e.Key == command.Key) is { EndedAt: null } entry)
        {
            var system = S.Systems[SystemNames.For(entry.Command.System)];
            system.Status = "Retrying";
            system.Error = command.LastError;
        }

        return Task.CompletedTask;
    }

    public async Task<CommandView?> RetryCommandAsync(string key)
    {
        if (key == OversellKeyOrNull && S.StockStatus == StockStates.Short)
        {
            // The operator decided: the order goes to the ERP without the stock reserved.
            S.StockStatus = StockStates.Override;
            S.Journal.Record(clock.GetUtcNow(), "operator", "oversell accepted: submitting to the ERP without reserved stock", key);
            await RaiseResolvedAsync(key);
            await this.WriteOrForgetAsync(state);
            await DispatchAsync(resend: false);
            return new CommandView(key, new OutboundCommand("inventory", "oversell", "", null), CommandStatus.Succeeded, 0, null, "submitted", null);
        }

        if (S.Outbox.FirstOrDefault(e => e.Key == key) is not { } entry)
        {
            return null;
        }

        if (entry.EndedAt is not null && !entry.Succeeded)
        {
            entry.Reopen(clock.GetUtcNow());
            handed.Remove(entry.Key);
            S.Systems[SystemNames.For(entry.Command.System)].Status = "Pending";
            S.Journal.Record(clock.GetUtcNow(), "operator", $"retry of {entry.Key} requested", entry.Key);
            await this.WriteOrForgetAsync(state);
            await DispatchAsync(resend: false);
        }

        return new CommandView(entry.Key, entry.Command, entry.EndedAt is null ? CommandStatus.Pending : entry.Succeeded ? CommandStatus.Succeeded : CommandStatus.Failed,
            0, S.Systems[SystemNames.For(entry.Command.System)].Error, null, null);
    }

    private Task RaiseAsync(OpsException exception) => GrainFactory.GetGrain<IExceptionQueueGrain>("ops").RaiseAsync(exception);

    private Task RaiseResolvedAsync(string id) => GrainFactory.GetGrain<IExceptionQueueGrain>("ops").ResolveAsync(id, "an operator submitted the order anyway");

    private string? OversellKeyOrNull => S.Order is null ? null : OversellKey;

    /// <summary>What a command's outcome means for the order and which commands it implies.</summary>
    private void Apply(OutboxEntry entry, CommandView command, DateTimeOffset now)
    {
        var succeeded = command.Status == CommandStatus.Succeeded;
        var system = S.Systems[SystemNames.For(entry.Command.System)];
        system.Status = succeeded ? "Synced" : "Failed";
        system.Error = succeeded ? null : command.LastError;
        if (succeeded)
        {
            system.LastSyncedAt = now;
        }

        switch (entry.Command.Operation)
        {
            case "submitOrder" when succeeded && command.ExternalStatus == ErpStatuses.OnHold:
                // The ERP holds it for a person (credit limit): visible, waiting, not failed; a retry re-submits.
                S.Systems[SystemNames.Erp].ExternalId = command.ExternalId;
                Fire(OrderTrigger.ErpOnHold, $"ERP: {command.Result}");
                Propagate(entry.Command.CorrelationId);
                break;
            case "submitOrder" when succeeded:
                S.Systems[SystemNames.Erp].ExternalId = command.ExternalId;
                S.ErpNumber = command.ExternalId;
                S.ErpAcceptedAt = DateTimeOffset.TryParse(command.Data, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var erpTime) ? erpTime : now;
                Fire(OrderTrigger.ErpAccepted, $"ERP sales order {command.ExternalId} ({command.ExternalStatus})");
                Propagate(entry.Command.CorrelationId);
                break;
            case "submitOrder":
                Fire(OrderTrigger.ErpRejected, $"ERP refused: {command.LastError}");
                Propagate(entry.Command.CorrelationId);
                break;
            case "cancelOrder" when succeeded:
                Fire(OrderTrigger.Cancel, command.Result ?? "cancelled in the ERP");
                Propagate(entry.Command.CorrelationId);
                break;
            case "syncStatus" when succeeded:
                S.ShopifyStatusTag = OrderPropagation.TagPrefix + entry.Key.Split(':')[^1].ToLowerInvariant();
                break;
            case "upsert" when succeeded:
                S.Systems[SystemNames.Crm].ExternalId = command.ExternalId;
                break;
            case "context" when succeeded:
                var found = command.Data is { } data ? JsonSerializer.Deserialize<CrmContextData>(data, OutboundExecutor.Json) : null;
                S.CrmContext = new CrmContext(found is not null, found?.ContactId, found?.AccountId, found?.OwnerId, found?.Segment, now);
                break;
        }
    }

    /// <summary>Tell Shopify (tag + metafield) and the CRM (order record) the order's new status.</summary>
    private void Propagate(string? correlationId)
    {
        var order = S.Order!;
        // Keyed by the status change, so a status the order returns to (Backordered → Accepted) is told again;
        // the status stays the key's last segment (the Shopify tag is read from it).
        var change = $"{S.StatusChanges}:{S.Status}";
        Enqueue("shopify", "syncStatus", OrderPropagation.ShopifyStatus(S.Shop!, order, S.Status, S.ShopifyStatusTag, S.ErpNumber), correlationId, change);
        Enqueue("crm", "upsert", OrderPropagation.CrmOrder(order, S.Status, S.ErpNumber, S.CrmContext), correlationId, change);
    }

    public async Task<IntakeOutcome> ReceiveFulfillmentAsync(ShopifyDelivery delivery, Fulfillment fulfillment) =>
        await this.ReceiveAsync(state, S.Journal, delivery, () =>
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

    public async Task<IntakeOutcome> ReceiveErpEventAsync(ShopifyDelivery delivery, ErpOrderEvent erpEvent)
    {
        if (S.Order is null)
        {
            // The ERP only knows orders we sent it; an event for an order this grain never had is misaddressed.
            throw new InvalidOperationException($"order {erpEvent.OrderId} is unknown here");
        }

        if (!S.Journal.HasSeen(delivery))
        {
            await IndexAsync();
        }

        var outcome = await this.ReceiveAsync(state, S.Journal, delivery, () => ApplyErpEvent(erpEvent, delivery.DedupeKey),
            outcome => $"{erpEvent.Type}{(erpEvent.Shipment is { } s ? $" shipment {s.ShipmentId} ({s.Lines.Sum(l => l.Quantity)} units, tracking {s.TrackingNumber ?? "-"})" : "")}{(erpEvent.Reason is null ? "" : $": {erpEvent.Reason}")}"
                + (outcome == IntakeOutcome.Stale ? $" — not applicable in status {S.Status}" : ""));
        if (Unfinished)
        {
            await IndexAsync();
            await DispatchAsync(resend: false);
        }

        return outcome;
    }

    /// <summary>The ERP is the authority for allocation and fulfilment: its events move the order and are told to Shopify and the CRM.</summary>
    private IntakeOutcome ApplyErpEvent(ErpOrderEvent e, string correlationId)
    {
        if (e.ErpNumber is { } number && S.ErpNumber is null)
        {
            S.ErpNumber = number;
            S.Systems[SystemNames.Erp].ExternalId = number;
        }

        switch (e.Type)
        {
            case ErpOrderEventTypes.Shipped when e.Shipment is { } shipment:
                if (S.Shipments.Contains(shipment.ShipmentId))
                {
                    return IntakeOutcome.Stale;
                }

                if (S.Status == OrderStatus.SubmittedToErp)
                {
                    // The ERP shipped before its answer to our submission reached us: it accepted it.
                    Fire(OrderTrigger.ErpAccepted, $"ERP shipped sales order {e.ErpNumber}");
                }

                var shipped = new Dictionary<string, int>(S.Shipped, StringComparer.Ordinal);
                foreach (var line in shipment.Lines)
                {
                    shipped[line.Sku] = shipped.GetValueOrDefault(line.Sku) + line.Quantity;
                }

                var complete = S.Order!.Lines.Where(l => l.RequiresShipping && l.Sku is not null).GroupBy(l => l.Sku!)
                    .All(g => shipped.GetValueOrDefault(g.Key) >= g.Sum(l => l.Quantity));
                if (!Fire(complete ? OrderTrigger.ShippedFully : OrderTrigger.ShippedPartially,
                        $"ERP shipment {shipment.ShipmentId}{(shipment.TrackingNumber is null ? "" : $", {shipment.TrackingCompany} {shipment.TrackingNumber}")}"))
                {
                    return IntakeOutcome.Stale;
                }

                S.Shipments.Add(shipment.ShipmentId);
                S.Shipped = shipped;
                Enqueue("shopify", "fulfill", new ShopifyFulfillment(S.Shop!, S.Order.OrderId, shipment.TrackingCompany, shipment.TrackingNumber,
                    shipment.Lines.GroupBy(l => l.Sku).ToDictionary(g => g.Key, g => g.Sum(l => l.Quantity))), correlationId, shipment.ShipmentId);
                Propagate(correlationId);
                return IntakeOutcome.Applied;
            case ErpOrderEventTypes.Backordered:
                return FireAndPropagate(OrderTrigger.ErpBackordered, $"ERP backordered it{Because(e)}", correlationId);
            case ErpOrderEventTypes.Released:
                return FireAndPropagate(OrderTrigger.ErpAccepted, $"ERP released it{Because(e)}", correlationId);
            case ErpOrderEventTypes.OnHold:
                return FireAndPropagate(OrderTrigger.ErpOnHold, $"ERP holds it{Because(e)}", correlationId);
            case ErpOrderEventTypes.Rejected:
                return FireAndPropagate(OrderTrigger.ErpRejected, $"ERP refused it{Because(e)}", correlationId);
            default:
                return IntakeOutcome.Ignored;
        }

        static string Because(ErpOrderEvent e) => e.Reason is null ? "" : $": {e.Reason}";
    }

    private IntakeOutcome FireAndPropagate(OrderTrigger trigger, string why, string correlationId)
    {
        if (!Fire(trigger, why))
        {
            return IntakeOutcome.Stale;
        }

        Propagate(correlationId);
        return IntakeOutcome.Applied;
    }

    public async Task RefundAppliedAsync(string refundId, ImmutableDictionary<string, int> quantitiesByLineId)
    {
        if (S.Order is null || S.RefundsApplied.Contains(refundId))
        {
            return;
        }

        S.RefundsApplied.Add(refundId);
        foreach (var (lineId, quantity) in quantitiesByLineId)
        {
            S.RefundedByLine[lineId] = S.RefundedByLine.GetValueOrDefault(lineId) + quantity;
        }

        var complete = S.Order.Lines.All(l => S.RefundedByLine.GetValueOrDefault(l.LineId) >= l.Quantity);
        var correlationId = "refund:" + refundId;
        if (complete && Fire(OrderTrigger.Refund, $"refund {refundId} confirmed in every system: every line refunded"))
        {
            Propagate(correlationId);
        }
        else if (!complete)
        {
            S.PartiallyRefunded = true;
            S.Journal.Record(clock.GetUtcNow(), "refund", $"refund {refundId} confirmed in every system: partially refunded " +
                string.Join(", ", quantitiesByLineId.Select(q => $"line {q.Key} × {q.Value}")), correlationId);
        }

        await this.WriteOrForgetAsync(state);
        if (Unfinished)
        {
            await IndexAsync();
            await DispatchAsync(resend: false);
        }
    }

    public async Task RedactAsync(string reason)
    {
        if (S.GoldenCustomerId is { } golden && !S.Redacted)
        {
            // The buyer's golden record goes too (customers/redact names the person's orders).
            var resolver = GrainFactory.GetGrain<IIdentityResolverGrain>(0);
            var holder = await resolver.FollowAsync(S.Tenant ?? S.Shop!, golden);
            await GrainFactory.GetGrain<ICustomerGrain>(EntityKeys.ForShop(S.Tenant ?? S.Shop!, holder)).RedactAsync(reason);
        }

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
            shop, orderId, S.Status, systems, S.Order!, [.. S.Fulfillments], [.. S.Journal.Timeline], S.Redacted,
            [.. S.Outbox.Select(e => new OutboxItemView(e.Key, e.Command.System, e.Command.Operation,
                e.EndedAt is null ? (e.Sent ? "Sent" : "Planned") : e.Succeeded ? "Succeeded" : "Failed", e.PlannedAt, e.EndedAt))], S.CrmContext, S.PartiallyRefunded, S.GoldenCustomerId,
            S.Outbox.FirstOrDefault(e => e.Command.Operation == "submitOrder") is { } submit
                ? JsonSerializer.Deserialize<ErpOrderSubmission>(submit.Command.Payload, OutboundExecutor.Json)?.Customer.Number
                : null));
    }
}

[GenerateSerializer, Alias("RetailSync.Orders.OrderState")]
public sealed class OrderState
{
    [Id(0)] public Order? Order { get; set; }
    [Id(1)] public string Status { get; set; } = OrderStatus.Received;
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
    [Id(8)] public List<OutboxEntry> Outbox { get; set; } = [];
    [Id(9)] public DateTimeOffset? ReceivedAt { get; set; }
    [Id(10)] public string? ErpNumber { get; set; }
    [Id(11)] public string? ShopifyStatusTag { get; set; }
    [Id(12)] public bool CancelRequested { get; set; }
    [Id(13)] public bool CancelAfterShipment { get; set; }
    [Id(14)] public bool CancelExceptionRaised { get; set; }
    [Id(15)] public CrmContext? CrmContext { get; set; }
    [Id(16)] public bool ContextWaitExpired { get; set; }
    /// <summary>Units the ERP has shipped, by SKU, over the shipments in <see cref="Shipments"/>.</summary>
    [Id(17)] public Dictionary<string, int> Shipped { get; set; } = new(StringComparer.Ordinal);
    [Id(18)] public List<string> Shipments { get; set; } = [];
    [Id(19)] public int StatusChanges { get; set; }
    [Id(20)] public List<string> RefundsApplied { get; set; } = [];
    [Id(21)] public Dictionary<string, int> RefundedByLine { get; set; } = new(StringComparer.Ordinal);
    [Id(22)] public bool PartiallyRefunded { get; set; }

    /// <summary>The buyer's golden customer (identity resolution), once known.</summary>
    [Id(23)] public string? GoldenCustomerId { get; set; }

    /// <summary>The buyer is being resolved; the ERP submission waits for it, briefly.</summary>
    [Id(24)] public bool IdentityPending { get; set; }

    /// <summary>The oversell guard's state (<see cref="StockStates"/>); null when the order has no SKU lines.</summary>
    [Id(25)] public string? StockStatus { get; set; }

    /// <summary>SKU → its reservation result (<see cref="Inventory.ReservationResult"/>).</summary>
    [Id(26)] public Dictionary<string, string> StockBySku { get; set; } = new(StringComparer.Ordinal);

    [Id(27)] public bool StockAllocatedTold { get; set; }

    /// <summary>When the ERP booked the order, by the ERP's clock where it says (its stock figures are dated by the same clock).</summary>
    [Id(29)] public DateTimeOffset? ErpAcceptedAt { get; set; }
    [Id(28)] public bool StockReleasedTold { get; set; }
}

public static class StockStates
{
    public const string Pending = "Pending";
    public const string Reserved = "Reserved";
    public const string Short = "Short";

    /// <summary>An operator sent the order to the ERP without the stock reserved.</summary>
    public const string Override = "Override";
}

[GenerateSerializer, Alias("RetailSync.Orders.OutboxEntry")]
public sealed class OutboxEntry
{
    [Id(0)] public string Key { get; set; } = "";
    [Id(1)] public OutboundCommand Command { get; set; } = null!;
    [Id(2)] public DateTimeOffset PlannedAt { get; set; }
    [Id(3)] public DateTimeOffset? EndedAt { get; set; }
    [Id(4)] public bool Succeeded { get; set; }

    /// <summary>Whether it was handed to its dispatcher; handing it again is harmless (same key).</summary>
    [Id(5)] public bool Sent { get; set; }

    /// <summary>Its failure is in the exception queue; a later success resolves it there.</summary>
    [Id(6)] public bool ExceptionRaised { get; set; }

    /// <summary>
    /// Makes a failed command pending again for an operator's retry: a new run, planned now, so the
    /// dispatcher does not answer with the failure it remembers.
    /// </summary>
    public void Reopen(DateTimeOffset now)
    {
        EndedAt = null;
        Sent = false;
        PlannedAt = now;
    }

    /// <summary>Vendor attempts over every run of it (operator retries add theirs).</summary>
    [Id(7)] public int Attempts { get; set; }

    /// <summary>The last outcome: the vendor's result, or its error.</summary>
    [Id(8)] public string? Result { get; set; }
}

[GenerateSerializer, Alias("RetailSync.Orders.SystemSync")]
public sealed class SystemSync
{
    [Id(0)] public string Status { get; set; } = "Pending";
    [Id(1)] public string? ExternalId { get; set; }
    [Id(2)] public DateTimeOffset? LastSyncedAt { get; set; }
    [Id(3)] public string? Error { get; set; }
}
