namespace RetailSync.Platform;

/// <summary>
/// Virtual scheduling (GCRA without burst): each reservation takes the next slot 1/rate after the
/// previous one, so any one-second window holds at most <c>rate</c> reservations. In memory: after a
/// move the schedule restarts at "now", which is never earlier than slots already handed out elapse.
/// </summary>
public sealed class RateBudgetGrain(TimeProvider clock) : Grain, IRateBudgetGrain
{
    private DateTimeOffset nextSlot = DateTimeOffset.MinValue;

    public Task<TimeSpan> ReserveAsync(int permits, double perSecond)
    {
        var now = clock.GetUtcNow();
        var slot = nextSlot > now ? nextSlot : now;
        nextSlot = slot + TimeSpan.FromSeconds(permits / perSecond);
        return Task.FromResult(slot - now);
    }
}
