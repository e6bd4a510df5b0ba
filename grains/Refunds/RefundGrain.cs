using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using RetailSync.Connectors;
using RetailSync.Intake;
using RetailSync.Inventory;
using RetailSync.Model;
using RetailSync.Operations;
using RetailSync.Outbox;
using RetailSync.Orders;
using RetailSync.Platform;

namespace RetailSync.Refunds;

/// <summary>
/// A refund and its saga: it is complete only when the CRM has a service case for it, the ERP has
/// posted the credit memo, and the order has taken the refund. The steps run one after another
/// through the per-system dispatchers (each idempotent: the case is upserted by the refund id, the credit
/// memo is keyed by its external document number), planned in the grain's state before they run and
/// ended there after. A refund that arrives before its order waits for it. When the ERP refuses the
/// credit memo for good, the case is marked failed (compensation) and operations gets the exception,
/// whose retry runs the credit memo again.
/// </summary>
public sealed class RefundGrain(
    [PersistentState("refund", StorageNames.State)] IPersistentState<RefundState> state,
    IOutboxIndex outboxIndex,
    IOptions<RefundOptions> options,
    TimeProvider clock) : Grain, IRefundGrain, ICommandOwner
{
    private const string CaseObject = "Case";
    private const string CaseKey = "Shopify_Refund_Id__c";

    /// <summary>How often a parked refund asks for its order while active (the outbox sweeper covers a crash).</summary>
    private static readonly TimeSpan OrderPoll = TimeSpan.FromSeconds(2);

    private readonly HashSet<string> handed = new(StringComparer.Ordinal);
    private IGrainTimer? orderPoll;

    private RefundState S => state.State;

    private bool Unfinished =>
        (S.Refund is not null && S.Status is not (RefundStatus.Completed or RefundStatus.Compensated))
        || S.CompensationSteps.Any(e => e.EndedAt is null) || S.ReturnSteps.Any(e => e.EndedAt is null);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (Unfinished)
        {
            this.AsReference<ICommandOwner>().ResumeAsync().Ignore();
        }

        return Task.CompletedTask;
    }

    public async Task<IntakeOutcome> ReceiveRefundAsync(ShopifyDelivery delivery, Refund refund)
    {
        if (!S.Journal.HasSeen(delivery) && S.Refund is null)
        {
            // Listed before the write, like an order: the sweeper finds a saga a crash interrupted.
            await outboxIndex.AddAsync(this.GetGrainId().ToString());
        }

        var outcome = await this.ReceiveAsync(state, S.Journal, delivery, () =>
        {
            // A refund is immutable in Shopify: the first payload is the refund.
            if (S.Refund is not null)
            {
                return IntakeOutcome.Stale;
            }

            S.Refund = refund;
            S.Shop = delivery.Shop;
            S.Tenant = delivery.Tenant;
            S.ReceivedAt = delivery.ReceivedAt;
            return IntakeOutcome.Applied;
        }, _ => $"order {refund.OrderId}, {refund.Lines.Length} lines, transacted {refund.Transacted?.Amount.ToString(CultureInfo.InvariantCulture) ?? "-"}");
        await ProceedAfterIntakeAsync();
        return outcome;
    }

    /// <summary>
    /// Recorded is what the webhook's answer promises; sending the steps is not: a dispatcher that cannot be
    /// reached now never fails the delivery (the outbox index lists this grain, the sweeper nudges it).
    /// </summary>
    private async Task ProceedAfterIntakeAsync()
    {
        if (!Unfinished)
        {
            return;
        }

        try
        {
            await ProceedAsync();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            S.Journal.Record(clock.GetUtcNow(), "saga", $"steps not sent yet ({ex.GetType().Name}); the outbox sweeper will resume them", null);
        }
    }

    /// <summary>
    /// A return's progress (requested, approved, closed, declined) is the customer-service side of a refund:
    /// the CRM case of the return follows it. The money and the goods follow with the refund Shopify
    /// creates for the return (its own saga).
    /// </summary>
    public async Task<IntakeOutcome> ReceiveReturnAsync(ShopifyDelivery delivery, Return @return)
    {
        if (!S.Journal.HasSeen(delivery))
        {
            await outboxIndex.AddAsync(this.GetGrainId().ToString());
        }

        var outcome = await this.ReceiveAsync(state, S.Journal, delivery, () =>
        {
            var outcome = ReturnRules.Decide(S.Return, @return);
            if (outcome == IntakeOutcome.Applied)
            {
                var changed = S.Return?.Status != @return.Status;
                S.Return = ReturnRules.Merge(S.Return, @return);
                S.Shop ??= delivery.Shop;
                S.Tenant ??= delivery.Tenant;
                if (changed)
                {
                    PlanReturnCase(S.Return);
                }
            }

            return outcome;
        }, _ => $"order {@return.OrderId}, status {@return.Status}");
        await ProceedAfterIntakeAsync();
        return outcome;
    }

    private void PlanReturnCase(Return @return)
    {
        var (status, description) = @return.Status switch
        {
            "requested" => ("New", $"Return requested: {@return.Lines.Sum(l => l.Quantity)} item(s). {string.Join("; ", @return.Lines.Select(l => l.Reason).OfType<string>())}"),
            "open" => ("Working", "Return approved: waiting for the goods and the refund."),
            "closed" => ("Closed", "Return closed."),
            _ => ("Closed", $"Return {@return.Status}."),
        };
        var key = $"return:case:{S.Shop}:{@return.ReturnId}:{@return.Status}";
        var payload = new CrmUpsert(CaseObject, "Shopify_Return_Id__c", new JsonObject
        {
            ["Shopify_Return_Id__c"] = @return.ReturnId, ["Subject"] = $"Return {@return.Name ?? @return.ReturnId} of order {@return.OrderId}",
            ["Status"] = status, ["Origin"] = "Shopify", ["Description"] = description, ["Shopify_Order_Id__c"] = @return.OrderId,
        });
        var command = OutboundExecutor.Command("crm", "upsert", payload, "return:" + @return.ReturnId) with { ReplyTo = this.GetGrainId().ToString() };
        S.ReturnSteps.Add(new OutboxEntry { Key = key, Command = command, PlannedAt = clock.GetUtcNow() });
    }

    public async Task ResumeAsync()
    {
        await CheckDeadlineAsync();
        await ProceedAsync(resend: true);
    }

    /// <summary>Past its deadline and still not complete: operations hears of it once, with the step it waits on.</summary>
    private async Task CheckDeadlineAsync()
    {
        var now = clock.GetUtcNow();
        if (S.Refund is null || S.DeadlineRaised || S.Status is RefundStatus.Completed or RefundStatus.Compensated
            || now - (S.ReceivedAt ?? now) < options.Value.Deadline)
        {
            return;
        }

        S.DeadlineRaised = true;
        var waiting = S.Status == RefundStatus.WaitingForOrder
            ? $"its order {S.Refund.OrderId} has not arrived"
            : S.Steps.FirstOrDefault(e => e.EndedAt is null) is { } step ? $"waiting on {step.Command.System}:{step.Command.Operation} ({step.Result ?? "no answer yet"})" : "finishing";
        var message = $"Refund {S.Refund.RefundId} of order {S.Refund.OrderId} is not complete after {options.Value.Deadline}: {waiting}.";
        S.Journal.Record(now, "saga", $"deadline passed: raised for operations; {waiting}", null);
        await GrainFactory.GetGrain<IExceptionQueueGrain>("ops").RaiseAsync(new OpsException($"refund:deadline:{S.Shop}:{S.Refund.RefundId}", "refund", "deadline",
            S.Refund.RefundId, "DEADLINE", message, 0, "refund:" + S.Refund.RefundId, $"refund:{S.Shop}:{S.Refund.RefundId}", now, "Open", null, null,
            this.GetGrainId().ToString()));
        await this.WriteOrForgetAsync(state);
    }

    /// <summary>Plans the steps once the order is known, then hands the next unfinished step to its dispatcher.</summary>
    private async Task ProceedAsync(bool resend = false)
    {
        if (!Unfinished)
        {
            outboxIndex.RemoveAsync(this.GetGrainId().ToString()).Ignore();
            return;
        }

        if (S.Refund is not { } refund)
        {
            await DispatchAsync(resend);
            return;
        }

        if (S.Steps.Count == 0)
        {
            var order = await GrainFactory.GetGrain<IOrderGrain>(EntityKeys.ForShop(S.Shop!, refund.OrderId)).GetAsync();
            if (order is null)
            {
                if (S.Status != RefundStatus.WaitingForOrder)
                {
                    S.Status = RefundStatus.WaitingForOrder;
                    S.Journal.Record(clock.GetUtcNow(), "saga", $"order {refund.OrderId} is not known yet: the refund waits for it", null);
                    await this.WriteOrForgetAsync(state);
                }

                // Still listed in the outbox index: the sweeper asks again after a crash; while active, a timer does.
                orderPoll ??= this.RegisterGrainTimer(() => ProceedAsync(), new GrainTimerCreationOptions(OrderPoll, OrderPoll));
                return;
            }

            orderPoll?.Dispose();
            orderPoll = null;
            if (S.Status == RefundStatus.WaitingForOrder)
            {
                S.Journal.Record(clock.GetUtcNow(), "saga", $"order {refund.OrderId} is known now: the refund proceeds", null);
            }

            Plan(refund, order);
            await this.WriteOrForgetAsync(state);
        }

        await DispatchAsync(resend);
    }

    private void Plan(Refund refund, OrderView order)
    {
        var now = clock.GetUtcNow();
        S.Status = RefundStatus.InProgress;
        S.OrderLines = refund.Lines.GroupBy(l => l.LineId).ToDictionary(g => g.Key, g => g.Sum(l => l.Quantity), StringComparer.Ordinal);
        // The customer the ERP booked the order on (the buyer's golden customer, or the shop's fallback).
        var customer = order.ErpCustomerNumber ?? OrderPropagation.ErpCustomer(S.Shop!, order.Order, order.GoldenCustomerId).Number;
        var lines = refund.Lines.Where(l => !string.IsNullOrEmpty(l.Sku) && l.Quantity > 0)
            .Select(l => new ErpLine(l.Sku!, l.Quantity, decimal.Round(l.Subtotal.Shop.Amount / l.Quantity, 2), Restocks(l))).ToList();
        var disposition = string.Join("; ", refund.Lines.Select(l => Restocks(l)
            ? $"{l.Sku ?? l.LineId} × {l.Quantity}: restock{(l.LocationId is null ? "" : $" at location {l.LocationId}")}"
            : $"{l.Sku ?? l.LineId} × {l.Quantity}: write-off ({l.RestockType})"));
        S.Journal.Record(now, "saga", $"planned: CRM case, ERP credit memo RF-{refund.RefundId} ({lines.Count} lines), order refund; disposition {disposition}", null);

        Add("crm", "upsert", "case", Case(refund, order, "Working", $"Refund of {refund.Lines.Sum(l => l.Quantity)} item(s); {disposition}"));
        if (lines.Count > 0)
        {
            Add("erp", "creditMemo", "creditMemo", new ErpCreditMemo($"RF-{refund.RefundId}", customer, DateOnly.FromDateTime(refund.CreatedAt.UtcDateTime), lines));
        }

        Add("crm", "upsert", "caseClosed", Case(refund, order, "Closed", "Credit memo posted in the ERP; refund complete."));
    }

    /// <summary>Shopify's restock type: the goods come back (return, cancel) or they do not (no_restock: written off in the ERP).</summary>
    private static bool Restocks(RefundLine line) => line.RestockType is "return" or "cancel" or "legacy_restock";

    private static CrmUpsert Case(Refund refund, OrderView order, string status, string description) => new(CaseObject, CaseKey, new JsonObject
    {
        [CaseKey] = refund.RefundId,
        ["Subject"] = $"Refund {refund.RefundId} of order {order.Order.Name ?? order.OrderId}",
        ["Status"] = status,
        ["Origin"] = "Shopify",
        ["Description"] = description,
        ["Shopify_Order_Id__c"] = order.OrderId,
    });

    private void Add<T>(string system, string operation, string step, T payload)
    {
        var key = $"refund:{step}:{S.Shop}:{S.Refund!.RefundId}";
        if (S.Steps.Any(e => e.Key == key))
        {
            return;
        }

        var command = OutboundExecutor.Command(system, operation, payload, "refund:" + S.Refund.RefundId) with { ReplyTo = this.GetGrainId().ToString() };
        S.Steps.Add(new OutboxEntry { Key = key, Command = command, PlannedAt = clock.GetUtcNow() });
    }

    /// <summary>One step at a time, in order: a later step never runs before an earlier one has succeeded.</summary>
    private async Task DispatchAsync(bool resend)
    {
        foreach (var compensation in S.CompensationSteps.Where(e => e.EndedAt is null && (resend || !handed.Contains(e.Key))))
        {
            await Send(compensation);
        }

        foreach (var step in S.ReturnSteps.Where(e => e.EndedAt is null && (resend || !handed.Contains(e.Key))))
        {
            await Send(step);
        }

        if (S.Refund is null || S.Status == RefundStatus.Compensated)
        {
            if (!Unfinished)
            {
                outboxIndex.RemoveAsync(this.GetGrainId().ToString()).Ignore();
            }

            return;
        }

        var next = S.Steps.FirstOrDefault(e => e.EndedAt is null);
        if (next is null)
        {
            await CompleteAsync();
            return;
        }

        if (!S.Steps.TakeWhile(e => e != next).All(e => e.Succeeded) || (!resend && handed.Contains(next.Key)))
        {
            return;
        }

        await Send(next);
    }

    private IKpiGrain Kpis => GrainFactory.GetGrain<IKpiGrain>("kpis");

    private string RefundKey => $"{S.Shop}/{S.Refund!.RefundId}";

    private async Task Send(OutboxEntry entry)
    {
        if (entry.Command.System == "erp")
        {
            Kpis.RefundWaitingOnErpAsync(RefundKey, true, entry.PlannedAt).Ignore();
        }

        await outboxIndex.AddAsync(this.GetGrainId().ToString());
        await GrainFactory.GetGrain<IOutboundDispatcherGrain>(entry.Command.System).EnqueueAsync([new DispatchItem(entry.Key, entry.Command, entry.PlannedAt)]);
        handed.Add(entry.Key);
        entry.Sent = true;
    }

    /// <summary>Every vendor step is done: the order takes the refund (idempotent per refund id), then the saga is complete.</summary>
    private async Task CompleteAsync()
    {
        if (S.Status != RefundStatus.InProgress)
        {
            return;
        }

        // The ERP has taken the goods back (its credit memo is posted): the SKUs count them until the ERP's next figure does.
        foreach (var line in S.Refund!.Lines.Where(l => Restocks(l) && !string.IsNullOrEmpty(l.Sku) && l.Quantity > 0))
        {
            await GrainFactory.GetGrain<ISkuGrain>(EntityKeys.ForShop(S.Tenant ?? S.Shop!, line.Sku!))
                .RestockedAsync($"{S.Shop}/{S.Refund.RefundId}/{line.RefundLineId}", line.Quantity, line.LocationId);
        }

        await GrainFactory.GetGrain<IOrderGrain>(EntityKeys.ForShop(S.Shop!, S.Refund.OrderId))
            .RefundAppliedAsync(S.Refund.RefundId, S.OrderLines.ToImmutableDictionary(StringComparer.Ordinal));
        S.Status = RefundStatus.Completed;
        S.CompletedAt = clock.GetUtcNow();
        if (S.DeadlineRaised)
        {
            await GrainFactory.GetGrain<IExceptionQueueGrain>("ops").ResolveAsync($"refund:deadline:{S.Shop}:{S.Refund.RefundId}", "the refund completed after its deadline");
        }

        Kpis.RefundCompletedAsync(S.CompletedAt.Value - (S.ReceivedAt ?? S.CompletedAt.Value)).Ignore();
        S.Journal.Record(S.CompletedAt.Value, "saga", $"completed in {(S.CompletedAt.Value - (S.ReceivedAt ?? S.CompletedAt.Value)).TotalMilliseconds:F0} ms: confirmed by the CRM, the ERP and the order", null);
        await this.WriteOrForgetAsync(state);
        outboxIndex.RemoveAsync(this.GetGrainId().ToString()).Ignore();
    }

    public async Task CommandEndedAsync(CommandView command)
    {
        var entry = S.Steps.FirstOrDefault(e => e.Key == command.Key) ?? S.CompensationSteps.FirstOrDefault(e => e.Key == command.Key)
            ?? S.ReturnSteps.FirstOrDefault(e => e.Key == command.Key);
        if (entry is null || entry.EndedAt is not null)
        {
            return;
        }

        // Compensations and a return's case updates are not steps of the refund: their outcome is only recorded.
        var compensation = S.CompensationSteps.Contains(entry) || S.ReturnSteps.Contains(entry);
        var now = clock.GetUtcNow();
        if (entry.Command.System == "erp")
        {
            Kpis.RefundWaitingOnErpAsync(RefundKey, false, now).Ignore();
        }

        var succeeded = command.Status == CommandStatus.Succeeded;
        entry.EndedAt = now;
        entry.Succeeded = succeeded;
        entry.Attempts += command.Attempts;
        entry.Result = succeeded ? command.Result : command.LastError;
        handed.Remove(entry.Key);
        S.Journal.Record(now, $"{entry.Command.System}:{entry.Command.Operation}",
            succeeded ? $"done after {command.Attempts} attempt(s): {command.Result}" : $"failed after {command.Attempts} attempt(s): {command.LastError}", command.Key);
        if (succeeded && entry.ExceptionRaised)
        {
            entry.ExceptionRaised = false;
            await GrainFactory.GetGrain<IExceptionQueueGrain>("ops").ResolveAsync(entry.Key, $"succeeded on retry after {command.Attempts} attempt(s)");
        }

        if (!succeeded && !compensation)
        {
            Compensate(entry, command);
            entry.ExceptionRaised = true;
            await GrainFactory.GetGrain<IExceptionQueueGrain>("ops").RaiseAsync(new OpsException(entry.Key, entry.Command.System, entry.Command.Operation,
                entry.Command.Payload, command.VendorCode, command.LastError ?? "failed", command.Attempts, entry.Command.CorrelationId,
                $"refund:{S.Shop}:{S.Refund!.RefundId}", now, "Open", null, null, this.GetGrainId().ToString()));
        }

        await this.WriteOrForgetAsync(state);
        await DispatchAsync(resend: false);
    }

    /// <summary>
    /// A step failed for good: what was done is undone where the vendor allows it. The CRM case is marked
    /// failed with the reason (a case cannot be unsent); nothing later runs until an operator retries.
    /// </summary>
    private void Compensate(OutboxEntry failed, CommandView command)
    {
        S.Status = RefundStatus.Compensated;
        var caseOpened = S.Steps.Any(e => e.Key.StartsWith("refund:case:", StringComparison.Ordinal) && e.Succeeded);
        S.Journal.Record(clock.GetUtcNow(), "saga", $"{failed.Command.System}:{failed.Command.Operation} refused for good ({command.VendorCode}): compensating"
            + (caseOpened ? " — the CRM case is marked failed" : ""), failed.Key);
        if (caseOpened)
        {
            var key = $"refund:caseFailed:{S.Shop}:{S.Refund!.RefundId}:{S.CompensationSteps.Count}";
            var payload = new CrmUpsert(CaseObject, CaseKey, new JsonObject
            {
                [CaseKey] = S.Refund.RefundId, ["Status"] = "Escalated",
                ["Description"] = $"Refund failed in the {failed.Command.System.ToUpperInvariant()}: {command.LastError}. Raised for operations.",
            });
            var compensation = OutboundExecutor.Command("crm", "upsert", payload, "refund:" + S.Refund.RefundId) with { ReplyTo = this.GetGrainId().ToString() };
            // Stored with the failure, then sent outside the step sequence; its outcome is recorded like any step's.
            S.CompensationSteps.Add(new OutboxEntry { Key = key, Command = compensation, PlannedAt = clock.GetUtcNow() });
        }
    }

    public Task CommandRetryingAsync(CommandView command)
    {
        if (S.Steps.FirstOrDefault(e => e.Key == command.Key) is { EndedAt: null } entry)
        {
            entry.Result = $"retrying: {command.LastError}";
        }

        return Task.CompletedTask;
    }

    public async Task<CommandView?> RetryCommandAsync(string key)
    {
        if (S.Steps.FirstOrDefault(e => e.Key == key) is not { } entry)
        {
            return null;
        }

        if (entry.EndedAt is not null && !entry.Succeeded)
        {
            entry.Reopen(clock.GetUtcNow());
            handed.Remove(entry.Key);
            S.Status = RefundStatus.InProgress;
            S.Journal.Record(clock.GetUtcNow(), "operator", $"retry of {entry.Key} requested", entry.Key);
            await this.WriteOrForgetAsync(state);
            await DispatchAsync(resend: false);
        }

        return new CommandView(entry.Key, entry.Command, entry.EndedAt is null ? CommandStatus.Pending : entry.Succeeded ? CommandStatus.Succeeded : CommandStatus.Failed,
            entry.Attempts, entry.Result, null, null);
    }

    public Task<RefundView?> GetAsync()
    {
        if (S.Refund is null && S.Return is null)
        {
            return Task.FromResult<RefundView?>(null);
        }

        var (shop, id) = EntityKeys.Split(this.GetPrimaryKeyString());
        var steps = S.Steps.Concat(S.CompensationSteps).Concat(S.ReturnSteps).Select(e => new RefundStepView(e.Key, e.Command.System, e.Command.Operation,
            e.EndedAt is null ? (e.Sent ? "Sent" : "Planned") : e.Succeeded ? "Succeeded" : "Failed", e.Attempts, e.PlannedAt, e.EndedAt, e.Result));
        return Task.FromResult<RefundView?>(new RefundView(shop, id, S.Refund, S.Return, [.. S.Journal.Timeline],
            S.Refund is null ? RefundStatus.Received : S.Status, [.. steps], S.ReceivedAt, S.CompletedAt));
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
    [Id(3)] public string Status { get; set; } = RefundStatus.Received;
    [Id(4)] public string? Shop { get; set; }
    [Id(5)] public List<OutboxEntry> Steps { get; set; } = [];
    [Id(6)] public Dictionary<string, int> OrderLines { get; set; } = new(StringComparer.Ordinal);
    [Id(7)] public DateTimeOffset? ReceivedAt { get; set; }
    [Id(8)] public DateTimeOffset? CompletedAt { get; set; }
    [Id(10)] public List<OutboxEntry> CompensationSteps { get; set; } = [];
    [Id(11)] public bool DeadlineRaised { get; set; }
    [Id(12)] public string? Tenant { get; set; }
    [Id(13)] public List<OutboxEntry> ReturnSteps { get; set; } = [];
}
