using Microsoft.Extensions.Time.Testing;
using RetailSync.Platform;
using Xunit.Abstractions;

namespace RetailSync.Tests.Connectors;

/// <summary>The budget's schedule on a fake clock: even pace, requests counted until a second after their answer, catch-up after stalls, no second over the limit.</summary>
public sealed class RateBudgetScheduleTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset Start = DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    private static int Ms(RateSlot slot) => (int)Math.Round(slot.Wait.TotalMilliseconds);

    [Fact]
    public void the_plan_caps_at_the_limit_and_paces_at_the_headroom()
    {
        var plan = RatePlans.For(50, 0.97);
        Assert.Equal(50, plan.Cap);
        Assert.Equal(1 / 48.5, plan.Pace.TotalSeconds, 6);
        Assert.Equal(TimeSpan.FromMilliseconds(16), plan.Spacing);
        Assert.Equal(TimeSpan.FromTicks(2 * plan.Pace.Ticks), plan.Lookahead);
        Assert.Equal(0, plan.Burst);
        // A headroom above 1 paces at the limit, never faster.
        Assert.Equal(1 / 50.0, RatePlans.For(50, 1.2).Pace.TotalSeconds, 6);
        // Of the requests the headroom leaves unused, half less one may go at once after a quiet spell.
        Assert.Equal(1, RatePlans.For(50, 0.9).Burst);
        Assert.Equal(49, RatePlans.For(1000, 0.9).Burst);
        // Whole requests: a limit of 2.5 a second allows 2 in any second; below 2 a second, plain pacing.
        Assert.Equal(2, RatePlans.For(2.5, 1).Cap);
        Assert.Equal(1, RatePlans.For(0.5, 0.9).Cap);
        Assert.Equal(TimeSpan.FromSeconds(1 / 0.45), RatePlans.For(0.5, 0.9).Pace);
    }

    [Fact]
    public async Task slots_come_at_the_pace_and_no_further_ahead_than_the_lookahead()
    {
        var clock = new FakeTimeProvider(Start);
        var budget = new RateBudgetGrain(clock);
        var plan = RatePlans.For(10, 0.9);

        // 9 a second: 111 ms apart, reserved at most two paces (222 ms) ahead.
        var waits = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            waits.Add(Ms(await budget.ReserveSlotAsync(1, plan)));
        }

        Assert.Equal([0, 111, 222], waits);
        var notYet = await budget.ReserveSlotAsync(1, plan);
        Assert.False(notYet.Reserved);
        Assert.Equal(111, Ms(notYet));

        clock.Advance(notYet.Wait);
        var next = await budget.ReserveSlotAsync(1, plan);
        Assert.True(next.Reserved);
        Assert.Equal(222, Ms(next));

        // After a quiet spell the next one goes at once.
        clock.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(0, Ms(await budget.ReserveSlotAsync(1, plan)));
    }

    [Fact]
    public async Task after_a_quiet_spell_the_burst_goes_at_once_then_the_pace()
    {
        var clock = new FakeTimeProvider(Start);
        var budget = new RateBudgetGrain(clock);
        // 900 a second, 49 requests ahead of the pace allowed: a lone order's calls never wait for each other.
        var plan = RatePlans.For(1000, 0.9);
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(TimeSpan.Zero, (await budget.ReserveSlotAsync(1, plan)).Wait);
        }

        Assert.Equal(plan.Pace, (await budget.ReserveSlotAsync(1, plan)).Wait);
    }

    [Fact]
    public async Task a_request_counts_from_its_reservation_until_a_second_after_its_answer()
    {
        var clock = new FakeTimeProvider(Start);
        var budget = new RateBudgetGrain(clock);
        // At most two in any second, paced 500 ms apart.
        var plan = RatePlans.For(2, 1);
        var first = await budget.ReserveSlotAsync(1, plan);
        var second = await budget.ReserveSlotAsync(1, plan);
        Assert.Equal([0, 500], new[] { Ms(first), Ms(second) });

        // Both unanswered: they count wherever the vendor saw them, so a third has no room yet.
        Assert.False((await budget.ReserveSlotAsync(1, plan)).Reserved);

        // Answered 100 ms and 50 ms after their slots: the third may go a second after the first answer
        // (1,100 ms), not a second after the first slot.
        await budget.AnsweredAsync(first.Ticket, TimeSpan.FromMilliseconds(100));
        clock.Advance(TimeSpan.FromMilliseconds(500));
        await budget.AnsweredAsync(second.Ticket, TimeSpan.FromMilliseconds(50));
        Assert.Equal(600, Ms(await budget.ReserveSlotAsync(1, plan)));
    }

    [Fact]
    public async Task a_stall_of_queueing_senders_is_made_up_by_going_faster_than_the_pace_and_idle_time_is_not()
    {
        // 9 a second, 111 ms apart; catch-up spacing 80 ms.
        var plan = RatePlans.For(10, 0.9);
        var clock = new FakeTimeProvider(Start);
        var budget = new RateBudgetGrain(clock);
        // Three senders queue (slots at 0, 111 and 222 ms), then all stall (a pause) until 400 ms: the slot at
        // 333 ms passed unused. The next slots come 80 ms apart until the 67 ms are made up.
        for (var i = 0; i < 3; i++)
        {
            await budget.ReserveSlotAsync(1, plan);
        }

        clock.Advance(TimeSpan.FromMilliseconds(400));
        Assert.Equal(0, Ms(await budget.ReserveSlotAsync(1, plan)));
        Assert.Equal(80, Ms(await budget.ReserveSlotAsync(1, plan)));

        // One sender, never queueing, then nobody for 400 ms: nothing owed, the pace as usual.
        var idleClock = new FakeTimeProvider(Start);
        var idle = new RateBudgetGrain(idleClock);
        await idle.ReserveSlotAsync(1, plan);
        idleClock.Advance(TimeSpan.FromMilliseconds(400));
        Assert.Equal(0, Ms(await idle.ReserveSlotAsync(1, plan)));
        Assert.Equal(111, Ms(await idle.ReserveSlotAsync(1, plan)));
    }

    /// <summary>
    /// Senders in a closed loop (a busy dispatcher), simulated event by event: most wake on time, one in three
    /// a few milliseconds late, one in ten up to 80 ms late (a pause); the network holds a request up to 30 ms
    /// before the vendor counts it, one in twenty up to 300 ms; the answer takes up to another 20 ms, and the
    /// sender tells the budget. Demand pauses once.
    /// </summary>
    [Theory]
    [InlineData(50, 0.97)]
    [InlineData(50, 0.9)]
    [InlineData(200, 0.95)]
    [InlineData(1000, 0.9)]
    [InlineData(20, 0.9)]
    public async Task under_load_with_late_senders_and_a_slow_network_no_second_exceeds_the_limit_and_the_backlog_gets_the_pace(double limit, double headroom)
    {
        var clock = new FakeTimeProvider(Start);
        var budget = new RateBudgetGrain(clock);
        var plan = RatePlans.For(limit, headroom);
        var random = new Random(11);
        var events = new PriorityQueue<Func<Task>, long>();
        var arrivals = new List<long>();
        var quiet = (From: TimeSpan.FromSeconds(8), To: TimeSpan.FromSeconds(10));
        var end = TimeSpan.FromSeconds(16);
        var paused = 0;

        void At(long ticks, Func<Task> action) => events.Enqueue(action, ticks);
        long Upto(TimeSpan span) => random.NextInt64(span.Ticks + 1);
        long Ms(int ms) => TimeSpan.FromMilliseconds(ms).Ticks;
        async Task Reserve()
        {
            var now = clock.GetUtcNow().UtcTicks;
            var slot = await budget.ReserveSlotAsync(1, plan);
            var wake = now + slot.Wait.Ticks;
            if (!slot.Reserved)
            {
                At(wake + (random.Next(3) == 0 ? Upto(TimeSpan.FromMilliseconds(20)) : 0), Reserve);
                return;
            }

            var late = random.Next(10) == 0 ? Upto(TimeSpan.FromMilliseconds(80)) : random.Next(3) == 0 ? Upto(TimeSpan.FromMilliseconds(4)) : 0;
            paused += late > Ms(10) ? 1 : 0;
            // Counted by the vendor after the network's delay; answered after its work.
            var arrived = wake + late + (random.Next(20) == 0 ? Upto(TimeSpan.FromMilliseconds(300)) : Upto(TimeSpan.FromMilliseconds(30)));
            var answered = arrived + Upto(TimeSpan.FromMilliseconds(20));
            At(arrived, () =>
            {
                arrivals.Add(arrived);
                return Task.CompletedTask;
            });
            At(answered, async () =>
            {
                await budget.AnsweredAsync(slot.Ticket, TimeSpan.FromTicks(answered - wake));
                // The sender's next request, unless demand has paused.
                var next = answered + Ms(random.Next(5, 40));
                var at = next - Start.UtcTicks;
                if (at >= quiet.From.Ticks && at < quiet.To.Ticks)
                {
                    next = Start.UtcTicks + quiet.To.Ticks + Upto(TimeSpan.FromMilliseconds(200));
                }

                if (next - Start.UtcTicks < end.Ticks)
                {
                    At(next, Reserve);
                }
            });
        }

        // Enough senders to keep a backlog, as the dispatcher's concurrency does.
        for (var i = 0; i < (int)limit / 10 + 8; i++)
        {
            At(Start.UtcTicks + Upto(TimeSpan.FromMilliseconds(50)), Reserve);
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
        Assert.True(paused > 0);
        Assert.True(most <= limit, $"{most} requests in one second at a limit of {limit}");
        // Backlogged from the first second to the quiet spell: the vendor saw the pace (or the most that
        // requests counted until a second after their answers allow), late senders and pauses included.
        Assert.True(busy >= pace * 0.95, $"{busy:F1} requests a second while backlogged at a pace of {pace:F1} ({paused} senders paused)");
        Assert.True(In(10, 11) >= pace * 0.9, $"{In(10, 11)} requests in the second after the quiet spell");
        output.WriteLine($"limit {limit}, pace {pace:F1}: {busy:F1} a second while backlogged, at most {most} in a second");
    }
}
