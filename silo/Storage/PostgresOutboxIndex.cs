using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;
using RetailSync.Operations;
using RetailSync.Outbox;
using RetailSync.Platform;
using RetailSync.Storage;

namespace RetailSync.Silo.Storage;

/// <summary>
/// The outbox index of cluster mode, in <c>rs_outbox_owners</c>. Adds and removes from every grain of
/// this silo are group-committed: one round trip carries whatever arrived meanwhile, so the index
/// costs a fraction of a statement per order, not a write of its own.
/// </summary>
public sealed partial class PostgresOutboxIndex : IOutboxIndex, IAsyncDisposable
{
    private const int MaxBatch = 2_000;
    private readonly NpgsqlDataSource dataSource;
    private readonly string serviceId;
    private readonly ILogger<PostgresOutboxIndex> logger;
    private readonly Channel<Change> changes = Channel.CreateUnbounded<Change>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task writer;

    private sealed record Change(string Owner, bool Add, TaskCompletionSource? Done);

    public PostgresOutboxIndex(string connectionString, string serviceId, ILogger<PostgresOutboxIndex> logger)
    {
        dataSource = NpgsqlDataSource.Create(connectionString);
        this.serviceId = serviceId;
        this.logger = logger;
        writer = Task.Run(WriteAsync);
    }

    public Task AddAsync(string owner)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return changes.Writer.TryWrite(new Change(owner, true, done)) ? done.Task : Task.FromException(new ObjectDisposedException(nameof(PostgresOutboxIndex)));
    }

    public Task RemoveAsync(string owner)
    {
        changes.Writer.TryWrite(new Change(owner, false, null));
        return Task.CompletedTask;
    }

    public async Task<IReadOnlyList<string>> ListOlderThanAsync(DateTimeOffset before, int limit)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT owner FROM rs_outbox_owners WHERE service_id = $1 AND since < $2 ORDER BY since LIMIT $3");
        command.Parameters.AddWithValue(serviceId);
        command.Parameters.AddWithValue(before.UtcDateTime);
        command.Parameters.AddWithValue(limit);
        var owners = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            owners.Add(reader.GetString(0));
        }

        return owners;
    }

    private Task WriteAsync() => GroupCommit.RunAsync(changes.Reader, MaxBatch, WriteBatchAsync);

    private async Task WriteBatchAsync(List<Change> batch)
    {
        try
        {
            // The last change per owner decides: added then removed in one batch means removed.
            var last = new Dictionary<string, bool>(StringComparer.Ordinal);
            foreach (var change in batch)
            {
                last[change.Owner] = change.Add;
            }

            await using var connection = await dataSource.OpenConnectionAsync();
            await using var write = new NpgsqlBatch(connection)
            {
                BatchCommands =
                {
                    Command("INSERT INTO rs_outbox_owners (service_id, owner) SELECT $1, unnest($2::varchar[]) ON CONFLICT DO NOTHING",
                        [.. last.Where(c => c.Value).Select(c => c.Key)]),
                    Command("DELETE FROM rs_outbox_owners WHERE service_id = $1 AND owner = ANY($2::varchar[])",
                        [.. last.Where(c => !c.Value).Select(c => c.Key)]),
                },
            };
            await write.ExecuteNonQueryAsync();
            foreach (var change in batch)
            {
                change.Done?.TrySetResult();
            }
        }
        catch (Exception ex)
        {
            LogWriteFailed(logger, batch.Count, ex);
            foreach (var change in batch)
            {
                change.Done?.TrySetException(ex);
            }
        }
    }

    private NpgsqlBatchCommand Command(string sql, string[] owners)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddWithValue(serviceId);
        command.Parameters.Add(new NpgsqlParameter { Value = owners, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Varchar });
        return command;
    }

    public async ValueTask DisposeAsync()
    {
        changes.Writer.TryComplete();
        await writer;
        await dataSource.DisposeAsync();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox index: writing {Count} change(s) failed; owners that were adding will retry")]
    private static partial void LogWriteFailed(ILogger logger, int count, Exception exception);
}
