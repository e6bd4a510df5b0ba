using Microsoft.Extensions.Time.Testing;
using RetailSync.Platform;

namespace RetailSync.Tests.Connectors;

/// <summary>The budget's schedule on a fake clock: even pace, catch-up after gaps, late requests logged when they went, no second over the limit.</summary>
public sealed class RateBudgetScheduleTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    private static int Ms(RateSlot slot) => (int)Math.Round(slot.Wait.TotalMilliseconds);

    [Fact]
    public void the_plan_paces_at_the_headroom_and_keeps_one_request_of_the_limit_for_the_network()
    {
        var plan = RatePlan.For(50, 0.97);
        Assert.Equal(49, plan.Cap);
        Assert.Equal(1 / 48.5, plan.Pace.TotalSeconds, 6);
        Assert.Equal(TimeSpan.FromMilliseconds(16), plan.Spacing);
        Assert.Equal(TimeSpan.FromMilliseconds(8), plan.Tolerance);
        // A headroom that would reach the limit still leaves the one request.
        Assert.Equal(49, RatePlan.For(50, 0.999).Cap);
        Assert.Equal(1 / 49.0, RatePlan.For(50, 0.999).Pace.TotalSeconds, 6);
        Assert.Equal(0, plan.Burst);
        // A wider margin allows a burst after a quiet spell and later senders: at 0.9, a cap of 46 leaves four
        // requests, one for the burst, of the other three half (24 ms) for late senders.
        Assert.Equal(46, RatePlan.For(50, 0.9).Cap);
        Assert.Equal(1, RatePlan.For(50, 0.9).Burst);
        Assert.Equal(TimeSpan.FromMilliseconds(24), RatePlan.For(50, 0.9).Tolerance);
        Assert.Equal(48, RatePlan.For(1000, 0.9).Burst);
    }

    [Fact]
    public async Task slots_come_at_the_pace_and_no_further_ahead_than_the_lookahead()
    {
        var clock = new FakeTimeProvider(Start);
        var budget = new RateBudgetGrain(clock);
        var plan = RatePlan.For(10, 0.9);

        // 9 a second: 111 ms apart, reserved at most two paces (222 ms) ahead.
        var waits = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            waits.Add(Ms(await budget.ReserveSlotAsync(1, plan, null)));
        }

        Assert.Equal([0, 111, 222], waits);
        var notYet = await budget.ReserveSlotAsync(1, plan, null);
        Assert.False(notYet.Reserved);
        Assert.Equal(111, Ms(notYet));

        clock.Advance(notYet.Wait);
        var next = await budget.ReserveSlotAsync(1, plan, null);
        Assert.True(next.Reserved);
        Assert.Equal(222, Ms(next));

        // After a quiet spell the next one goes at once.
        clock.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(0, Ms(await budget.ReserveSlotAsync(1, plan, null)));
    }

    [Fact]
    public async Task after_a_quiet_spell_the_burst_goes_at_once_then_the_pace()
    {
        var clock = new FakeTimeProvider(Start);
        var budget = new RateBudgetGrain(clock);
        // 900 a second, 48 requests ahead of the pace allowed: a lone order's calls never wait for each other.
        var plan = RatePlan.For(1000, 0.9);
        for (var i = 0; i < 49; i++)
        {
            Assert.Equal(TimeSpan.Zero, (await budget.ReserveSlotAsync(1, plan, null)).Wait);
        }

        Assert.Equal(plan.Pace, (await budget.ReserveSlotAsync(1, plan, null)).Wait);
    }

    [Fact]
    public async Task a_slot_handed_back_by_a_late_sender_is_made_up_by_going_faster_than_the_pace()
    {
        var clock = new FakeTimeProvider(Start);
        var budget = new RateBudgetGrain(clock);
        var plan = RatePlan.For(10, 0.9);
        await budget.ReserveSlotAsync(1, plan, null);
        await budget.ReserveSlotAsync(1, plan, null);
        var third = await budget.ReserveSlotAsync(1, plan, null);

        // Its sender (slot at 222 ms) wakes at 300 ms, later than the 40 ms tolerance, and hands it back.
        clock.Advance(TimeSpan.FromMilliseconds(300));
        var again = await budget.ReserveSlotAsync(1, plan, third.Ticket);

        // The next slots come 80 ms apart (the catch-up spacing) instead of 111, until the slot is made up:
        // 302 and 382 ms, where the pace alone would give 333 and 444.
        Assert.Equal(2, Ms(again));
        Assert.Equal(82, Ms(await budget.ReserveSlotAsync(1, plan, null)));
    }

    [Fact]
    public async Task a_request_that_went_late_is_counted_in_the_second_it_went()
    {
        var clock = new FakeTimeProvider(Start);
        var budget = new RateBudgetGrain(clock);
        // At most two a second, paced 500 ms apart.
        var plan = RatePlan.For(3, 0.9);
        Assert.Equal(2, plan.Cap);
        var first = await budget.ReserveSlotAsync(1, plan, null);
        await budget.SentAsync(first.Ticket, TimeSpan.FromMilliseconds(100));
        Assert.Equal(500, Ms(await budget.ReserveSlotAsync(1, plan, null)));

        // The third waits until the first has been out for a second, counted from when it went: 1,100 ms, not 1,000.
        clock.Advance(TimeSpan.FromMilliseconds(500));
        Assert.Equal(600, Ms(await budget.ReserveSlotAsync(1, plan, null)));
    }

    /// <summary>
    /// Senders in a closed loop (a busy dispatcher), simulated event by event: most go on time, some up to
    /// the tolerance late (and say so), one in ten wakes later than that and hands its slot back; the
    /// network then holds each request back up to another tolerance. Demand pauses once.
    /// </summary>
    [Theory]
    [InlineData(50, 0.97)]
    [InlineData(50, 0.9)]
    [InlineData(200, 0.95)]
    [InlineData(1000, 0.9)]
    [InlineData(20, 0.9)]
    public async Task under_load_with_late_senders_no_second_exceeds_the_limit_and_the_backlog_gets_the_pace(double limit, double headroom)
    {
        var clock = new FakeTimeProvider(Start);
        var budget = new RateBudgetGrain(clock);
        var plan = RatePlan.For(limit, headroom);
        var random = new Random(11);
        var events = new PriorityQueue<Func<Task>, long>();
        var arrivals = new List<long>();
        var quiet = (From: TimeSpan.FromSeconds(8), To: TimeSpan.FromSeconds(10));
        var end = TimeSpan.FromSeconds(16);
        var handedBack = 0;

        void At(long ticks, Func<Task> action) => events.Enqueue(action, ticks);
        long Upto(TimeSpan span) => random.NextInt64(span.Ticks + 1);
        async Task Reserve(long? missed)
        {
            var now = clock.GetUtcNow().UtcTicks;
            var slot = await budget.ReserveSlotAsync(1, plan, missed);
            var wake = now + slot.Wait.Ticks;
            if (!slot.Reserved)
            {
                At(wake + (random.Next(3) == 0 ? Upto(TimeSpan.FromMilliseconds(20)) : 0), () => Reserve(null));
                return;
            }

            if (random.Next(10) == 0)
            {
                handedBack++;
                At(wake + plan.Tolerance.Ticks + 1 + Upto(TimeSpan.FromMilliseconds(30)), () => Reserve(slot.Ticket));
                return;
            }

            var late = random.Next(3) == 0 ? Upto(plan.Tolerance) : 0;
            At(wake + late, async () =>
            {
                if (late > 0)
                {
                    await budget.SentAsync(slot.Ticket, TimeSpan.FromTicks(late));
                }

                // Held back in the network, up to the other half of the margin.
                var arrived = wake + late + Upto(plan.Tolerance);
                At(arrived, () =>
                {
                    arrivals.Add(arrived);
                    // The vendor's answer, then the sender's next request, unless demand has paused.
                    var next = arrived + TimeSpan.FromMilliseconds(random.Next(5, 40)).Ticks;
                    var at = next - Start.UtcTicks;
                    if (at >= quiet.From.Ticks && at < quiet.To.Ticks)
                    {
                        next = Start.UtcTicks + quiet.To.Ticks + Upto(TimeSpan.FromMilliseconds(200));
                    }

                    if (next - Start.UtcTicks < end.Ticks)
                    {
                        At(next, () => Reserve(null));
                    }

                    return Task.CompletedTask;
                });
            });
        }

        // Enough senders to keep a backlog, as the dispatcher's concurrency does.
        for (var i = 0; i < (int)limit / 10 + 8; i++)
        {
            At(Start.UtcTicks + Upto(TimeSpan.FromMilliseconds(50)), () => Reserve(null));
        }

        while (events.TryDequeue(out var action, out var at))
        {
            clock.SetUtcNow(new DateTimeOffset(Math.Max(at, clock.GetUtcNow().UtcTicks), TimeSpan.Zero));
            await action();
        }

        arrivals.Sort();
        var most = 0;
        for (int first = 0, last = 0; last < arrivals.Count; last++)
        {
            while (arrivals[last] - arrivals[first] >= TimeSpan.TicksPerSecond)
            {
                first++;
            }

            most = Math.Max(most, last - first + 1);
        }

        int In(double from, double to) => arrivals.Count(a => a >= Start.UtcTicks + TimeSpan.FromSeconds(from).Ticks && a < Start.UtcTicks + TimeSpan.FromSeconds(to).Ticks);
        var pace = TimeSpan.FromSeconds(1) / plan.Pace;
        var busy = In(1, 8) / 7.0;
        Assert.True(handedBack > 0);
        Assert.True(most <= limit, $"{most} requests in one second at a limit of {limit} (cap {plan.Cap})");
        // Backlogged from the first second to the quiet spell: the vendor saw the pace, the handed-back slots
        // nearly all made up (were they lost, it would see 0.9 of it).
        Assert.True(busy >= pace * 0.97, $"{busy:F1} requests a second while backlogged at a pace of {pace:F1} ({handedBack} slots handed back)");
        Assert.True(In(10, 11) >= pace * 0.9, $"{In(10, 11)} requests in the second after the quiet spell");
    }
}
