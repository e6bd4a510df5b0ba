using System.Threading.Channels;

namespace RetailSync.Gateway.Webhooks;

/// <summary>
/// Hands accepted deliveries to their grains with bounded concurrency, intake first during a flood: while
/// deliveries arrive faster than <see cref="WebhookInboxOptions.IntakePriorityAbovePerSecond"/>, only
/// <see cref="WebhookInboxOptions.MinForwarders"/> forwarders run, so the processing the others would start
/// does not take the CPU that answers Shopify (which retries, adding load, when answers are slow). Once the
/// flood ends, or the oldest delivery waiting has waited <see cref="WebhookInboxOptions.IntakePriorityAtMost"/>,
/// all of them run. Kept apart from <see cref="PostgresWebhookInbox"/>, which owns the rows, so the policy
/// can be tested and reasoned about alone.
/// </summary>
/// <param name="completed">Called after each grain call, with its exception if it failed.</param>
/// <param name="waitingSince">When the oldest delivery waiting outside this queue arrived, if any.</param>
public sealed class WebhookForwarder(
    WebhookInboxOptions settings, IGrainFactory grains, TimeProvider clock,
    Func<WebhookForwarder.Item, Exception?, ValueTask> completed, Func<DateTimeOffset?>? waitingSince = null)
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(25);
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(250);
    private readonly Channel<Item> items = Channel.CreateUnbounded<Item>();
    private readonly List<Task> tasks = [];
    private TaskCompletionSource open = NewGate();
    private int queued;
    private long recorded;
    private bool intakeFirst;

    /// <summary>One delivery to hand to its grain; <paramref name="Id"/> is the caller's (the inbox row), <paramref name="Queued"/> when it was queued.</summary>
    public sealed record Item(long Id, string Description, ShopifyTopics.Apply Apply, DateTimeOffset Queued);

    /// <summary>Deliveries waiting in memory for a forwarder.</summary>
    public int Queued => Volatile.Read(ref queued);

    /// <summary>Whether intake has priority over forwarding now (a flood).</summary>
    public bool IntakeFirst => Volatile.Read(ref intakeFirst);

    /// <summary>Counts deliveries received, the measure of a flood.</summary>
    public void Recorded(int count) => Interlocked.Add(ref recorded, count);

    public bool TryQueue(long id, string description, ShopifyTopics.Apply apply)
    {
        Interlocked.Increment(ref queued);
        if (items.Writer.TryWrite(new Item(id, description, apply, clock.GetUtcNow())))
        {
            return true;
        }

        Interlocked.Decrement(ref queued);
        return false;
    }

    /// <summary>Starts the forwarders and the gate; stopping leaves what is queued unforwarded, to the owner's recovery.</summary>
    public void Start(CancellationToken stopping)
    {
        for (var i = 0; i < Math.Max(1, settings.Forwarders); i++)
        {
            var yields = i >= settings.MinForwarders;
            _ = Task.Run(() => ForwardAsync(yields, stopping), CancellationToken.None);
        }

        tasks.Add(Task.Run(() => GateAsync(stopping), CancellationToken.None));
    }

    /// <summary>Waits for the gate's loop; forwarders are not waited for (a grain call may hang on a dead silo).</summary>
    public Task StoppedAsync()
    {
        items.Writer.TryComplete();
        return Task.WhenAll(tasks);
    }

    /// <param name="yields">Whether this forwarder pauses while intake has priority.</param>
    private async Task ForwardAsync(bool yields, CancellationToken stopping)
    {
        try
        {
            while (await items.Reader.WaitToReadAsync(stopping))
            {
                if (yields)
                {
                    await Volatile.Read(ref open).Task.WaitAsync(stopping);
                }

                if (!items.Reader.TryRead(out var item))
                {
                    continue;
                }

                Interlocked.Decrement(ref queued);
                Exception? error = null;
                try
                {
                    await item.Apply(grains);
                }
                catch (Exception ex)
                {
                    error = ex;
                }

                await completed(item, error);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task GateAsync(CancellationToken stopping)
    {
        var window = new Queue<(DateTimeOffset At, long Recorded)>();
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Tick, clock, stopping);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            var now = clock.GetUtcNow();
            window.Enqueue((now, Interlocked.Read(ref recorded)));
            while (now - window.Peek().At > Window)
            {
                window.Dequeue();
            }

            var (since, before) = window.Peek();
            var perSecond = since < now ? (window.Last().Recorded - before) / (now - since).TotalSeconds : 0;
            var waited = items.Reader.TryPeek(out var head) ? now - head.Queued : TimeSpan.Zero;
            if (waitingSince?.Invoke() is { } outside && now - outside > waited)
            {
                waited = now - outside;
            }

            var first = perSecond > settings.IntakePriorityAbovePerSecond && waited < settings.IntakePriorityAtMost;
            Volatile.Write(ref intakeFirst, first);
            var gate = Volatile.Read(ref open);
            if (!first)
            {
                gate.TrySetResult();
            }
            else if (gate.Task.IsCompleted)
            {
                Volatile.Write(ref open, NewGate());
            }
        }

        Volatile.Read(ref open).TrySetResult();
    }

    private static TaskCompletionSource NewGate() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
