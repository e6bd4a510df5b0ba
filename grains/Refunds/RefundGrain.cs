using System.Collections.Immutable;
using System.Globalization;
using Microsoft.Extensions.Options;
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
/// posted the credit memo, and the order has taken the refund. The steps (<see cref="RefundPlan"/>) run one after
/// another through the per-system dispatchers (each idempotent: the case is upserted by the refund id, the credit
/// memo is keyed by its external document number), planned in the grain's outbox before they run and
/// ended there after. A refund that arrives before its order waits for it. When the ERP refuses the
/// credit memo for good, the case is marked failed (compensation) and operations gets the exception,
/// whose retry runs the credit memo again.
/// </summary>
public sealed class RefundGrain : Grain, IRefundGrain, ICommandOwner
{
    /// <summary>The name its state is stored under (what shop erasure looks for).</summary>
    public const string StateName = "refund";

    /// <summary>How often a parked refund asks for its order while active (the outbox sweeper covers a crash).</summary>
    private static readonly TimeSpan OrderPoll = TimeSpan.FromSeconds(2);

    private readonly IPersistentState<RefundState> state;
    private readonly IOptions<RefundOptions> options;
    private readonly TimeProvider clock;
    private readonly OutboxSender outbox;
    private IGrainTimer? orderPoll;

    public RefundGrain(
        [PersistentState(StateName, StorageNames.State)] IPersistentState<RefundState> state,
        IOutboxIndex outboxIndex,
        IOptions<RefundOptions> options,
        TimeProvider clock)
    {
        (this.state, this.options, this.clock) = (state, options, clock);
        outbox = new OutboxSender(this, GrainFactory, outboxIndex, () => ProceedAsync(resend: true));
    }

    private RefundState S => state.State;

    private string OwnerKey => $"refund:{S.Shop}:{S.Refund?.RefundId ?? S.Return?.ReturnId}";

    private bool Unfinished =>
        (S.Refund is not null && S.Status is not (RefundStatus.Completed or RefundStatus.Compensated))
        || S.Outbox.Unfinished.Any(e => e.Group != RefundPlan.Step);

    private IKpiGrain Kpis => GrainFactory.GetGrain<IKpiGrain>("kpis");

    private string RefundKey => $"{S.Shop}/{S.Refund!.RefundId}";

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
            await outbox.ListAsync();
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
    /// A return's progress (requested, approved, closed, declined) is the customer-service side of a refund:
    /// the CRM case of the return follows it. The money and the goods follow with the refund Shopify
    /// creates for the return (its own saga).
    /// </summary>
    public async Task<IntakeOutcome> ReceiveReturnAsync(ShopifyDelivery delivery, Return @return)
    {
        if (!S.Journal.HasSeen(delivery))
        {
            await outbox.ListAsync();
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
                    var (key, command) = RefundPlan.Return(S.Shop, S.Return);
                    S.Outbox.Plan(key, command, clock.GetUtcNow(), RefundPlan.ReturnCase);
                }
            }

