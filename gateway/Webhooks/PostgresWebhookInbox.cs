using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using RetailSync.Intake;
using RetailSync.Platform;
using RetailSync.Shopify;
using RetailSync.Storage;

namespace RetailSync.Gateway.Webhooks;

/// <summary>
/// Cluster mode's webhook inbox, in <c>rs_webhook_inbox</c>. A delivery is answered once its row is
/// committed: deliveries arriving together share one statement and one commit (group commit), and a
/// re-delivery of a stored event is answered <c>duplicate</c> by the table's unique key. So intake costs
/// a fraction of a write, not the target grain's write plus its follow-up work.
/// <para>
/// A row this process has room for is written leased to it and forwarded at once from memory to its grain
/// (which still dedupes by event id) with bounded concurrency, then marked forwarded without its body.
/// Any other row is written due: a sweeper takes due rows (no room at intake, a lease that ran out with a
/// crashed process, a retry after a failed forward) from any process of the service, maps them again from
/// the stored body and forwards them. Nothing accepted is lost; an effect may be forwarded twice and is
/// applied once. During a flood intake goes first (see <see cref="WebhookForwarder"/>).
/// </para>
/// </summary>
public sealed partial class PostgresWebhookInbox : IWebhookIntake, IWebhookBacklog, IHostedService, IAsyncDisposable
{
    private const int MaxBatch = 500;
    private const int FloodQueue = 256;
    private readonly NpgsqlDataSource dataSource;
    private readonly string serviceId;
    private readonly WebhookInboxOptions settings;
    private readonly IGrainFactory grains;
    private readonly TimeProvider clock;
    private readonly ILogger<PostgresWebhookInbox> logger;
    private readonly Func<ShopifyDelivery, byte[], ShopifyTopics.Apply> prepare;
    private readonly Channel<Pending> inserts = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<Completion> completions = Channel.CreateUnbounded<Completion>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource stopping = new();
    private readonly List<Task> loops = [];
    private readonly WebhookForwarder forwarder;
    private long backlogSince;
    private int disposed;

    private sealed record Pending(ShopifyDelivery Delivery, byte[] Body, ShopifyTopics.Apply Apply, TaskCompletionSource<WebhookAnswer> Answer);

    private sealed record Completion(long Id, string? Error);

    /// <param name="prepare">Maps a stored delivery again (the sweeper's path); the topic routes unless a test replaces them.</param>
    public PostgresWebhookInbox(
        string connectionString, string serviceId, WebhookInboxOptions settings, IGrainFactory grains, TimeProvider clock,
        ILogger<PostgresWebhookInbox> logger, Func<ShopifyDelivery, byte[], ShopifyTopics.Apply>? prepare = null)
    {
        this.prepare = prepare ?? Prepare;
        dataSource = NpgsqlDataSource.Create(connectionString);
        this.serviceId = serviceId;
        this.settings = settings;
        this.grains = grains;
        this.clock = clock;
        this.logger = logger;
        forwarder = new WebhookForwarder(settings, grains, clock, Forwarded,
            () => Interlocked.Read(ref backlogSince) is var ticks and not 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null);
    }

    /// <summary>Whether intake has priority over forwarding now (a flood; see <see cref="GateAsync"/>).</summary>
    public bool IntakeFirst => forwarder.IntakeFirst;

    /// <summary>Deliveries accepted by this process and waiting in memory for a forwarder.</summary>
    public int Queued => forwarder.Queued;

    public Task<WebhookAnswer> RecordAsync(ShopifyDelivery delivery, byte[] body, ShopifyTopics.Apply apply, CancellationToken cancellationToken)
    {
        var answer = new TaskCompletionSource<WebhookAnswer>(TaskCreationOptions.RunContinuationsAsynchronously);
        return inserts.Writer.TryWrite(new Pending(delivery, body, apply, answer))
            ? answer.Task.WaitAsync(cancellationToken)
            : Task.FromException<WebhookAnswer>(new ObjectDisposedException(nameof(PostgresWebhookInbox)));
    }

