using Npgsql;
using RetailSync.Platform;

namespace RetailSync.Silo.Storage;

/// <summary>The embedded default's stored data: the process's own grain storage, and no webhook inbox.</summary>
public sealed class EmbeddedStoredData(EmbeddedGrainStorage storage) : IStoredData
{
    public Task<IReadOnlyList<string>> KeysAsync(string stateName, string keyPrefix, CancellationToken cancellationToken = default) =>
        Task.FromResult(storage.Keys(stateName, keyPrefix));

    public Task<int> DropWebhookBodiesAsync(string shop, CancellationToken cancellationToken = default) => Task.FromResult(0);
}

/// <summary>
/// Cluster mode's stored data, in PostgreSQL: Orleans' ADO.NET storage keeps the state name in <c>GrainTypeString</c>
/// and a string key in <c>GrainIdExtensionString</c>; the webhook inbox is <c>rs_webhook_inbox</c>.
/// </summary>
public sealed class PostgresStoredData(string connectionString, string serviceId) : IStoredData, IAsyncDisposable
{
    private readonly NpgsqlDataSource dataSource = NpgsqlDataSource.Create(connectionString);

    public async Task<IReadOnlyList<string>> KeysAsync(string stateName, string keyPrefix, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT GrainIdExtensionString FROM rs_grain_state
             WHERE ServiceId = $1 AND GrainTypeString = $2 AND PayloadBinary IS NOT NULL
               AND left(GrainIdExtensionString, length($3)) = $3
             ORDER BY GrainIdExtensionString
            """);
        command.Parameters.AddWithValue(serviceId);
        command.Parameters.AddWithValue(stateName);
        command.Parameters.AddWithValue(keyPrefix);
        var keys = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            keys.Add(reader.GetString(0));
        }

        return keys;
    }

    public async Task<int> DropWebhookBodiesAsync(string shop, CancellationToken cancellationToken = default)
    {
        // Marked forwarded so no forwarder picks them up again; the key stays to answer Shopify's re-deliveries.
        await using var command = dataSource.CreateCommand("""
            UPDATE rs_webhook_inbox
               SET body = NULL, forwarded_at = now(), last_error = 'dropped: the shop was redacted'
             WHERE service_id = $1 AND shop = $2 AND forwarded_at IS NULL AND topic <> 'shop/redact'
            """);
        command.Parameters.AddWithValue(serviceId);
        command.Parameters.AddWithValue(shop);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public ValueTask DisposeAsync() => dataSource.DisposeAsync();
}
