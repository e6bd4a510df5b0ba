namespace RetailSync.Platform;

/// <summary>The nearest-rank percentile the KPIs report (order acceptance, refund cycle, inventory freshness).</summary>
public static class Percentiles
{
    /// <summary>The value at rank ⌈p·n⌉ of <paramref name="sorted"/> (ascending); null when there is none.</summary>
    public static double? Of(double[] sorted, double p) =>
        sorted.Length == 0 ? null : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