    /// <summary>What waits and what failed, for <c>GET /api/v1/kpis</c>.</summary>
    public async Task<InboxFigures> FiguresAsync(CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT count(*), count(*) FILTER (WHERE last_error IS NOT NULL),
                   coalesce(extract(epoch FROM now() - min(received_at)), 0)
            FROM rs_webhook_inbox WHERE service_id = $1 AND forwarded_at IS NULL
            """);
        command.Parameters.AddWithValue(serviceId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new InboxFigures(reader.GetInt64(0), reader.GetInt64(1), (double)reader.GetDecimal(2), Queued);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        loops.Add(Task.Run(WriteAsync, CancellationToken.None));
        loops.Add(Task.Run(CompleteAsync, CancellationToken.None));
        forwarder.Start(stopping.Token);
        loops.Add(Task.Run(SweepAsync, CancellationToken.None));
        return Task.CompletedTask;
    }

    /// <summary>
    /// Stops taking deliveries and lets the writer answer what it holds. Forwards are not waited for (a
    /// grain call may hang on a dead silo): their rows stay leased and any process's sweeper takes them when
    /// the lease ends.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        inserts.Writer.TryComplete();
        if (!stopping.IsCancellationRequested)
        {
            await stopping.CancelAsync();
        }

        completions.Writer.TryComplete();
        await Task.WhenAll([.. loops, forwarder.StoppedAsync()]).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    // The container holds this instance under four registrations and disposes it under each.
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        await StopAsync(CancellationToken.None);
        stopping.Dispose();
        await dataSource.DisposeAsync();
    }

    private Task WriteAsync() => GroupCommit.RunAsync(inserts.Reader, MaxBatch, async batch =>
    {
        forwarder.Recorded(batch.Count);
        try
        {
            await InsertAsync(batch);
        }
        catch (Exception ex)
        {
            LogInsertFailed(logger, batch.Count, ex);
            foreach (var pending in batch)
            {
                pending.Answer.TrySetException(ex);
            }
        }
    });

    private async Task InsertAsync(List<Pending> batch)
    {
        // A re-delivery inside the batch is a duplicate of the first; the table's key answers for the rest.
        var first = new Dictionary<(string Shop, string Key), Pending>();
        var repeats = new List<Pending>();
        foreach (var pending in batch)
        {
            if (!first.TryAdd((pending.Delivery.Shop, pending.Delivery.DedupeKey), pending))
            {
                repeats.Add(pending);
            }
        }

        var rows = first.Values.ToList();
        await using var command = dataSource.CreateCommand("""
            INSERT INTO rs_webhook_inbox
                (service_id, shop, dedupe_key, tenant, topic, event_id, webhook_id, triggered_at, api_version, test, received_at, body, due_at)
            SELECT $1, t.shop, t.dedupe_key, t.tenant, t.topic, t.event_id, t.webhook_id, t.triggered_at, t.api_version, t.test, t.received_at, t.body,
                   now() + t.lease_ms * interval '1 millisecond'
            FROM unnest($2::double precision[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamptz[], $10::text[], $11::boolean[], $12::timestamptz[], $13::bytea[])
                AS t(lease_ms, shop, dedupe_key, tenant, topic, event_id, webhook_id, triggered_at, api_version, test, received_at, body)
            ON CONFLICT (service_id, shop, dedupe_key) DO NOTHING
            RETURNING id, shop, dedupe_key
            """);
        command.Parameters.AddWithValue(serviceId);
        // Rows this process will hold in memory are leased to it; the rest are due at once, for any process's
        // sweeper to take when it has room (see SweepAsync).
        var room = Room();
        if (room < rows.Count)
        {
            Interlocked.CompareExchange(ref backlogSince, clock.GetUtcNow().UtcTicks, 0);
        }

        Add(command, NpgsqlDbType.Double, rows.Select((_, i) => i < room ? settings.Lease.TotalMilliseconds : 0).ToArray());
        Add(command, NpgsqlDbType.Text, rows.Select(p => p.Delivery.Shop).ToArray());
        Add(command, NpgsqlDbType.Text, rows.Select(p => p.Delivery.DedupeKey).ToArray());
        Add(command, NpgsqlDbType.Text, rows.Select(p => p.Delivery.Tenant).ToArray());
        Add(command, NpgsqlDbType.Text, rows.Select(p => p.Delivery.Topic).ToArray());
        Add(command, NpgsqlDbType.Text, rows.Select(p => p.Delivery.EventId).ToArray());
        Add(command, NpgsqlDbType.Text, rows.Select(p => p.Delivery.WebhookId).ToArray());
        Add(command, NpgsqlDbType.TimestampTz, rows.Select(p => p.Delivery.TriggeredAt?.UtcDateTime).ToArray());
        Add(command, NpgsqlDbType.Text, rows.Select(p => p.Delivery.ApiVersion).ToArray());
        Add(command, NpgsqlDbType.Boolean, rows.Select(p => p.Delivery.Test).ToArray());
        Add(command, NpgsqlDbType.TimestampTz, rows.Select(p => p.Delivery.ReceivedAt.UtcDateTime).ToArray());
        Add(command, NpgsqlDbType.Bytea, rows.Select(p => p.Body).ToArray());

        var inserted = new Dictionary<(string, string), long>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                inserted[(reader.GetString(1), reader.GetString(2))] = reader.GetInt64(0);
            }
        }

        for (var i = 0; i < rows.Count; i++)
        {
            var pending = rows[i];
            if (!inserted.TryGetValue((pending.Delivery.Shop, pending.Delivery.DedupeKey), out var id))
            {
                pending.Answer.TrySetResult(new WebhookAnswer("duplicate"));
                continue;
            }

            // A leased row that could not be queued (stopping) waits for its lease to end; a row past the room is due already.
            if (i < room)
            {
                forwarder.TryQueue(id, pending.Delivery.Describe(), pending.Apply);
            }

            pending.Answer.TrySetResult(new WebhookAnswer("accepted", "queued"));
        }

        foreach (var pending in repeats)
        {
            pending.Answer.TrySetResult(new WebhookAnswer("duplicate"));
        }
    }

    /// <summary>
    /// How many more deliveries this process may hold in memory for forwarding. During a flood only a few:
    /// held deliveries would mostly wait (few forwarders run) and, surviving collections, lengthen the GC
    /// pauses that intake's answers wait for; the table holds them instead.
    /// </summary>
    private int Room() => Math.Max(0, (forwarder.IntakeFirst ? FloodQueue : settings.MaxQueued) - Queued);

    private static void Add<T>(NpgsqlCommand command, NpgsqlDbType type, T[] values) =>
        command.Parameters.Add(new NpgsqlParameter { Value = values, NpgsqlDbType = NpgsqlDbType.Array | type });

    private ValueTask Forwarded(WebhookForwarder.Item item, Exception? error)
    {
        if (error is not null)
        {
            LogForwardFailed(logger, item.Description, item.Id, error);
        }

        completions.Writer.TryWrite(new Completion(item.Id, error is null ? null : $"{error.GetType().Name}: {error.Message}"));
        return ValueTask.CompletedTask;
    }

    private Task CompleteAsync() => GroupCommit.RunAsync(completions.Reader, MaxBatch, CompleteBatchAsync);

    /// <summary>
    /// Records what the forwarders did. While PostgreSQL is unreachable the write is retried (250 ms doubling to
    /// 5 s) for as long as the rows' lease lasts; after that the sweeper forwards them again, the grains dedupe.
    /// </summary>
    private async Task CompleteBatchAsync(List<Completion> batch)
    {
        var started = clock.GetUtcNow();
        for (var delay = TimeSpan.FromMilliseconds(250); ; delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks)))
        {
            try
            {
                await WriteCompletionsAsync(batch);
                return;
            }
            catch (Exception ex) when (clock.GetUtcNow() - started + delay < settings.Lease && !stopping.IsCancellationRequested)
            {
                LogCompleteRetried(logger, batch.Count, ex);
            }
            catch (Exception ex)
            {
                LogCompleteFailed(logger, batch.Count, ex);
                return;
            }

            try
            {
                await Task.Delay(delay, clock, stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task WriteCompletionsAsync(List<Completion> batch)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var write = new NpgsqlBatch(connection);
        var done = batch.Where(c => c.Error is null).Select(c => c.Id).ToArray();
        if (done.Length > 0)
        {
            // The grain holds what it needs; the body (personal data) goes, the key stays to answer duplicates.
            var command = new NpgsqlBatchCommand("UPDATE rs_webhook_inbox SET forwarded_at = now(), body = NULL, last_error = NULL WHERE id = ANY($1)");
            command.Parameters.Add(new NpgsqlParameter { Value = done, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
            write.BatchCommands.Add(command);
        }

        foreach (var failed in batch.Where(c => c.Error is not null))
        {
            // Backs off 1, 2, 4 … s after each attempt, at most 5 minutes apart; never given up.
            var command = new NpgsqlBatchCommand("""
                UPDATE rs_webhook_inbox SET last_error = $2, due_at = now() + least(300, power(2, least(attempts, 9))) * interval '1 second'
                WHERE id = $1 AND forwarded_at IS NULL
                """);
            command.Parameters.Add(new NpgsqlParameter { Value = failed.Id });
            command.Parameters.Add(new NpgsqlParameter { Value = failed.Error });
            write.BatchCommands.Add(command);
        }

        await write.ExecuteNonQueryAsync();
    }

    private async Task SweepAsync()
    {
        var purged = clock.GetUtcNow();
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(settings.SweepInterval, clock, stopping.Token);
                // Take no more than the forwarders can start soon, so a backlog does not move into memory at once.
                var room = Room();
                while (room > 0 && !stopping.IsCancellationRequested)
                {
                    var taken = await SweepOnceAsync(Math.Min(room, MaxBatch), stopping.Token);
                    if (taken < Math.Min(room, MaxBatch))
                    {
                        // Nothing more is due: no backlog waits in the table.
                        Interlocked.Exchange(ref backlogSince, 0);
                        break;
                    }

                    room = Room();
                }

                if (clock.GetUtcNow() - purged > TimeSpan.FromMinutes(10))
                {
                    await PurgeAsync(stopping.Token);
                    purged = clock.GetUtcNow();
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogSweepFailed(logger, ex);
            }
        }
    }

    /// <summary>Takes rows that are due (lease ended, retry due), leases them to this process and queues them; returns how many.</summary>
    internal async Task<int> SweepOnceAsync(int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE rs_webhook_inbox i SET due_at = now() + $3 * interval '1 millisecond', attempts = i.attempts + 1
            FROM (SELECT id FROM rs_webhook_inbox
                  WHERE service_id = $1 AND forwarded_at IS NULL AND due_at <= now()
                  ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED) due
            WHERE i.id = due.id
            RETURNING i.id, i.shop, i.tenant, i.topic, i.event_id, i.webhook_id, i.triggered_at, i.api_version, i.test, i.received_at, i.body
            """);
        command.Parameters.AddWithValue(serviceId);
        command.Parameters.AddWithValue(limit);
        command.Parameters.AddWithValue(settings.Lease.TotalMilliseconds);
        var taken = 0;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            taken++;
            var id = reader.GetInt64(0);
            var delivery = new ShopifyDelivery(
                reader.GetString(1), reader.GetString(2), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.IsDBNull(6) ? null : new DateTimeOffset(reader.GetDateTime(6)),
                reader.IsDBNull(7) ? null : reader.GetString(7), reader.GetBoolean(8), new DateTimeOffset(reader.GetDateTime(9)));
            ShopifyTopics.Apply apply;
            try
            {
                apply = prepare(delivery, reader.GetFieldValue<byte[]>(10));
            }
            catch (Exception ex) when (ex is JsonException or ShopifyPayloadException or InvalidOperationException)
            {
                // Mapped when it was accepted, so only a changed mapper gets here: kept, retried, visible in the KPIs.
                LogForwardFailed(logger, delivery.Describe(), id, ex);
                completions.Writer.TryWrite(new Completion(id, $"{ex.GetType().Name}: {ex.Message}"));
                continue;
            }

            forwarder.TryQueue(id, delivery.Describe(), apply);
        }

