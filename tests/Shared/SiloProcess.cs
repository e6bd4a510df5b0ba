using System.Diagnostics;
using System.Text;

namespace RetailSync.Testing;

/// <summary>A real silo process (<c>dotnet RetailSync.Silo.dll</c>) that a test can start, kill -9 and read the log of.</summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder log = new();

    private SiloProcess(Process process, string httpUrl)
    {
        this.process = process;
        HttpUrl = httpUrl;
    }

    public string HttpUrl { get; }

    public string Log
    {
        get
        {
            lock (log)
            {
                return log.ToString();
            }
        }
    }

    public bool HasExited => process.HasExited;

    public static SiloProcess Start(params string[] args) => StartDll("RetailSync.Silo.dll", args);

    /// <summary>A stand-alone gateway process (Orleans client serving webhooks and the API), from the silo's output folder.</summary>
    public static SiloProcess StartGateway(params string[] args) => StartDll("RetailSync.Gateway.dll", args);

    private static SiloProcess StartDll(string assembly, string[] args)
    {
        var dll = Path.Combine(RepoPaths.SiloOutput, assembly);
        var httpUrl = $"http://127.0.0.1:{PostgresServer.FreePort()}";
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = RepoPaths.SiloOutput,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        info.ArgumentList.Add($"--urls={httpUrl}");
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the silo");
        var silo = new SiloProcess(process, httpUrl);
        process.OutputDataReceived += (_, e) => silo.Append(e.Data);
        process.ErrorDataReceived += (_, e) => silo.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return silo;
    }

    public async Task WaitReadyAsync(TimeSpan deadline)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await Eventually.TrueAsync(async () =>
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"silo exited with {process.ExitCode}:\n{Log}");
            }

            try
            {
                return (await http.GetAsync($"{HttpUrl}/health/ready")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
            catch (TaskCanceledException)
            {
                return false;
            }
        }, deadline, $"silo at {HttpUrl} ready");
    }

    /// <summary>SIGKILL: no shutdown, no goodbye to the cluster.</summary>
    public void Kill()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan deadline)
    {
        using var cts = new CancellationTokenSource(deadline);
        await process.WaitForExitAsync(cts.Token);
        return process.ExitCode;
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        process.Dispose();
        return ValueTask.CompletedTask;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            log.AppendLine(line);
        }
    }
}

public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>The silo's own build output, built by the test project's reference in the same configuration.</summary>
    public static string SiloOutput { get; } = Path.Combine(Root, "silo", "bin", BuildConfiguration, "net10.0");

    public static string Fixtures { get; } = Path.Combine(AppContext.BaseDirectory, "fixtures", "shopify");

    private static string BuildConfiguration =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RetailSync.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("RetailSync.sln not found above the test output");
    }
}
