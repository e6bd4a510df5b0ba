namespace RetailSync.Inventory;

/// <summary>Settings under <c>RetailSync:Inventory</c>.</summary>
public sealed class InventoryOptions
{
    public const string Section = "RetailSync:Inventory";

    /// <summary>
    /// ERP location → Shopify location id. Stock of an ERP location with no entry here is not shown in
    /// Shopify (e.g. a returns or quarantine location).
    /// </summary>
    public Dictionary<string, string> Locations { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How long changes to one SKU gather before one write to Shopify carries the latest value (coalescing).</summary>
    public TimeSpan PushDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// For ERPs that cannot call back (Tryton): how often every known SKU's stock is read from the ERP.
    /// Zero (the default) polls nothing.
    /// </summary>
    public TimeSpan PollPeriod { get; set; }

    /// <summary>How often every linked SKU's Shopify levels are compared with the ERP's figures and repaired. Zero: never.</summary>
    public TimeSpan DriftCheckPeriod { get; set; }

    /// <summary>
    /// What the oversell guard does with an order whose quantity exceeds a SKU's available-to-sell:
    /// <c>Backorder</c> (the order is Backordered and waits for stock, first come first served) or
    /// <c>Exception</c> (it waits for an operator, whose retry submits it anyway).
    /// </summary>
    public string Oversell { get; set; } = OversellActions.Backorder;

    /// <summary>
    /// An order the ERP booked keeps its reservation until the ERP's next figure counts it, or at most this long
    /// (an ERP that reports stock counts but not what it promised would otherwise hold the stock forever).
    /// </summary>
    public TimeSpan AllocationGrace { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The ERP location a polled figure is recorded under (Tryton: the warehouse read, <c>WH</c>).</summary>
    public string PollLocation { get; set; } = "WH";
}

public static class OversellActions
{
    public const string Backorder = "Backorder";
    public const string Exception = "Exception";
}
