using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace RetailSync.Benchmarks;

/// <summary>Prints a scenario's table and writes its figures, settings, machine and commit as JSON.</summary>
public static class Report
{
    public static async Task WriteAsync(string scenario, IReadOnlyList<LoadResult> rows, IReadOnlyList<(string Name, string Value)> ratios,
        object settings)
    {
        var culture = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine($"scenario {scenario} — {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, commit {Commit()}");
        Console.WriteLine($"{"measurement",-48} {"conc",5} {"ok",9} {"failed",7} {"per s",9} {"p50 ms",8} {"p99 ms",8}");
        foreach (var r in rows)
        {
            Console.WriteLine(string.Create(culture, $"{r.Name,-48} {r.Concurrency,5} {r.Succeeded,9} {r.Failed,7} {r.PerSecond,9:F0} {r.P50Ms,8:F1} {r.P99Ms,8:F1}"));
        }

        foreach (var (name, value) in ratios)
        {
            Console.WriteLine($"{name,-48} {value}");
        }

        var folder = Path.Combine(Environment.CurrentDirectory, "bench-results");
        Directory.CreateDirectory(folder);
        var file = Path.Combine(folder, $"{scenario}-{DateTime.UtcNow:yyyyMMdd-HHmmss}.json");
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(new
        {
            scenario,
            at = DateTimeOffset.UtcNow,
            commit = Commit(),
            machine = new { cores = Environment.ProcessorCount, os = RuntimeInformation.OSDescription, dotnet = Environment.Version.ToString() },
            settings,
            results = rows,
            ratios = ratios.ToDictionary(r => r.Name, r => r.Value),
        }, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        Console.WriteLine($"results written to {file}");
    }

    private static string Commit()
    {
        try
        {
            var info = new ProcessStartInfo("git", "rev-parse --short HEAD") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoPaths.Root };
            using var git = Process.Start(info)!;
            var sha = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 ? sha : "unknown";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }
}
