namespace RetailSync.Operations;

/// <summary>Settings under <c>RetailSync:Outbound</c>: retries, dispatch, CRM context wait and the outbox sweeper.</summary>
public sealed class OutboundOptions
{
    public const string Section = "RetailSync:Outbound";

    /// <summary>First retry delay; doubles per attempt (with jitter) up to <see cref="MaxDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>After this many transient failures the command becomes an operations exception.</summary>
    public int MaxAttempts { get; set; } = 30;

    /// <summary>Vendor calls in flight per system; the rate budget, not this, sets the pace.</summary>
    public int Concurrency { get; set; } = 8;

    /// <summary>Commands per vendor call where the vendor batches (Business Central $batch: 100; Salesforce collections: 200).</summary>
    public int BatchSize { get; set; } = 50;

    /// <summary>Per system (<c>erp</c>, <c>crm</c>, <c>shopify</c>) over <see cref="BatchSize"/>; Shopify's inventory sets take up to 250 quantities by default.</summary>
    public Dictionary<string, int> BatchSizes { get; set; } = new(StringComparer.Ordinal);

    public int BatchSizeFor(string system) => BatchSizes.TryGetValue(system, out var size) ? size : system == "shopify" ? 250 : BatchSize;

    /// <summary>How long an order's ERP submission waits for the CRM context of its customer before going without it.</summary>
    public TimeSpan CrmContextWait { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The delay before retry <paramref name="attempt"/>: exponential from <see cref="RetryBaseDelay"/>, capped at <see cref="MaxDelay"/>.</summary>
    public TimeSpan Backoff(int attempt)
    {
        var exponential = RetryBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 16));
        // Between half and all of the exponential delay, so the retries of many commands spread out.
        var jittered = exponential * (0.5 + (Random.Shared.NextDouble() / 2));
        return TimeSpan.FromMilliseconds(Math.Min(jittered, MaxDelay.TotalMilliseconds));
    }

    /// <summary>How often the sweeper looks for owners whose commands stay unfinished.</summary>
    public TimeSpan SweepPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>An owner listed for longer than this is nudged to send its unfinished commands again.</summary>
    public TimeSpan SweepAge { get; set; } = TimeSpan.FromMinutes(1);
}
