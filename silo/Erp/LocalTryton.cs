using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using RetailSync.Connectors;
using RetailSync.Connectors.Tryton;

namespace RetailSync.Silo.Erp;

/// <summary>
/// A Tryton server on loopback from Debian's <c>tryton-server</c> packages, for tests, benchmarks and
/// demos: a prepared SQLite database (company, currency, chart of accounts, fiscal years, a warehouse,
/// products) is built once per machine and copied for every server started, so each starts clean in
/// ~3 s instead of ~1 min.
/// </summary>
public sealed class LocalTryton : IAsyncDisposable
{
    public const string Database = "retailsync";
    public const string Password = "retailsync-admin";

    /// <summary>Bump when the prepared database's content changes, so machines rebuild it.</summary>
    private const string TemplateVersion = "2";

    private static readonly string[] Modules = ["sale", "stock", "party", "product", "account", "account_invoice", "sale_credit_limit"];

    private readonly Process process;
    private readonly string directory;
    private bool keepDirectory;

    private LocalTryton(Process process, string directory, int port)
    {
        this.process = process;
        this.directory = directory;
        Options = new TrytonConnectorOptions { Url = $"http://127.0.0.1:{port}", Database = Database, User = "admin", Password = Password };
    }

    public TrytonConnectorOptions Options { get; }

    public static bool Installed => File.Exists("/usr/bin/trytond") && File.Exists("/usr/bin/trytond-admin") && File.Exists(ImportCountries);

    /// <summary>Tryton's own importer of ISO 3166 countries and subdivisions (package tryton-modules-country, with pycountry and proteus).</summary>
    private const string ImportCountries = "/usr/bin/trytond_import_countries";

    /// <summary>A client on this server without cluster pacing (set-up and tests).</summary>
    public TrytonClient Client() =>
        new(new HttpClient { Timeout = TimeSpan.FromSeconds(60) }, new StaticOptions(new ConnectorOptions { Erp = ErpKinds.Tryton, Tryton = Options }));

