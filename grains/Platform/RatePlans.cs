namespace RetailSync.Platform;

/// <summary>How a vendor's documented limit becomes the <see cref="RatePlan"/> the cluster-wide budget paces by.</summary>
public static class RatePlans
{
    /// <summary>
    /// The plan for a vendor limit and the share of it we pace at (<paramref name="headroom"/>, at most 1):
    /// the cap is the limit itself (whole requests); the pace headroom × limit a second; the catch-up spacing
    /// 0.8 / limit; of the requests the headroom leaves unused each second, half less one may go at once
    /// after a quiet spell; the lookahead is two paces, at least 25 ms.
    /// </summary>
    public static RatePlan For(double limit, double headroom)
    {
        var cap = Math.Max(1, (int)Math.Floor(limit));
        var rate = Math.Min(limit * Math.Min(headroom, 1), cap);
        if (limit < 2)
        {
            // Below 2/s: plain pacing, one request a slot.
            var slow = TimeSpan.FromSeconds(Math.Max(1, 1 / rate));
            return new RatePlan(limit, cap, slow, slow, slow, 0);
        }

        var pace = TimeSpan.FromTicks((long)Math.Ceiling(TimeSpan.TicksPerSecond / rate));
        var spacing = TimeSpan.FromSeconds(0.8 / limit);
        var burst = Math.Max(0, (cap - (int)Math.Floor(rate)) / 2 - 1);
        var lookahead = TimeSpan.FromTicks(Math.Max(2 * pace.Ticks, TimeSpan.FromMilliseconds(25).Ticks));
        return new RatePlan(limit, cap, pace, spacing, lookahead, burst);
    }
}
