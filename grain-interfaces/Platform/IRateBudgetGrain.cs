using Orleans.Concurrency;

namespace RetailSync.Platform;

/// <summary>
/// One vendor's request budget for the whole cluster (one activation, keyed by system): every silo
/// reserves its requests here, so together they never exceed the vendor's limit.
/// </summary>
[Alias("RetailSync.Platform.IRateBudgetGrain")]
public interface IRateBudgetGrain : IGrainWithStringKey
{
    /// <summary>
    /// Reserves the earliest slot the plan allows for <paramref name="permits"/> requests. A sender that
    /// woke too late for its slot hands it back as <paramref name="missed"/> (its ticket), so the slot's
    /// place in the window goes to the next reservation instead of being lost.
    /// </summary>
    [Alias("ReserveSlot")]
    Task<RateSlot> ReserveSlotAsync(int permits, RatePlan plan, long? missed);

    /// <summary>
    /// The request of slot <paramref name="ticket"/> went <paramref name="late"/> after it: the log then
    /// holds the time the vendor saw, so a late request never adds to a second it was not counted in.
    /// </summary>
    [OneWay, Alias("Sent")]
    Task SentAsync(long ticket, TimeSpan late);
}

/// <summary>
/// When to send (a wait, so silos' clocks need not agree) and the ticket that names the slot; or, when
/// not <see cref="Reserved"/>, when to ask again (the free slots are further ahead than the plan's lookahead).
/// </summary>
[GenerateSerializer, Immutable, Alias("RetailSync.Platform.RateSlot")]
public readonly record struct RateSlot([property: Id(0)] TimeSpan Wait, [property: Id(1)] long Ticket, [property: Id(2)] bool Reserved);

/// <summary>
/// How a vendor's limit of <see cref="Limit"/> requests in any one second is used. The budget paces
/// slots <see cref="Pace"/> apart and never lets a second hold more than <see cref="Cap"/> of them,
/// counting each request at the time it really went; after a gap (a slot handed back, or no sender
/// ready) slots go as close as <see cref="Spacing"/> until the gap is made up, and after a quiet spell
/// <see cref="Burst"/> requests may go at once ahead of the pace. Senders go at most
/// <see cref="Tolerance"/> after their slot; later ones hand it back and reserve again, so requests
/// do not bunch up (after two hand-backs a sender goes anyway and says when). A second at the vendor then holds at most the cap plus the requests the network
/// held back across its start: <see cref="Limit"/> − <see cref="Cap"/> is kept for those. Slots are
/// reserved at most <see cref="Lookahead"/> ahead, so a gap is made up soon after it opens.
/// </summary>
[GenerateSerializer, Immutable, Alias("RetailSync.Platform.RatePlan")]
public readonly record struct RatePlan(
    [property: Id(0)] double Limit,
    [property: Id(1)] int Cap,
    [property: Id(2)] TimeSpan Pace,
    [property: Id(3)] TimeSpan Spacing,
    [property: Id(4)] TimeSpan Tolerance,
    [property: Id(5)] TimeSpan Lookahead,
    [property: Id(6)] int Burst)
{
    /// <summary>
    /// The plan for a vendor limit and the share of it we use (<paramref name="headroom"/> below 1): the
    /// pace is headroom × limit a second; the cap that pace rounded up, at most limit − 1 (the request a
    /// second may gain at its start when the network holds one back); the catch-up spacing 0.8 / limit;
    /// of the margin between cap and limit, half less one may go at once after a quiet spell, and the
    /// tolerance is half of what the rest allows (the other half is for the network), at most 50 ms; the
    /// lookahead is two paces, at least 25 ms.
    /// </summary>
    public static RatePlan For(double limit, double headroom)
    {
        if (limit < 2)
        {
            // Below 2/s a second cannot spare a request for late senders: plain pacing at headroom × limit,
            // a request never more than the margin's half late.
            var slow = TimeSpan.FromSeconds(Math.Max(1, 1 / (limit * headroom)));
            return new RatePlan(limit, 1, slow, slow, TimeSpan.FromSeconds(Math.Clamp((1 - headroom) / headroom / 2, 0.001, 0.05)), slow, 0);
        }

        var cap = Math.Clamp((int)Math.Floor(limit * headroom) + 1, 1, (int)Math.Ceiling(limit) - 1);
        var pace = TimeSpan.FromTicks((long)Math.Ceiling(TimeSpan.TicksPerSecond / Math.Min(limit * headroom, cap)));
        var spacing = TimeSpan.FromSeconds(0.8 / limit);
        // The requests a second may gain at its start: some go at once after a quiet spell, the rest
        // covers late senders (half of what is left, the other half the network).
        var margin = Math.Max(1, (int)Math.Floor(limit) - cap);
        var burst = Math.Max(0, margin / 2 - 1);
        var tolerance = TimeSpan.FromSeconds(Math.Clamp((margin - burst) * spacing.TotalSeconds / 2, 0.0005, 0.05));
        var lookahead = TimeSpan.FromTicks(Math.Max(2 * pace.Ticks, TimeSpan.FromMilliseconds(25).Ticks));
        return new RatePlan(limit, cap, pace, spacing, tolerance, lookahead, burst);
    }
}