    /// <summary>Starts a server on a free port from a copy of the prepared database (built first if this machine has none).</summary>
    public static async Task<LocalTryton> StartAsync(IReadOnlyList<TrytonProduct> products, CancellationToken cancellationToken = default)
    {
        var template = await TemplateAsync(products, cancellationToken);
        var directory = Path.Combine(Path.GetTempPath(), "retailsync-tryton", "run-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        File.Copy(template, Path.Combine(directory, Database + ".sqlite"));
        return await LaunchAsync(directory, cancellationToken);
    }

    private static async Task<LocalTryton> LaunchAsync(string directory, CancellationToken cancellationToken)
    {
        var port = FreePort();
        var config = Path.Combine(directory, "trytond.conf");
        await File.WriteAllTextAsync(config, $"[database]\nuri = sqlite://\npath = {directory}\n\n[web]\nlisten = 127.0.0.1:{port}\n", cancellationToken);
        // Through a shell so the server's output goes to a file: an unread pipe would block it.
        var process = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", $"exec /usr/bin/trytond -c '{config}' -d {Database} >'{directory}/trytond.log' 2>&1"])
        {
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("trytond did not start");
        var server = new LocalTryton(process, directory, port);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            try
            {
                // Any HTTP answer means the listener is up (the server answers 401 to a call without a session).
                using var response = await probe.PostAsync($"{server.Options.Url}/{Database}/",
                    new StringContent("""{"id":0,"method":"common.server.version","params":[]}""", System.Text.Encoding.UTF8, "application/json"), cancellationToken);
                return server;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
            }

            if (DateTime.UtcNow >= deadline || process.HasExited)
            {
                var log = File.Exists(Path.Combine(directory, "trytond.log")) ? await File.ReadAllTextAsync(Path.Combine(directory, "trytond.log"), cancellationToken) : "";
                await server.DisposeAsync();
                throw new InvalidOperationException($"trytond did not answer on port {port}: {log[Math.Max(0, log.Length - 2000)..]}");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>The prepared database file, built once per machine (and template version) under a file lock.</summary>
    private static async Task<string> TemplateAsync(IReadOnlyList<TrytonProduct> products, CancellationToken cancellationToken)
    {
        var root = Path.Combine(Path.GetTempPath(), "retailsync-tryton", "template-v" + TemplateVersion + "-" + Fingerprint(products));
        Directory.CreateDirectory(root);
        var template = Path.Combine(root, "template.sqlite");
        using var gate = await LockAsync(Path.Combine(root, ".lock"), cancellationToken);
        if (File.Exists(template))
        {
            return template;
        }

        var build = Path.Combine(root, "build");
        if (Directory.Exists(build))
        {
            Directory.Delete(build, recursive: true);
        }

        Directory.CreateDirectory(build);
        await File.WriteAllBytesAsync(Path.Combine(build, Database + ".sqlite"), [], cancellationToken);
        var config = Path.Combine(build, "trytond.conf");
        await File.WriteAllTextAsync(config, $"[database]\nuri = sqlite://\npath = {build}\n", cancellationToken);
        var passFile = Path.Combine(build, "admin.pass");
        await File.WriteAllTextAsync(passFile, Password, cancellationToken);

        var admin = new ProcessStartInfo("/usr/bin/trytond-admin", ["-c", config, "-d", Database, "-u", .. Modules, "--activate-dependencies", "--email", "admin@example.com"]);
        admin.Environment["TRYTONPASSFILE"] = passFile;
        await RunAsync(admin, cancellationToken);

        // Countries, so addresses carry one and Tryton reads a national phone number in its country's plan.
        await RunAsync(new ProcessStartInfo(ImportCountries, ["-c", config, "-d", Database]), cancellationToken);

        var server = await LaunchAsync(build, cancellationToken);
        server.keepDirectory = true;
        await using (server)
        {
            await TrytonSetup.PrepareAsync(server.Client().Rpc, products, cancellationToken);
        }

        File.Copy(Path.Combine(build, Database + ".sqlite"), template + ".tmp", overwrite: true);
        File.Move(template + ".tmp", template);
        return template;
    }

    private static async Task RunAsync(ProcessStartInfo start, CancellationToken cancellationToken)
    {
        start.RedirectStandardOutput = start.RedirectStandardError = start.RedirectStandardInput = true;
        start.UseShellExecute = false;
        using var run = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start");
        run.StandardInput.Close();
        var output = run.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = run.StandardError.ReadToEndAsync(cancellationToken);
        await run.WaitForExitAsync(cancellationToken);
        if (run.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(start.FileName)} failed ({run.ExitCode}): {await output}{await errors}");
        }
    }

    private static string Fingerprint(IReadOnlyList<TrytonProduct> products) =>
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(
            string.Join('|', products.Select(p => $"{p.Sku}:{p.Price}:{p.Stock}")))))[..12].ToLowerInvariant();

    private static async Task<FileStream> LockAsync(string path, CancellationToken cancellationToken)
    {
        // Test and benchmark processes may start together; one builds, the others wait for it.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(250, cancellationToken);
            }
        }
    }

    /// <summary>Ends every session on the server, as its session timeout would (Tryton keeps them in <c>ir_session</c>).</summary>
    public async Task ExpireSessionsAsync(CancellationToken cancellationToken = default)
    {
        var database = Path.Combine(directory, Database + ".sqlite");
        using var run = Process.Start(new ProcessStartInfo("/usr/bin/python3",
            ["-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('DELETE FROM ir_session'); c.commit()", database])
        {
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("python3 did not start");
        await run.WaitForExitAsync(cancellationToken);
        if (run.ExitCode != 0)
        {
            throw new InvalidOperationException($"could not expire the sessions in {database}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
        if (keepDirectory)
        {
            return;
        }

        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open: left in the temp folder.
        }
    }

    private sealed class StaticOptions(ConnectorOptions value) : IOptionsMonitor<ConnectorOptions>
    {
        public ConnectorOptions CurrentValue => value;

        public ConnectorOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<ConnectorOptions, string?> listener) => null;
    }
}

/// <summary>A product to have in the prepared database, with its list price and the stock to put in the warehouse.</summary>
public sealed record TrytonProduct(string Sku, decimal Price, decimal Stock);
