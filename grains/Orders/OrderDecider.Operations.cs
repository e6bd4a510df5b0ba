using System.Collections.Immutable;
using System.Text.Json;
using RetailSync.Erp;
using RetailSync.Intake;
using RetailSync.Operations;
using RetailSync.Outbox;

namespace RetailSync.Orders;

/// <summary>What operators and privacy requests ask of an order, and the order as they see it.</summary>
public static partial class OrderDecider
{
    /// <summary>An operator's retry from the exception queue: the oversell accepted, or a failed command run again.</summary>
    public static (OrderDecision Decision, CommandView? Answer) OperatorRetry(OrderState s, string key, DateTimeOffset now)
    {
        if (s.Order is not null && key == OversellKey(s) && s.Stock == StockHold.Short)
        {
            // The operator decided: the order goes to the ERP without the stock reserved.
            s.Stock = StockHold.Override;
            s.Journal.Record(now, "operator", "oversell accepted: submitting to the ERP without reserved stock", key);
            var decision = new OrderDecision();
            decision.Resolve.Add((key, "an operator submitted the order anyway"));
            return (decision, new CommandView(key, new OutboundCommand("inventory", "oversell", "", null), CommandStatus.Succeeded, 0, null, "submitted", null));
        }

        if (s.Outbox.Find(key) is not { } entry)
        {
            return (OrderDecision.Nothing(), null);
        }

        if (s.Outbox.ReopenFailed(key, now) is null)
        {
            return (OrderDecision.Nothing(), CommandOutbox.View(entry, s.Systems[SystemNames.For(entry.Command.System)].Error));
        }

        s.Systems[SystemNames.For(entry.Command.System)].Status = "Pending";
        s.Journal.Record(now, "operator", $"retry of {entry.Key} requested", entry.Key);
        return (new OrderDecision(), CommandOutbox.View(entry, s.Systems[SystemNames.For(entry.Command.System)].Error) with { Attempts = 0 });
    }

    /// <summary>
    /// Removes the buyer's personal data from the order, its timeline and the payloads it has sent; answers the values it
    /// took away, for what holds copies outside the order (the exception queue).
    /// </summary>
    public static IReadOnlyList<string> Redact(OrderState s, string reason, DateTimeOffset now)
    {
        IReadOnlyList<string> personal = [];
        if (s.Order is { } order)
        {
            personal = PersonalValues.Of(OrderIntakeRules.PersonalValues(order));
            s.Journal.Scrub(personal);
            s.Outbox.Redact(personal);
            s.Order = OrderIntakeRules.Redact(order);
        }

        s.Redacted = true;
        s.Journal.Record(now, "privacy:redacted", reason, null);
        return personal;
    }

    public static OrderView? View(OrderState s, string shop, string orderId)
    {
        if (s.Order is null && s.Fulfillments.Count == 0)
        {
            return null;
        }

        var systems = ImmutableDictionary.CreateRange(s.Systems.Select(kv =>
            KeyValuePair.Create(kv.Key, new SystemSyncView(kv.Value.Status, kv.Value.ExternalId, kv.Value.LastSyncedAt, kv.Value.Error))));
        return new OrderView(
            shop, orderId, s.Status, systems, s.Order!, [.. s.Fulfillments], [.. s.Journal.Timeline], s.Redacted,
            [.. s.Outbox.Entries.Select(e => new OutboxItemView(e.Key, e.Command.System, e.Command.Operation, CommandOutbox.StateOf(e), e.PlannedAt, e.EndedAt))],
            s.CrmContext, s.PartiallyRefunded, s.GoldenCustomerId,
            Submission(s) is { } submit ? JsonSerializer.Deserialize<ErpOrderSubmission>(submit.Command.Payload, OutboundExecutor.Json)?.Customer.Number : null);
    }
}
