using Npgsql;
using Orleans.Storage;
using Orleans.TestingHost;
using RetailSync.Platform;
using RetailSync.Silo.Storage;
using RetailSync.Tests.Infrastructure;
using RetailSync.Storage;

namespace RetailSync.Tests.Platform;

[Collection(PostgresCollection.Name)]
public sealed class ClusterStorageTests(PostgresFixture postgres)
{
    private static InProcessTestCluster BuildCluster(string connectionString, string serviceId)
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ServiceId = serviceId;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddAdoNetGrainStorage(StorageNames.State, o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = connectionString;
            });
            silo.UseAdoNetReminderService(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = connectionString;
            });
        });
        return builder.Build();
    }

    [Fact]
    public async Task grain_state_written_in_cluster_mode_survives_a_full_silo_restart()
    {
        var db = await postgres.Server.CreateDatabaseAsync();
        var serviceId = "restart-" + Guid.NewGuid().ToString("N")[..8];

        await using (var first = BuildCluster(db, serviceId))
        {
            await first.DeployAsync();
            var grain = first.Client.GetGrain<IHealthProbeGrain>("survivor");
            for (var i = 0; i < 3; i++)
            {
                await grain.TouchAsync();
            }

            await first.StopAllSilosAsync();
        }

        await using var second = BuildCluster(db, serviceId);
        await second.DeployAsync();
        var reread = await second.Client.GetGrain<IHealthProbeGrain>("survivor").ReadAsync();
        Assert.Equal(3, reread.Touches);
    }

    [Fact]
    public async Task a_write_based_on_a_stale_etag_is_rejected_and_the_grain_recovers_by_rereading()
    {
        var db = await postgres.Server.CreateDatabaseAsync();
        await using var cluster = BuildCluster(db, "etag-" + Guid.NewGuid().ToString("N")[..8]);
        await cluster.DeployAsync();
        var grain = cluster.Client.GetGrain<IHealthProbeGrain>("contended");
        await grain.TouchAsync();

        // Another writer (say, a duplicate activation during a partition) moves the row on.
        await using (var connection = new NpgsqlConnection(db))
        {
            await connection.OpenAsync();
            await using var bump = new NpgsqlCommand("UPDATE rs_grain_state SET Version = Version + 1", connection);
            Assert.Equal(1, await bump.ExecuteNonQueryAsync());
        }

        await Assert.ThrowsAsync<InconsistentStateException>(() => grain.TouchAsync());

        // Orleans deactivates on the conflict; the next call re-reads the newer version and writes on top.
        var after = await grain.TouchAsync();
        Assert.Equal(2, after.Touches);
    }

    [Fact]
    public async Task reminders_are_stored_in_postgresql()
    {
        var db = await postgres.Server.CreateDatabaseAsync();
        await using var cluster = BuildCluster(db, "rem-" + Guid.NewGuid().ToString("N")[..8]);
        await cluster.DeployAsync();
        var reminders = cluster.GetSiloServiceProvider().GetRequiredService<IReminderTable>();
        var grainId = GrainId.Create("probe", "r1");
        var etag = await reminders.UpsertRow(new ReminderEntry
        {
            GrainId = grainId,
            ReminderName = "resume",
            StartAt = DateTime.UtcNow,
            Period = TimeSpan.FromMinutes(1),
        });
        var row = await reminders.ReadRow(grainId, "resume");
        Assert.NotNull(row);
        Assert.Equal(etag, row.ETag);
        Assert.Equal(TimeSpan.FromMinutes(1), row.Period);
        Assert.True(await reminders.RemoveRow(grainId, "resume", etag!));
        Assert.Null(await reminders.ReadRow(grainId, "resume"));
    }

    [Fact]
    public async Task the_migration_is_idempotent_and_safe_when_silos_start_together()
    {
        var db = await postgres.Server.CreateDatabaseAsync(migrate: false);
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => SchemaMigrator.MigrateAsync(db)));
        Assert.Equal(1, results.Count(r => r.Count > 0));
        Assert.Empty(await SchemaMigrator.MigrateAsync(db));

        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        var keys = new List<string>();
        await using (var read = new NpgsqlCommand("SELECT QueryKey FROM OrleansQuery", connection))
        await using (var reader = await read.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                keys.Add(reader.GetString(0));
            }
        }

        // The keys the 10.4 clustering, persistence and reminder providers look up.
        string[] required =
        [
            "InsertMembershipVersionKey", "InsertMembershipKey", "UpdateMembershipKey", "UpdateIAmAlivetimeKey",
            "MembershipReadRowKey", "MembershipReadAllKey", "DeleteMembershipTableEntriesKey", "CleanupDefunctSiloEntriesKey",
            "GatewaysQueryKey", "WriteToStorageKey", "ReadFromStorageKey", "ClearStorageKey", "DeleteStorageKey",
            "UpsertReminderRowKey", "ReadReminderRowsKey", "ReadReminderRowKey", "ReadRangeRows1Key", "ReadRangeRows2Key",
            "DeleteReminderRowKey", "DeleteReminderRowsKey",
        ];
        Assert.Equal(required.Order(), keys.Order());
    }
}