        return taken;
    }

    public static ShopifyTopics.Apply Prepare(ShopifyDelivery delivery, byte[] body)
    {
        if (!ShopifyTopics.TryGet(delivery.Topic, out var route))
        {
            throw new InvalidOperationException($"No route for topic {delivery.Topic}.");
        }

        using var document = JsonDocument.Parse(body);
        return route(delivery, document.RootElement);
    }

    private async Task PurgeAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "DELETE FROM rs_webhook_inbox WHERE service_id = $1 AND forwarded_at < now() - $2 * interval '1 second'");
        command.Parameters.AddWithValue(serviceId);
        command.Parameters.AddWithValue(settings.Retention.TotalSeconds);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook inbox: recording {Count} deliveries failed; answered 503 so Shopify retries")]
    private static partial void LogInsertFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook inbox: forwarding {Delivery} (row {Id}) failed; retried with backoff")]
    private static partial void LogForwardFailed(ILogger logger, string delivery, long id, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook inbox: marking {Count} forwards failed; retrying")]
    private static partial void LogCompleteRetried(ILogger logger, int count, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook inbox: marking {Count} forwards failed; their leases end and they are forwarded again")]
    private static partial void LogCompleteFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook inbox: sweeping failed; trying again at the next interval")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}

/// <summary>The intake's backlog: deliveries answered but not yet in their grains (how many of them failed at least once), the oldest one's age, how many wait in memory.</summary>
public sealed record InboxFigures(long Pending, long Retrying, double OldestPendingSeconds, int QueuedInMemory);

/// <summary>Settings under <c>RetailSync:WebhookInbox</c> (cluster mode).</summary>
public sealed class WebhookInboxOptions
{
    /// <summary>Off: cluster mode answers after the target grain's own write, as the embedded default does.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Grain calls in flight at once from this process.</summary>
    public int Forwarders { get; set; } = 32;

    /// <summary>Of <see cref="Forwarders"/>, how many keep forwarding while intake has priority (a flood).</summary>
    public int MinForwarders { get; set; } = 1;

    /// <summary>Deliveries per second (over the last 250 ms) above which intake has priority over forwarding.</summary>
    public double IntakePriorityAbovePerSecond { get; set; } = 200;

    /// <summary>How long a flood may hold forwarding back: once the oldest queued delivery has waited this long, all forwarders run.</summary>
    public TimeSpan IntakePriorityAtMost { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a row stays with the process that took it before any sweeper may take it.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often the sweeper looks for due rows (after a flood, the backlog is forwarded from the table at this pace or faster).</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long forwarded keys are kept to answer re-deliveries <c>duplicate</c> (Shopify retries for 4 hours, some deliveries come a day late).</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(48);

    /// <summary>Deliveries held in memory for forwarding; beyond it they wait in the table for the sweeper.</summary>
    public int MaxQueued { get; set; } = 10_000;
}
