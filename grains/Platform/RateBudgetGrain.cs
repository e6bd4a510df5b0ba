namespace RetailSync.Platform;

/// <summary>
/// Keeps one vendor's limit for the cluster (see <see cref="RatePlan"/>). The vendor counts a request
/// somewhere between our sending it and our reading its answer; so a request counts here from its
/// reservation until a second after its answer, and a slot is given only when that count leaves room:
/// no second at the vendor can hold more than the cap, whatever pauses or the network do to the timing.
/// Within that bound slots are paced evenly. When the pace falls behind because the senders stalled while
/// queueing for slots (a pause), the lost time becomes credit and the next slots go at the shorter spacing
/// until it is made up; idle time is not made up. After a quiet spell the plan's burst may go at once. In
/// memory: after a move the counts restart empty, and the requests counted before have been answered for
/// a second by the time the new activation has given out a second's worth.
/// </summary>
public sealed class RateBudgetGrain(TimeProvider clock) : Grain, IRateBudgetGrain
{
    private const long Second = TimeSpan.TicksPerSecond;

    /// <summary>A reservation not answered by then is forgotten (its sender crashed): longer than any request may take.</summary>
    private static readonly long Forgotten = TimeSpan.FromSeconds(90).Ticks;

    // Reserved, not answered yet: ticket → (requests, slot). They count whenever the vendor saw them.
    private readonly Dictionary<long, (int Permits, long Slot)> open = [];
    private int openPermits;

    // When answered requests stop counting: answer + 1 s (UTC ticks), ascending, only those still ahead.
    private readonly List<long> counted = [];

    // Tickets go on from the activation's start (UTC ticks), so an answer to a reservation of an earlier
    // activation (before a move) never matches one of this one's.
    private long tickets = clock.GetUtcNow().UtcTicks;

    // Where the pace has got to, and the latest slot handed out (new ones come at or after it).
    private long last = long.MinValue;
    private long newest = long.MinValue;

    // Time to make up by going faster than the pace, and until when it can be (a gap only helps the
    // seconds that contain it).
    private long credit;
    private long creditUntil;

    // When a sender last had to wait for the pace (its slot a pace or more away, or "ask again"): slots
    // that pass unused right after that are a stall of the senders (a pause), not idle time.
    private long queuedAt = long.MinValue;

    public Task<RateSlot> ReserveSlotAsync(int permits, RatePlan plan)
    {
        var now = clock.GetUtcNow().UtcTicks;
        var pace = plan.Pace.Ticks;
        Forget(now);
        if (last != long.MinValue && now > last + pace)
        {
            // Nobody was ready when the next slot came. Senders queueing until just before: they were held up
            // (a pause), and the gap is made up. Otherwise nobody wanted the slots: idle time owes nothing, and
            // making it up would only crowd the start of the next busy spell.
            if (queuedAt >= last - plan.Lookahead.Ticks)
            {
                Credit(now, now - (last + pace), last + pace + Second);
            }

            last = now - pace;
        }

        // Each permit is a request the vendor counts: each gets a slot, and the sender waits for the last.
        // `after` is where the pace has got to; a slot may be up to the burst ahead of it.
        var (slot, after, spent) = (Math.Max(now, newest), last, 0L);
        var ahead = plan.Burst * pace;
        var requests = Math.Max(1, permits);
        for (var i = 0; i < requests; i++)
        {
            var step = pace;
            if (credit - spent > 0 && after + plan.Spacing.Ticks < creditUntil)
            {
                step = Math.Max(plan.Spacing.Ticks, pace - (credit - spent));
                spent += pace - step;
            }

            var due = after == long.MinValue ? now : after + step;
            slot = Math.Max(slot, due - ahead);
            // Room under the cap at the slot: requests not answered yet count wherever the vendor saw them,
            // answered ones until a second after their answer; wait until enough of the latter stop counting.
            var excess = openPermits + i + 1 + counted.Count - plan.Cap;
            if (excess > counted.Count)
            {
                // The cap is all in flight: ask again once answers can have come.
                queuedAt = now;
                return Task.FromResult(new RateSlot(plan.Lookahead, 0, false));
            }

            if (excess > 0)
            {
                slot = Math.Max(slot, counted[excess - 1]);
            }

            after = Math.Max(due, slot);
        }

        if (slot - now >= pace)
        {
            queuedAt = now;
        }

        if (slot - now > plan.Lookahead.Ticks)
        {
            // Not yet: holding a slot far ahead would keep a gap that opens meanwhile from being made up soon.
            return Task.FromResult(new RateSlot(TimeSpan.FromTicks(slot - now - plan.Lookahead.Ticks), 0, false));
        }

        var ticket = ++tickets;
        open[ticket] = (requests, slot);
        openPermits += requests;
        newest = Math.Max(newest, slot);
        last = after;
        credit -= spent;
        return Task.FromResult(new RateSlot(TimeSpan.FromTicks(slot - now), ticket, true));
    }

    public Task AnsweredAsync(long ticket, TimeSpan afterSlot)
    {
        if (open.Remove(ticket, out var reservation))
        {
            openPermits -= reservation.Permits;
            var until = reservation.Slot + Math.Max(0, afterSlot.Ticks) + Second;
            var at = counted.BinarySearch(until);
            counted.InsertRange(at >= 0 ? at : ~at, Enumerable.Repeat(until, reservation.Permits));
        }

        return Task.CompletedTask;
    }

    private void Forget(long now)
    {
        var gone = 0;
        while (gone < counted.Count && counted[gone] <= now)
        {
            gone++;
        }

        counted.RemoveRange(0, gone);
        List<long>? stale = null;
        foreach (var (ticket, reservation) in open)
        {
            if (reservation.Slot < now - Forgotten)
            {
                (stale ??= []).Add(ticket);
            }
        }

        foreach (var ticket in stale ?? [])
        {
            openPermits -= open[ticket].Permits;
            open.Remove(ticket);
        }
    }

    private void Credit(long now, long time, long until)
    {
        if (until <= now)
        {
            return;
        }

        credit = creditUntil > now ? Math.Min(credit + time, Second) : Math.Min(time, Second);
        creditUntil = Math.Max(creditUntil, until);
    }
}
