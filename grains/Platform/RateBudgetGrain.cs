namespace RetailSync.Platform;

/// <summary>
/// Paces slots evenly (see <see cref="RatePlan"/>) and keeps a one-second log of them, as the vendors
/// count requests themselves; no slot may make a second hold more than the cap. When the pace falls
/// behind (a slot handed back by a late sender, or no sender ready when a slot came) the lost time
/// becomes credit, and the next slots go at the shorter spacing until it is made up: a fixed pace would
/// lose those slots. (A log alone would not do: each second would repeat the last one's pattern, gaps
/// included.) After a quiet spell the plan's burst may go at once. In memory: after a move the log
/// restarts empty, and the slots handed out before have elapsed by the time the new activation's first
/// second fills.
/// </summary>
public sealed class RateBudgetGrain(TimeProvider clock) : Grain, IRateBudgetGrain
{
    private const long Second = TimeSpan.TicksPerSecond;

    // Slot times (UTC ticks) still inside the last second or ahead of now, ascending: handed-back slots
    // leave from the middle, late ones move later (SentAsync).
    private readonly List<long> slots = [];
    private long last = long.MinValue;

    // The latest slot handed out: new ones come at or after it (a late request moved in the log does not count).
    private long newest = long.MinValue;

    // Time to make up by going faster than the pace, and until when it can be (a gap only helps the
    // seconds that contain it).
    private long credit;
    private long creditUntil;

    public Task<RateSlot> ReserveSlotAsync(int permits, RatePlan plan, long? missed)
    {
        var now = clock.GetUtcNow().UtcTicks;
        var pace = plan.Pace.Ticks;
        if (missed is { } ticket && slots.BinarySearch(ticket) is var found and >= 0)
        {
            slots.RemoveAt(found);
            Credit(now, pace, ticket + Second);
        }

        var expired = 0;
        while (expired < slots.Count && slots[expired] <= now - Second)
        {
            expired++;
        }

        slots.RemoveRange(0, expired);
        if (last != long.MinValue && now > last + pace)
        {
            // Nobody was ready when the next slot came: the gap is made up like a handed-back slot.
            Credit(now, now - (last + pace), last + pace + Second);
            last = now - pace;
        }

        // Each permit is a request the vendor counts: each gets a slot, and the sender waits for the last.
        // `after` is where the pace has got to; a slot may be up to the burst ahead of it.
        var (slot, after, spent) = (Math.Max(now, newest), last, 0L);
        var ahead = plan.Burst * pace;
        var placed = new long[Math.Max(0, permits)];
        for (var i = 0; i < placed.Length; i++)
        {
            var step = pace;
            if (credit - spent > 0 && after + plan.Spacing.Ticks < creditUntil)
            {
                step = Math.Max(plan.Spacing.Ticks, pace - (credit - spent));
                spent += pace - step;
            }

            var due = after == long.MinValue ? now : after + step;
            slot = Math.Max(slot, due - ahead);
            // The second (slot − 1 s, slot] may hold cap − 1 others: wait for the cap-th newest to leave.
            var others = slots.Count + i;
            if (others >= plan.Cap)
            {
                var index = others - plan.Cap;
                slot = Math.Max(slot, (index < slots.Count ? slots[index] : placed[index - slots.Count]) + Second);
            }

            placed[i] = slot;
            after = Math.Max(due, slot);
        }

        if (placed.Length > 0 && placed[0] - now > plan.Lookahead.Ticks)
        {
            // Not yet: holding a slot far ahead would keep a gap that opens meanwhile from being made up soon.
            return Task.FromResult(new RateSlot(TimeSpan.FromTicks(placed[0] - now - plan.Lookahead.Ticks), 0, false));
        }

        foreach (var placedSlot in placed)
        {
            // In order; usually at the end, before a late request's entry when one went after this slot.
            var at = slots.BinarySearch(placedSlot);
            slots.Insert(at >= 0 ? at : ~at, placedSlot);
        }

        newest = Math.Max(newest, slot);
        last = after;
        credit -= spent;
        return Task.FromResult(new RateSlot(TimeSpan.FromTicks(slot - now), slot, true));
    }

    public Task SentAsync(long ticket, TimeSpan late)
    {
        if (late > TimeSpan.Zero && slots.BinarySearch(ticket) is var found and >= 0)
        {
            // Moved to when it went; the list stays in order (a later slot may now come before it).
            slots.RemoveAt(found);
            var at = slots.BinarySearch(ticket + late.Ticks);
            slots.Insert(at >= 0 ? at : ~at, ticket + late.Ticks);
        }

        return Task.CompletedTask;
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
