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
    /// Reserves the earliest slot the plan allows for <paramref name="permits"/> requests. Each counts
    /// against the limit from now until a second after its answer (<see cref="AnsweredAsync"/>).
    /// </summary>
    [Alias("ReserveSlot")]
    Task<RateSlot> ReserveSlotAsync(int permits, RatePlan plan);

    /// <summary>
    /// The requests of slot <paramref name="ticket"/> were answered <paramref name="afterSlot"/> after the
    /// slot (measured by the sender; or they were never sent). The vendor counted them at some moment before
    /// that: from a second after it they no longer count.
    /// </summary>
    [OneWay, Alias("Answered")]
    Task AnsweredAsync(long ticket, TimeSpan afterSlot);
}

/// <summary>
/// When to send (a wait, so silos' clocks need not agree) and the ticket that names the slot; or, when
/// not <see cref="Reserved"/>, when to ask again (the free slots are further ahead than the plan's lookahead).
/// </summary>
[GenerateSerializer, Immutable, Alias("RetailSync.Platform.RateSlot")]
public readonly record struct RateSlot([property: Id(0)] TimeSpan Wait, [property: Id(1)] long Ticket, [property: Id(2)] bool Reserved);

/// <summary>
/// How a vendor's limit of <see cref="Limit"/> requests in any one second is used. The vendor counts a
/// request at some moment between our sending it and our reading its answer, so a request counts
/// against <see cref="Cap"/> from its reservation until a second after its answer: no second at the
/// vendor can then hold more than the cap, however late senders wake or long the network holds a
/// request. Within that bound slots are paced <see cref="Pace"/> apart; after a stall of senders that
/// were queueing (a pause) slots go as close as <see cref="Spacing"/> until the gap is made up, and after
/// a quiet spell <see cref="Burst"/> requests may go at once ahead of the pace. Slots are reserved at
/// most <see cref="Lookahead"/> ahead, so a gap is made up soon after it opens.
/// </summary>
[GenerateSerializer, Immutable, Alias("RetailSync.Platform.RatePlan")]
public readonly record struct RatePlan(
    [property: Id(0)] double Limit,
    [property: Id(1)] int Cap,
    [property: Id(2)] TimeSpan Pace,
    [property: Id(3)] TimeSpan Spacing,
    [property: Id(5)] TimeSpan Lookahead,
    [property: Id(6)] int Burst);
