namespace RetailSync.Refunds;

/// <summary>Settings under <c>RetailSync:Refunds</c>.</summary>
public sealed class RefundOptions
{
    public const string Section = "RetailSync:Refunds";

    /// <summary>
    /// A refund not complete in every system this long after Shopify sent it becomes an operations
    /// exception (it keeps going meanwhile). Checked whenever the outbox sweeper nudges it.
    /// </summary>
    public TimeSpan Deadline { get; set; } = TimeSpan.FromHours(4);
}
