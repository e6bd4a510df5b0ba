using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using RetailSync.Customers;
using RetailSync.Operations;
using RetailSync.Platform;

namespace RetailSync.Benchmarks;

/// <summary>
/// Identity resolution quality and speed: the labelled data set (<see cref="IdentityDataSet"/>, fixed seed)
/// goes through the real resolver, key and customer grains of a running silo (embedded, or cluster mode on
/// PostgreSQL), with golden records distributed to the sandbox CRM and ERP meanwhile, at the vendors' default
/// request rates (Salesforce 25/s, Business Central 20/s): what distribution cannot send yet waits, coalesced per customer. Printed: pairwise
/// precision and recall of the automatic links, the residual duplicate-customer rate, merge candidates and
/// how many of them are right, records/s and the grain-write rate of the same silo as the baseline.
/// </summary>
public static class IdentityScenario
{
    private const string Tenant = "bench";

    public static async Task<int> RunAsync(string[] args, BenchOptions options)
    {
        var people = int.Parse(BenchOptions.Option(args, "people", "8000"), CultureInfo.InvariantCulture);
        var distribute = bool.Parse(BenchOptions.Option(args, "distribute", "true"));
        var watch = Stopwatch.StartNew();
        var (records, _) = IdentityDataSet.Generate(people);
        Console.WriteLine($"data set: {records.Count} source records of {people} people, generated in {watch.Elapsed.TotalSeconds:F1} s");

        string[] common =
        [
            "--Logging:LogLevel:Default=Warning", "--RetailSync:Dashboard:Enabled=false",
            $"--RetailSync:Shops:{IdentityDataSet.Shop}:Tenant={Tenant}", $"--RetailSync:Shops:{IdentityDataSet.Shop}:WebhookSecret=bench-webhook-secret-not-for-production",
            "--RetailSync:ApiKeys:0=bench-api-key-not-for-production", $"--RetailSync:Identity:Distribute={distribute}",
        ];
        var rows = new List<LoadResult>();
        var ratios = new List<(string, string)>();
        var failed = false;
        foreach (var topology in options.Topologies)
        {
            PostgresServer? postgres = null;
            SiloProcess silo;
            IHost client;
            if (topology == "cluster")
            {
                postgres = await PostgresServer.StartAsync(durable: true);
                var db = await postgres.CreateDatabaseAsync();
                var clusterId = "bench-" + Guid.NewGuid().ToString("N")[..6];
                silo = SiloProcess.Start([
                    .. common, "--RetailSync:Mode=Cluster", "--RetailSync:Silo:ServeApi=true", "--RetailSync:Sandbox:Enabled=true", "--RetailSync:Sandbox:AllowInCluster=true",
                    $"--RetailSync:Cluster:ConnectionString={db}", $"--RetailSync:Cluster:ClusterId={clusterId}",
                    $"--RetailSync:Cluster:SiloPort={PostgresServer.FreePort()}", $"--RetailSync:Cluster:GatewayPort={PostgresServer.FreePort()}"]);
                client = Client(c =>
                {
                    c.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, "retailsync"));
                    c.UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = ("Npgsql", db));
                });
            }
            else
            {
                var gatewayPort = PostgresServer.FreePort();
                silo = SiloProcess.Start([.. common, $"--RetailSync:Embedded:SiloPort={PostgresServer.FreePort()}", $"--RetailSync:Embedded:GatewayPort={gatewayPort}"]);
                client = Client(c => c.UseLocalhostClustering(gatewayPort));
            }

            try
            {
                await silo.WaitReadyAsync(TimeSpan.FromSeconds(60));
                await client.StartAsync();
                var grains = client.Services.GetRequiredService<IClusterClient>();
                var (row, baseline, score, candidates) = await MeasureAsync(topology, grains, records, people, options, args.Contains("--explain"));
                rows.AddRange([baseline, row]);
                var f = CultureInfo.InvariantCulture;
                ratios.Add(($"{topology}: precision of automatic links", score.Precision.ToString("F4", f) + " (target >= 0.995)"));
                ratios.Add(($"{topology}: recall", score.Recall.ToString("F4", f)));
                ratios.Add(($"{topology}: residual duplicate customers", (score.ResidualDuplicateRate * 100).ToString("F2", f) + $" % of {score.People} people in {score.Goldens} golden records (target <= 1 %)"));
                ratios.Add(($"{topology}: merge candidates for stewards", candidates));
                ratios.Add(($"{topology}: records/s ÷ grain writes/s", (row.PerSecond / baseline.PerSecond).ToString("F2", f) + $" (target >= 1,000 records/s: {row.PerSecond:F0})"));
                ratios.Add(($"{topology}: distribution backlog at the end", await BacklogAsync(grains)));
                failed |= score.Precision < 0.995 || score.ResidualDuplicateRate > 0.01;
            }
            finally
            {
                await client.StopAsync();
                client.Dispose();
                await silo.DisposeAsync();
                if (postgres is not null)
                {
                    await postgres.DisposeAsync();
                }
            }
        }

        await Report.WriteAsync("identity", rows, ratios, new { people, records = records.Count, options.Concurrency, distribute, topologies = options.Topologies });
        return failed ? 1 : 0;
    }

    private static async Task<(LoadResult Row, LoadResult Baseline, IdentityScore Score, string Candidates)> MeasureAsync(
        string topology, IClusterClient grains, IReadOnlyList<LabelledRecord> records, int people, BenchOptions options, bool explain)
    {
        // Baseline: one grain call with a state write, the unit every resolution is made of, same silo, same concurrency.
        var run = Guid.NewGuid().ToString("N")[..6];
        var baseline = await LoadGenerator.RunAsync($"{topology}: grain call + state write (baseline)", options.Concurrency, TimeSpan.FromSeconds(2),
            TimeSpan.FromSeconds(Math.Min(options.Seconds, 10)), async (_, n) =>
            {
                await grains.GetGrain<IHealthProbeGrain>($"bench-{run}-{n}").TouchAsync();
                return true;
            });

        var resolver = grains.GetGrain<IIdentityResolverGrain>(0);
        var goldens = new string?[records.Count];
        var latencies = new double[records.Count];
        long errors = 0;
        var watch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, records.Count), new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency }, async (i, _) =>
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                goldens[i] = (await resolver.ResolveAsync(Tenant, records[i].Record)).GoldenId;
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException)
            {
                Interlocked.Increment(ref errors);
                Console.Error.WriteLine($"record {i}: {ex.GetType().Name}: {ex.Message}");
            }

            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        });
        var seconds = watch.Elapsed.TotalSeconds;
        Array.Sort(latencies);
        var row = new LoadResult($"{topology}: source records resolved", options.Concurrency, records.Count - errors, errors, seconds,
            records.Count / seconds, latencies[latencies.Length / 2], latencies[(int)(latencies.Length * 0.99)]);

        // Merges after a record was linked move it: every record is scored by where its golden id leads now.
        var survivors = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var chunk in goldens.OfType<string>().Distinct().Chunk(500))
        {
            var followed = await Task.WhenAll(chunk.Select(id => resolver.FollowAsync(Tenant, id)));
            for (var i = 0; i < chunk.Length; i++)
            {
                survivors[chunk[i]] = followed[i];
            }
        }

        var assignments = records.Select((r, i) => (r.Person, goldens[i] is { } g ? survivors[g] : null)).ToList();
        var score = IdentityDataSet.Score(assignments, people);
        if (explain)
        {
            Explain(records, assignments);
        }

        return (row, baseline, score, await CandidatesAsync(grains, assignments));
    }

    /// <summary>Examples of the two kinds of error: one golden record holding two people, one person in two golden records.</summary>
    private static void Explain(IReadOnlyList<LabelledRecord> records, List<(int Person, string? Golden)> assignments)
    {
        static string Show(SourceRecord r) =>
            $"{r.System}:{r.SourceId ?? "guest"} {r.Field(CustomerFields.FirstName)} {r.Field(CustomerFields.LastName)} <{r.Field(CustomerFields.Email)?.Trim()}> loyalty {r.Field(CustomerFields.LoyaltyId) ?? "-"}";
        var indexed = assignments.Select((a, i) => (a.Person, a.Golden, Record: records[i].Record)).Where(a => a.Golden is not null).ToList();
        Console.WriteLine("golden records holding more than one person:");
        foreach (var g in indexed.GroupBy(a => a.Golden).Where(g => g.Select(a => a.Person).Distinct().Count() > 1).Take(8))
        {
            Console.WriteLine($"  {g.Key}:");
            foreach (var a in g)
            {
                Console.WriteLine($"    person {a.Person}: {Show(a.Record)}");
            }
        }

        Console.WriteLine("people in more than one golden record:");
        foreach (var p in indexed.GroupBy(a => a.Person).Where(p => p.Select(a => a.Golden).Distinct().Count() > 1).Take(12))
        {
            Console.WriteLine($"  person {p.Key}:");
            foreach (var a in p)
            {
                Console.WriteLine($"    {a.Golden}: {Show(a.Record)}");
            }
        }
    }

    /// <summary>Open merge candidates, and how many of them are one person by the labels (the steward's work, and its yield).</summary>
    private static async Task<string> CandidatesAsync(IClusterClient grains, List<(int Person, string? Golden)> assignments)
    {
        var open = (await grains.GetGrain<IExceptionQueueGrain>("ops").ListAsync(false)).Where(e => e.Operation == MergeCandidate.Operation).ToList();
        var owner = assignments.Where(a => a.Golden is not null).GroupBy(a => a.Golden!)
            .ToDictionary(g => g.Key, g => g.GroupBy(a => a.Person).MaxBy(p => p.Count())!.Key, StringComparer.Ordinal);
        var same = open.Select(e => JsonSerializer.Deserialize<MergeCandidate>(e.Payload)!)
            .Count(c => owner.TryGetValue(c.A, out var a) && owner.TryGetValue(c.B, out var b) && a == b);
        return $"{open.Count} open, {same} of them one person by the labels";
    }

    private static async Task<string> BacklogAsync(IClusterClient grains)
    {
        var views = await Task.WhenAll(new[] { "crm", "erp" }.Select(s => grains.GetGrain<IOutboundDispatcherGrain>(s).GetAsync()));
        return string.Join("; ", views.Select(v => $"{v.System}: {v.Queued} queued, {v.Succeeded} done, {v.Calls} calls"));
    }

    private static IHost Client(Action<IClientBuilder> configure) =>
        Host.CreateDefaultBuilder()
            .ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning))
            .UseOrleansClient(configure)
            .Build();

}
