using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using RetailSync.Gateway.Webhooks;
using RetailSync.Intake;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Webhooks;

/// <summary>The PostgreSQL webhook inbox of cluster mode, on a real PostgreSQL, with grain calls replaced by recorders.</summary>
[Collection(PostgresCollection.Name)]
public sealed class WebhookInboxTests(PostgresFixture postgres)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static ShopifyDelivery Delivery(string eventId, string topic = "orders/create") => new(
        "inbox.myshopify.com", "tenant-a", topic, eventId, "webhook-" + eventId, DateTimeOffset.Parse("2024-10-01T12:00:00+02:00"),
        "2024-10", Test: false, DateTimeOffset.UtcNow);

    private static PostgresWebhookInbox Inbox(
        string db, WebhookInboxOptions settings, Func<ShopifyDelivery, byte[], ShopifyTopics.Apply>? prepare = null, TimeProvider? clock = null) =>
        new(db, "inbox-test", settings, null!, clock ?? TimeProvider.System, NullLogger<PostgresWebhookInbox>.Instance, prepare);

    [Fact]
    public async Task during_a_flood_only_the_minimum_forwarders_run_and_all_run_once_it_ends()
    {
        var db = await postgres.Server.CreateDatabaseAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-27T12:00:00Z"));
        await using var inbox = Inbox(db, new WebhookInboxOptions { Forwarders = 4, MinForwarders = 1, IntakePriorityAbovePerSecond = 100 }, clock: clock);
        await inbox.StartAsync(CancellationToken.None);
        var step = TimeSpan.FromMilliseconds(25);

        // 20 deliveries in every 25 ms of the inbox's clock: 800/s, a flood.
        var warm = 0;
        await Eventually.TrueAsync(async () =>
        {
            await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => inbox.RecordAsync(
                Delivery($"warm-{Interlocked.Increment(ref warm)}"), "{}"u8.ToArray(), _ => Task.FromResult(IntakeOutcome.Applied), CancellationToken.None)));
            clock.Advance(step);
            return inbox.IntakeFirst;
        }, Deadline, "intake taking priority");

        var running = 0;
        var most = 0;
        var release = new TaskCompletionSource<IntakeOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        ShopifyTopics.Apply Held() => async _ =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref most, now);
            try
            {
                return await release.Task;
            }
            finally
            {
                Interlocked.Decrement(ref running);
            }
        };

        await Task.WhenAll(Enumerable.Range(0, 10).Select(i => inbox.RecordAsync(Delivery($"held-{i}"), "{}"u8.ToArray(), Held(), CancellationToken.None)));
        await Eventually.TrueAsync(() => Task.FromResult(Volatile.Read(ref running) == 1), Deadline, "the one forwarder that keeps running during a flood");
        Assert.Equal(9, inbox.Queued);

        // No delivery for a quarter of a second: the flood is over and every forwarder takes one.
        await Eventually.TrueAsync(() =>
        {
            clock.Advance(step);
            return Task.FromResult(Volatile.Read(ref running) == 4);
        }, Deadline, "all four forwarders running");
        Assert.False(inbox.IntakeFirst);
        Assert.Equal(4, Volatile.Read(ref most));
        release.SetResult(IntakeOutcome.Applied);
        await Eventually.TrueAsync(async () => await ScalarAsync(db, "SELECT count(*) FROM rs_webhook_inbox WHERE forwarded_at IS NULL") == 0,
            Deadline, "every row forwarded");
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while (value > (seen = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    [Fact]
    public async Task deliveries_are_committed_once_forwarded_once_and_re_deliveries_answer_duplicate()
    {
        var db = await postgres.Server.CreateDatabaseAsync();
        await using var inbox = Inbox(db, new WebhookInboxOptions());
        await inbox.StartAsync(CancellationToken.None);
        var applied = new ConcurrentDictionary<string, int>();
        ShopifyTopics.Apply Recorder(string key) => _ =>
        {
            applied.AddOrUpdate(key, 1, (_, n) => n + 1);
            return Task.FromResult(IntakeOutcome.Applied);
        };

        // 40 events, 10 of them delivered twice at the same moment (one group commit or two).
        var keys = Enumerable.Range(0, 40).Select(i => $"event-{i}").ToList();
        var sends = keys.Concat(keys.Take(10)).Select(k => (Key: k, Answer: inbox.RecordAsync(Delivery(k), "{\"id\":1}"u8.ToArray(), Recorder(k), CancellationToken.None))).ToList();
        await Task.WhenAll(sends.Select(s => s.Answer));

        var answers = sends.GroupBy(s => s.Key).ToDictionary(g => g.Key, g => g.Select(s => s.Answer.Result.Status).Order().ToList());
        Assert.All(keys.Take(10), k => Assert.Equal(["accepted", "duplicate"], answers[k]));
        Assert.All(keys.Skip(10), k => Assert.Equal(["accepted"], answers[k]));
        Assert.Equal(40L, await ScalarAsync(db, "SELECT count(*) FROM rs_webhook_inbox"));

        await Eventually.TrueAsync(async () => await ScalarAsync(db, "SELECT count(*) FROM rs_webhook_inbox WHERE forwarded_at IS NOT NULL AND body IS NULL") == 40,
            Deadline, "all 40 rows forwarded and their bodies dropped");
        Assert.Equal(keys.Order(), applied.Keys.Order());
        Assert.All(applied.Values, n => Assert.Equal(1, n));

        // After forwarding, a late re-delivery is still answered from the key.
        var late = await inbox.RecordAsync(Delivery("event-3"), "{\"id\":1}"u8.ToArray(), Recorder("event-3"), CancellationToken.None);
        Assert.Equal("duplicate", late.Status);
        Assert.Equal(1, applied["event-3"]);
    }

    [Fact]
    public async Task a_failed_forward_is_retried_from_the_stored_delivery()
    {
        var db = await postgres.Server.CreateDatabaseAsync();
        var swept = new ConcurrentQueue<(ShopifyDelivery Delivery, string Body)>();
        await using var inbox = Inbox(db, new WebhookInboxOptions { SweepInterval = TimeSpan.FromMilliseconds(100) }, (delivery, body) =>
        {
            swept.Enqueue((delivery, System.Text.Encoding.UTF8.GetString(body)));
            return _ => Task.FromResult(IntakeOutcome.Applied);
        });
        await inbox.StartAsync(CancellationToken.None);

        var sent = Delivery("flaky", "refunds/create");
        var answer = await inbox.RecordAsync(sent, "{\"id\":42,\"note\":\"ünïcode\"}"u8.ToArray(),
            _ => Task.FromException<IntakeOutcome>(new TimeoutException("silo unreachable")), CancellationToken.None);
        Assert.Equal("accepted", answer.Status);

        // The failure is kept on the row; one second later the sweeper maps the stored body again and forwards it.
        await Eventually.TrueAsync(() => Task.FromResult(!swept.IsEmpty), Deadline, "the sweeper's retry");
        var (delivery, body) = Assert.Single(swept);
        Assert.Equal(sent with { ReceivedAt = delivery.ReceivedAt }, delivery);
        Assert.Equal(sent.ReceivedAt.ToUnixTimeMilliseconds(), delivery.ReceivedAt.ToUnixTimeMilliseconds());
        Assert.Equal("{\"id\":42,\"note\":\"ünïcode\"}", body);
        await Eventually.TrueAsync(async () => await ScalarAsync(db, "SELECT count(*) FROM rs_webhook_inbox WHERE forwarded_at IS NOT NULL AND attempts = 1 AND last_error IS NULL") == 1,
            Deadline, "the retried row marked forwarded");
    }

    [Fact]
    public async Task rows_a_stopped_process_held_are_forwarded_by_another_once_their_lease_ends()
    {
        var db = await postgres.Server.CreateDatabaseAsync();
        var settings = new WebhookInboxOptions { Lease = TimeSpan.FromSeconds(1), SweepInterval = TimeSpan.FromMilliseconds(100) };
        var first = Inbox(db, settings, (_, _) => throw new InvalidOperationException("the first process never sweeps in this test"));
        await first.StartAsync(CancellationToken.None);
        var hung = new TaskCompletionSource<IntakeOutcome>();
        var answer = await first.RecordAsync(Delivery("orphan"), "{}"u8.ToArray(), _ => hung.Task, CancellationToken.None);
        Assert.Equal("accepted", answer.Status);
        await first.DisposeAsync();

        var forwarded = new ConcurrentQueue<string>();
        await using var second = Inbox(db, settings, (delivery, _) =>
        {
            forwarded.Enqueue(delivery.DedupeKey);
            return _ => Task.FromResult(IntakeOutcome.Applied);
        });
        await second.StartAsync(CancellationToken.None);
        await Eventually.TrueAsync(async () => await ScalarAsync(db, "SELECT count(*) FROM rs_webhook_inbox WHERE forwarded_at IS NOT NULL") == 1,
            Deadline, "the orphaned row forwarded by the second process");
        Assert.Equal(["orphan"], forwarded);
    }

    [Fact]
    public async Task a_delivery_that_cannot_be_committed_fails_so_the_caller_answers_503()
    {
        var closed = new NpgsqlConnectionStringBuilder(postgres.Server.ConnectionString()) { Port = PostgresServer.FreePort(), Timeout = 2 }.ConnectionString;
        await using var inbox = Inbox(closed, new WebhookInboxOptions());
        await inbox.StartAsync(CancellationToken.None);
        var applied = false;
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => inbox.RecordAsync(Delivery("nowhere"), "{}"u8.ToArray(), _ =>
        {
            applied = true;
            return Task.FromResult(IntakeOutcome.Applied);
        }, CancellationToken.None));
        Assert.False(applied);
    }

    [Fact]
    public async Task the_backlog_counts_what_waits_and_what_failed()
    {
        var db = await postgres.Server.CreateDatabaseAsync();
        await using var inbox = Inbox(db, new WebhookInboxOptions { SweepInterval = TimeSpan.FromHours(1) });
        await inbox.StartAsync(CancellationToken.None);
        var gate = new TaskCompletionSource<IntakeOutcome>();
        await inbox.RecordAsync(Delivery("waiting"), "{}"u8.ToArray(), _ => gate.Task, CancellationToken.None);
        await inbox.RecordAsync(Delivery("failing"), "{}"u8.ToArray(), _ => Task.FromException<IntakeOutcome>(new TimeoutException("down")), CancellationToken.None);

        var figures = await Eventually.SucceedsAsync(async () =>
            await inbox.FiguresAsync() is { Retrying: 1 } f ? f : throw new InvalidOperationException("not failed yet"), Deadline);
        Assert.Equal(2, figures.Pending);
        Assert.True(figures.OldestPendingSeconds >= 0);

        gate.SetResult(IntakeOutcome.Applied);
        await Eventually.TrueAsync(async () => (await inbox.FiguresAsync()).Pending == 1, Deadline, "the waiting row forwarded");
    }

    private static async Task<long> ScalarAsync(string db, string sql)
    {
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
