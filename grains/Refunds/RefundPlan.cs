using System.Text.Json.Nodes;
using RetailSync.Connectors;
using RetailSync.Intake;
using RetailSync.Model;
using RetailSync.Operations;
using RetailSync.Orders;
using RetailSync.Outbox;

namespace RetailSync.Refunds;

/// <summary>
/// What a refund or a return asks of the other systems, with no I/O: the saga's steps (CRM case, ERP credit memo,
/// case closed), the compensation of a failed step, and the CRM case that follows a return.
/// </summary>
public static class RefundPlan
{
    /// <summary>The outbox groups: the saga's steps run one after another; compensations and return updates on their own.</summary>
    public const string Step = "step", Compensation = "compensation", ReturnCase = "return";

    private const string CaseObject = "Case";
    private const string CaseKey = "Shopify_Refund_Id__c";

    /// <summary>Shopify's restock type: the goods come back (return, cancel) or they do not (no_restock: written off in the ERP).</summary>
    public static bool Restocks(RefundLine line) => line.RestockType is "return" or "cancel" or "legacy_restock";

    /// <summary>The saga's steps in the order they run, each with its idempotency key, and how the goods are disposed of.</summary>
    public static (IReadOnlyList<(string Key, OutboundCommand Command)> Steps, string Disposition, int ErpLines) Steps(string shop, Refund refund, OrderView order)
    {
        // The customer the ERP booked the order on (the buyer's golden customer, or the shop's fallback).
        var customer = order.ErpCustomerNumber ?? OrderPropagation.ErpCustomer(shop, order.Order, order.GoldenCustomerId).Number;
        var lines = refund.Lines.Where(l => !string.IsNullOrEmpty(l.Sku) && l.Quantity > 0)
            .Select(l => new ErpLine(l.Sku!, l.Quantity, decimal.Round(l.Subtotal.Shop.Amount / l.Quantity, 2), Restocks(l))).ToList();
        var disposition = string.Join("; ", refund.Lines.Select(l => Restocks(l)
            ? $"{l.Sku ?? l.LineId} × {l.Quantity}: restock{(l.LocationId is null ? "" : $" at location {l.LocationId}")}"
            : $"{l.Sku ?? l.LineId} × {l.Quantity}: write-off ({l.RestockType})"));
        var steps = new List<(string, OutboundCommand)>
        {
            Command(shop, refund, "crm", "upsert", "case", Case(refund, order, "Working", $"Refund of {refund.Lines.Sum(l => l.Quantity)} item(s); {disposition}")),
        };
        if (lines.Count > 0)
        {
            steps.Add(Command(shop, refund, "erp", "creditMemo", "creditMemo",
                new ErpCreditMemo($"RF-{refund.RefundId}", customer, DateOnly.FromDateTime(refund.CreatedAt.UtcDateTime), lines)));
        }

        steps.Add(Command(shop, refund, "crm", "upsert", "caseClosed", Case(refund, order, "Closed", "Credit memo posted in the ERP; refund complete.")));
        return (steps, disposition, lines.Count);
    }

    /// <summary>
    /// A step failed for good: the CRM case, when it was opened, is marked failed with the reason (a case cannot be
    /// unsent). <paramref name="ordinal"/> numbers the compensations, so a second failure after a retry gets its own.
    /// </summary>
    public static (string Key, OutboundCommand Command) CaseFailed(string shop, Refund refund, OutboxEntry failed, string? error, int ordinal) =>
        ($"refund:caseFailed:{shop}:{refund.RefundId}:{ordinal}", OutboundExecutor.Command("crm", "upsert", new CrmUpsert(CaseObject, CaseKey, new JsonObject
        {
            [CaseKey] = refund.RefundId, ["Status"] = "Escalated",
            ["Description"] = $"Refund failed in the {failed.Command.System.ToUpperInvariant()}: {error}. Raised for operations.",
        }), "refund:" + refund.RefundId));

    /// <summary>Whether the saga's CRM case was opened (so a failure has a case to mark).</summary>
    public static bool CaseOpened(IEnumerable<OutboxEntry> steps) => steps.Any(e => e.Key.StartsWith("refund:case:", StringComparison.Ordinal) && e.Succeeded);

    /// <summary>The CRM case of a return follows its status: requested, approved (open), closed or declined.</summary>
    public static (string Key, OutboundCommand Command) Return(string shop, Return @return)
    {
        var (status, description) = @return.Status switch
        {
            "requested" => ("New", $"Return requested: {@return.Lines.Sum(l => l.Quantity)} item(s). {string.Join("; ", @return.Lines.Select(l => l.Reason).OfType<string>())}"),
            "open" => ("Working", "Return approved: waiting for the goods and the refund."),
            "closed" => ("Closed", "Return closed."),
            _ => ("Closed", $"Return {@return.Status}."),
        };
        var payload = new CrmUpsert(CaseObject, "Shopify_Return_Id__c", new JsonObject
        {
            ["Shopify_Return_Id__c"] = @return.ReturnId, ["Subject"] = $"Return {@return.Name ?? @return.ReturnId} of order {@return.OrderId}",
            ["Status"] = status, ["Origin"] = "Shopify", ["Description"] = description, ["Shopify_Order_Id__c"] = @return.OrderId,
        });
        return ($"return:case:{shop}:{@return.ReturnId}:{@return.Status}", OutboundExecutor.Command("crm", "upsert", payload, "return:" + @return.ReturnId));
    }

    private static (string, OutboundCommand) Command<T>(string shop, Refund refund, string system, string operation, string step, T payload) =>
        ($"refund:{step}:{shop}:{refund.RefundId}", OutboundExecutor.Command(system, operation, payload, "refund:" + refund.RefundId));

    private static CrmUpsert Case(Refund refund, OrderView order, string status, string description) => new(CaseObject, CaseKey, new JsonObject
    {
        [CaseKey] = refund.RefundId,
        ["Subject"] = $"Refund {refund.RefundId} of order {order.Order.Name ?? order.OrderId}",
        ["Status"] = status,
        ["Origin"] = "Shopify",
        ["Description"] = description,
        ["Shopify_Order_Id__c"] = order.OrderId,
    });
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

    /// <summary>The saga's steps, compensations and return updates, by <see cref="OutboxEntry.Group"/>.</summary>
    [Id(5)] public CommandOutbox Outbox { get; set; } = new();
    [Id(6)] public Dictionary<string, int> OrderLines { get; set; } = new(StringComparer.Ordinal);
    [Id(7)] public DateTimeOffset? ReceivedAt { get; set; }
    [Id(8)] public DateTimeOffset? CompletedAt { get; set; }
    [Id(11)] public bool DeadlineRaised { get; set; }
    [Id(12)] public string? Tenant { get; set; }

    public IEnumerable<OutboxEntry> Steps => Outbox.Entries.Where(e => e.Group == RefundPlan.Step);
}
