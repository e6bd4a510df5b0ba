using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using RetailSync.Silo.Storage;
using RetailSync.Storage;

namespace RetailSync.Testing;

/// <summary>
/// A throwaway PostgreSQL server: initdb into a temp dir, pg_ctl on a free loopback port, removed on
/// dispose. initdb refuses root, so as root the server runs as the <c>postgres</c> user.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly string binDir;
    private readonly string root;
    private readonly string dataDir;
    private readonly string? runAs;
    private bool durable;

    private PostgresServer(string binDir, string root, int port, string? runAs)
    {
        this.binDir = binDir;
        this.root = root;
        this.runAs = runAs;
        dataDir = Path.Combine(root, "data");
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=true;Maximum Pool Size=60;Timeout=15";

    /// <param name="durable">fsync and synchronous commit on, as in production (benchmarks); off for tests.</param>
    public static async Task<PostgresServer> StartAsync(bool durable = false)
    {
        var binDir = FindBinDir();
        var root = Path.Combine(Path.GetTempPath(), "retailsync-pg-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(root);
        string? runAs = Environment.UserName == "root" ? "postgres" : null;
        if (runAs is not null)
        {
            await RunAsync("chown", ["-R", runAs, root]);
        }

        var server = new PostgresServer(binDir, root, FreePort(), runAs) { durable = durable };
        await server.RunPgAsync("initdb", ["-D", server.dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
        await server.StartServerAsync();
        return server;
    }

    /// <summary>A new empty database with RetailSync's schema applied; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(bool migrate = true)
    {
        var name = "rs_" + Guid.NewGuid().ToString("N")[..12];
        // Unpooled: a pooled connection would be dead after a test restarted the server (57P01).
        await using (var connection = new NpgsqlConnection(ConnectionString() + ";Pooling=false"))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync();
        }

        var connectionString = ConnectionString(name);
        if (migrate)
        {
            await SchemaMigrator.MigrateAsync(connectionString);
        }

        return connectionString;
    }

    public Task StopServerAsync() => RunPgAsync("pg_ctl", ["stop", "-D", dataDir, "-m", "fast", "-w"]);

    public Task StartServerAsync() => RunPgAsync("pg_ctl",
    [
        "start", "-D", dataDir, "-w", "-t", "60", "-l", Path.Combine(root, "server.log"),
        "-o", $"-p {Port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=300" + (durable ? "" : " -c fsync=off -c synchronous_commit=off"),
    ]);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await RunPgAsync("pg_ctl", ["stop", "-D", dataDir, "-m", "immediate", "-w"]);
        }
        catch (InvalidOperationException)
        {
            // Already stopped; the directory still goes.
        }

        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private Task RunPgAsync(string tool, string[] args)
    {
        var exe = Path.Combine(binDir, tool);
        return runAs is null ? RunAsync(exe, args) : RunAsync("runuser", ["-u", runAs, "--", exe, .. args]);
    }

    private static async Task RunAsync(string file, string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {process.ExitCode}: {await stdout}{await stderr}");
        }
    }

    private static string FindBinDir()
    {
        var configured = Environment.GetEnvironmentVariable("RETAILSYNC_PG_BIN");
        if (!string.IsNullOrEmpty(configured))
        {
            return configured;
        }

        var candidates = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                .ToList()
            : [];
        return candidates.FirstOrDefault()
            ?? throw new InvalidOperationException("PostgreSQL server binaries not found: run .ci/run (it installs postgresql) or set RETAILSYNC_PG_BIN.");
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

