using RetailSync.Benchmarks;

var options = BenchOptions.Parse(args);
switch (options.Scenario)
{
    case "intake":
        await IntakeScenario.RunAsync(options);
        return 0;
    case "mapping":
        await MappingScenario.RunAsync(options);
        return 0;
    default:
        Console.Error.WriteLine($"unknown scenario '{options.Scenario}'. Scenarios: intake, mapping");
        Console.Error.WriteLine("usage: dotnet run -c Release --project tests/RetailSync.Benchmarks -- <scenario> [--seconds 10] [--warmup 3] [--concurrency 32] [--topology embedded,cluster] [--dashboard false]");
        return 2;
}
