using Microsoft.Extensions.Time.Testing;
using RetailSync.Connectors.Resilience;
using RetailSync.Platform;

namespace RetailSync.Tests.Connectors;

/// <summary>The budget's schedule on a fake clock: a short burst goes at once, then the pace; no window exceeds the limit.</summary>
public sealed class RateBudgetScheduleTests
{
    [Fact]
    public async Task after_a_quiet_spell_the_burst_goes_at_once_then_requests_are_paced()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var budget = new RateBudgetGrain(clock);
        var waits = new List<TimeSpan>();
        for (var i = 0; i < 6; i++)
        {
            waits.Add(await budget.ReserveAsync(1, 10, burst: 3));
        }

        // Slots 0, 100, 200, ... ms; each may go 300 ms early: four at once, then 100 ms apart.
        Assert.Equal([0, 0, 0, 0, 100, 200], waits.Select(w => (int)w.TotalMilliseconds));

        // A quiet second later the burst is back.
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(TimeSpan.Zero, await budget.ReserveAsync(1, 10, burst: 3));
    }

    [Theory]
    [InlineData(50, 0.97)]
    [InlineData(200, 0.95)]
    [InlineData(1000, 0.9)]
    [InlineData(20, 0.9)]
    public async Task no_one_second_window_holds_more_than_the_limit_even_with_late_senders(double limit, double headroom)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var budget = new RateBudgetGrain(clock);
        var rate = limit * headroom;
        var burst = ClusterRateLimiter.Burst(limit, headroom);
        var tolerance = ClusterRateLimiter.Tolerance(headroom);
        var sends = new List<DateTimeOffset>();
        var random = new Random(7);
        // Demand far above the rate, arriving in clumps with quiet spells; each sender goes anywhere up to the tolerated lateness.
        for (var step = 0; step < 4000; step++)
        {
            var demand = random.Next(0, 4) == 0 ? random.Next(1, 40) : 0;
            for (var i = 0; i < demand; i++)
            {
                var wait = await budget.ReserveAsync(1, rate, burst);
                sends.Add(clock.GetUtcNow() + wait + (random.Next(0, 2) == 0 ? tolerance : TimeSpan.Zero));
            }

            clock.Advance(TimeSpan.FromMilliseconds(random.Next(1, 30)));
        }

        sends.Sort();
        var most = 0;
        for (int first = 0, last = 0; last < sends.Count; last++)
        {
            while (sends[last] - sends[first] >= TimeSpan.FromSeconds(1))
            {
                first++;
            }

            most = Math.Max(most, last - first + 1);
        }

        Assert.True(most <= limit, $"{most} requests in one second at a limit of {limit} (burst {burst})");
    }
}