            return outcome;
        }, _ => $"order {@return.OrderId}, status {@return.Status}");
        await ProceedAfterIntakeAsync();
        return outcome;
    }

    /// <summary>
    /// Recorded is what the webhook's answer promises; sending the steps is not: a dispatcher that cannot be
    /// reached now never fails the delivery (the outbox index lists this grain, the sweeper nudges it).
    /// </summary>
    private async Task ProceedAfterIntakeAsync()
    {
        try
        {
            await ProceedAsync();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            S.Journal.Record(clock.GetUtcNow(), "saga", $"steps not sent yet ({ex.GetType().Name}); the outbox sweeper will resume them", null);
        }
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
        await outbox.RaiseAsync(new OpsException($"refund:deadline:{S.Shop}:{S.Refund.RefundId}", "refund", "deadline",
            S.Refund.RefundId, "DEADLINE", message, 0, "refund:" + S.Refund.RefundId, OwnerKey, now, "Open", null, null));
        await this.WriteOrForgetAsync(state);
    }

    /// <summary>Plans the steps once the order is known, then hands what is due to the dispatchers.</summary>
    private async Task ProceedAsync(bool resend = false)
    {
        if (!Unfinished)
        {
            // A repeated delivery of a finished saga costs no index write; the sweeper's nudge (a resend) clears
            // an entry a crash left.
            outbox.Unlist(always: resend);
            return;
        }

        if (S.Refund is { } refund && !S.Steps.Any())
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
            Plan(refund, order);
            await this.WriteOrForgetAsync(state);
        }

        await DispatchAsync(resend);
    }

    private void Plan(Refund refund, OrderView order)
    {
        var now = clock.GetUtcNow();
        if (S.Status == RefundStatus.WaitingForOrder)
        {
            S.Journal.Record(now, "saga", $"order {refund.OrderId} is known now: the refund proceeds", null);
        }

        S.Status = RefundStatus.InProgress;
        S.OrderLines = refund.Lines.GroupBy(l => l.LineId).ToDictionary(g => g.Key, g => g.Sum(l => l.Quantity), StringComparer.Ordinal);
        var (steps, disposition, erpLines) = RefundPlan.Steps(S.Shop!, refund, order);
        S.Journal.Record(now, "saga", $"planned: CRM case, ERP credit memo RF-{refund.RefundId} ({erpLines} lines), order refund; disposition {disposition}", null);
        foreach (var (key, command) in steps)
        {
            S.Outbox.Plan(key, command, now, RefundPlan.Step);
        }
    }

    /// <summary>Compensations and return updates go as they come; the saga's steps one at a time, in order.</summary>
    private async Task DispatchAsync(bool resend)
    {
        await outbox.HandAsync(S.Outbox.Unfinished.Where(e => e.Group != RefundPlan.Step), resend);
        if (S.Refund is null || S.Status == RefundStatus.Compensated)
        {
            if (!Unfinished)
            {
                outbox.Unlist(always: true);
            }

            return;
        }

        var steps = S.Steps.ToList();
        var next = steps.FirstOrDefault(e => e.EndedAt is null);
        if (next is null)
        {
            await CompleteAsync();
            return;
        }

        // A later step never runs before an earlier one has succeeded.
        if (!steps.TakeWhile(e => e != next).All(e => e.Succeeded) || (!resend && outbox.WasHanded(next)))
        {
            return;
        }

        if (next.Command.System == "erp")
        {
            Kpis.RefundWaitingOnErpAsync(RefundKey, true, next.PlannedAt).Ignore();
        }

        await outbox.HandAsync([next], resend);
    }

    /// <summary>Every vendor step is done: the order takes the refund (idempotent per refund id), then the saga is complete.</summary>
    private async Task CompleteAsync()
    {
        if (S.Status != RefundStatus.InProgress)
        {
            return;
        }

        // The ERP has taken the goods back (its credit memo is posted): the SKUs count them until the ERP's next figure does.
        foreach (var line in S.Refund!.Lines.Where(l => RefundPlan.Restocks(l) && !string.IsNullOrEmpty(l.Sku) && l.Quantity > 0))
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
            await outbox.ResolveAsync($"refund:deadline:{S.Shop}:{S.Refund.RefundId}", "the refund completed after its deadline");
        }

        var took = S.CompletedAt.Value - (S.ReceivedAt ?? S.CompletedAt.Value);
        Kpis.RefundCompletedAsync(took).Ignore();
        S.Journal.Record(S.CompletedAt.Value, "saga", $"completed in {took.TotalMilliseconds:F0} ms: confirmed by the CRM, the ERP and the order", null);
        await this.WriteOrForgetAsync(state);
        outbox.Unlist(always: true);
    }

    public async Task CommandEndedAsync(CommandView command)
    {
        var now = clock.GetUtcNow();
        if (S.Outbox.End(command, now) is not { } entry)
        {
            return;
        }

        if (entry.Command.System == "erp" && S.Refund is not null)
        {
            Kpis.RefundWaitingOnErpAsync(RefundKey, false, now).Ignore();
        }

        S.Journal.Record(now, $"{entry.Command.System}:{entry.Command.Operation}",
            entry.Succeeded ? $"done after {command.Attempts} attempt(s): {command.Result}" : $"failed after {command.Attempts} attempt(s): {command.LastError}", command.Key);
        // Compensations and a return's case updates are not steps of the refund: their failure is only recorded.
        var step = entry.Group == RefundPlan.Step;
        if (!entry.Succeeded && step)
        {
            Compensate(entry, command);
        }

        await outbox.SettleAsync(entry, command, OwnerKey, now, raise: step);
        await this.WriteOrForgetAsync(state);
        await DispatchAsync(resend: false);
    }

    /// <summary>A step failed for good: what was done is undone where the vendor allows it; nothing later runs until an operator retries.</summary>
    private void Compensate(OutboxEntry failed, CommandView command)
    {
        S.Status = RefundStatus.Compensated;
        var caseOpened = RefundPlan.CaseOpened(S.Steps);
        S.Journal.Record(clock.GetUtcNow(), "saga", $"{failed.Command.System}:{failed.Command.Operation} refused for good ({command.VendorCode}): compensating"
            + (caseOpened ? " — the CRM case is marked failed" : ""), failed.Key);
        if (caseOpened)
        {
            var ordinal = S.Outbox.Entries.Count(e => e.Group == RefundPlan.Compensation);
            var (key, compensation) = RefundPlan.CaseFailed(S.Shop!, S.Refund!, failed, command.LastError, ordinal);
            // Stored with the failure, then sent outside the step sequence; its outcome is recorded like any step's.
            S.Outbox.Plan(key, compensation, clock.GetUtcNow(), RefundPlan.Compensation);
        }
    }

    public Task CommandRetryingAsync(CommandView command)
    {
        if (S.Outbox.Find(command.Key) is { EndedAt: null, Group: RefundPlan.Step } entry)
        {
            entry.Result = $"retrying: {command.LastError}";
        }

        return Task.CompletedTask;
    }

    public async Task<CommandView?> RetryCommandAsync(string key)
    {
        if (S.Outbox.Find(key) is not { Group: RefundPlan.Step } entry)
        {
            return null;
        }

        if (S.Outbox.ReopenFailed(key, clock.GetUtcNow()) is not null)
        {
            S.Status = RefundStatus.InProgress;
            S.Journal.Record(clock.GetUtcNow(), "operator", $"retry of {entry.Key} requested", entry.Key);
            await this.WriteOrForgetAsync(state);
            await DispatchAsync(resend: false);
        }

        return CommandOutbox.View(entry);
    }

    public async Task RedactAsync(string reason)
    {
        var personal = PersonalValues.Of([S.Refund?.Note, .. S.Return?.Lines.Select(l => l.Note) ?? []]);
        S.Journal.Scrub(personal);
        S.Outbox.Redact(personal);
        if (S.Refund is { } refund)
        {
            S.Refund = refund with { Note = null };
        }

        if (S.Return is { } @return)
        {
            S.Return = @return with { Lines = [.. @return.Lines.Select(l => l with { Note = null })] };
        }

        S.Journal.Record(clock.GetUtcNow(), "privacy:redacted", reason, null);
        await this.WriteOrForgetAsync(state);
        await outbox.RedactExceptionsAsync(OwnerKey, personal);
    }

    public Task<RefundView?> GetAsync()
    {
        if (S.Refund is null && S.Return is null)
        {
            return Task.FromResult<RefundView?>(null);
        }

        var (shop, id) = EntityKeys.Split(this.GetPrimaryKeyString());
        // The saga's steps first, then compensations, then the return's updates, each in the order planned.
        var steps = S.Outbox.Entries.OrderBy(e => e.Group switch { RefundPlan.Step => 0, RefundPlan.Compensation => 1, _ => 2 })
            .Select(e => new RefundStepView(e.Key, e.Command.System, e.Command.Operation, CommandOutbox.StateOf(e), e.Attempts, e.PlannedAt, e.EndedAt, e.Result));
        return Task.FromResult<RefundView?>(new RefundView(shop, id, S.Refund, S.Return, [.. S.Journal.Timeline],
            S.Refund is null ? RefundStatus.Received : S.Status, [.. steps], S.ReceivedAt, S.CompletedAt));
    }
}
