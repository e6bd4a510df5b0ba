namespace RetailSync.Platform;

/// <summary>
/// Virtual scheduling (GCRA): each reservation takes the next slot 1/rate after the previous one; a
/// request may go out up to <c>burst</c> slots ahead of its own, so after a quiet spell a few requests
/// go at once instead of queueing 1/rate apart (what a lone order's vendor calls would otherwise wait).
/// Any one-second window holds at most <c>rate + burst + 1</c> reservations. In memory: after a move the
/// schedule restarts at "now", which is never earlier than slots already handed out elapse.
/// </summary>
public sealed class RateBudgetGrain(TimeProvider clock) : Grain, IRateBudgetGrain
{
    private DateTimeOffset nextSlot = DateTimeOffset.MinValue;

    public Task<TimeSpan> ReserveAsync(int permits, double perSecond, int burst)
    {
        var now = clock.GetUtcNow();
        var slot = nextSlot > now ? nextSlot : now;
        nextSlot = slot + TimeSpan.FromSeconds(permits / perSecond);
        var send = slot - TimeSpan.FromSeconds(Math.Max(0, burst) / perSecond);
        return Task.FromResult(send > now ? send - now : TimeSpan.Zero);
    }
}
