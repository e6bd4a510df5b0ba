using System.Globalization;

namespace RetailSync.Benchmarks;

public sealed record BenchOptions(string Scenario, int Seconds, int WarmupSeconds, int Concurrency, string[] Topologies, bool Dashboard)
{
    public TimeSpan Duration => TimeSpan.FromSeconds(Seconds);

    public TimeSpan Warmup => TimeSpan.FromSeconds(WarmupSeconds);

    /// <summary>The value after <c>--name</c> on the command line, or the fallback.</summary>
    public static string Option(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, "--" + name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    public static BenchOptions Parse(string[] args)
    {
        string Option(string name, string fallback)
        {
            var i = Array.IndexOf(args, "--" + name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }

        return new BenchOptions(
            args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "",
            int.Parse(Option("seconds", "10"), CultureInfo.InvariantCulture),
            int.Parse(Option("warmup", "3"), CultureInfo.InvariantCulture),
            int.Parse(Option("concurrency", "32"), CultureInfo.InvariantCulture),
            Option("topology", "embedded,cluster").Split(','),
            bool.Parse(Option("dashboard", "false")));
    }
}
