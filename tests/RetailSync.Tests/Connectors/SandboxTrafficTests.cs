using Microsoft.Extensions.Time.Testing;
using RetailSync.Sandbox.Faults;

namespace RetailSync.Tests.Connectors;

/// <summary>The sandbox's own count of a vendor's limit: a sliding second, with admissions and refusals on record.</summary>
public sealed class SandboxTrafficTests
{
    [Fact]
    public void a_sliding_second_holds_the_limit_and_each_refusal_is_recorded_when_it_came()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var traffic = new SystemTraffic("bc", clock);
        traffic.Set(new FaultSettings("bc", RateLimitPerSecond: 2));

        Assert.True(traffic.Admit());
        clock.Advance(TimeSpan.FromMilliseconds(400));
        Assert.True(traffic.Admit());
        clock.Advance(TimeSpan.FromMilliseconds(400));
        var refusedAt = clock.GetUtcNow();
        Assert.False(traffic.Admit());

        // A second after the first admission it has left the window.
        clock.Advance(TimeSpan.FromMilliseconds(200));
        Assert.True(traffic.Admit());

        Assert.Equal([refusedAt], traffic.Refusals());
        Assert.Equal(3, traffic.Admissions().Length);
        Assert.Equal(1, traffic.RejectedByRateLimit);
        Assert.Equal(2, traffic.MaxPerSecond());
    }
}
