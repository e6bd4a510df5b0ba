using RetailSync.Benchmarks;

var options = BenchOptions.Parse(args);
switch (options.Scenario)
{
    case "intake":
        await IntakeScenario.RunAsync(options);
        return 0;
    case "flash-sale":
        return await FlashSaleScenario.RunAsync(options, args);
    case "order-e2e" when options.Topologies.SequenceEqual(["cluster"]):
        return await OrderChaosScenario.RunAsync(args);
    case "order-e2e":
        return await OrderE2eScenario.RunAsync(args);
    case "refund":
        return await RefundScenario.RunAsync(options, args);
    case "tryton":
        return await TrytonScenario.RunAsync(args);
    case "token-expiry":
        return await TokenExpiryScenario.RunAsync(args);
    case "memory":
        return await MemoryScenario.RunAsync(args, options);
    case "inventory":
        return await InventoryScenario.RunAsync(args);
    case "identity":
        return await IdentityScenario.RunAsync(args, options);
    case "mapping":
        await MappingScenario.RunAsync(options);
        return 0;
    default:
        Console.Error.WriteLine($"unknown scenario '{options.Scenario}'. Scenarios: intake, order-e2e, flash-sale, refund, identity, inventory, memory, tryton, token-expiry, mapping");
        Console.Error.WriteLine("usage: dotnet run -c Release --project tests/RetailSync.Benchmarks -- <scenario> [--seconds 10] [--warmup 3] [--concurrency 32] [--topology embedded,cluster] [--dashboard false]");
        Console.Error.WriteLine("       flash-sale [--orders 20000] [--over 60] [--erp-limit 50] [--batch 50] [--concurrency 8] [--headroom 0.97] [--vendors in-process|process] [--topology cluster]   (cluster: separate processes)");
        Console.Error.WriteLine("       order-e2e [--rate 100] [--seconds 20] [--latency 20] [--concurrency 8]");
        Console.Error.WriteLine("       order-e2e --topology cluster [--orders 5000] [--rate 50]   (separate processes, silo kill -9, PostgreSQL restart)");
        Console.Error.WriteLine("       refund [--refunds 500] [--rate 25] [--latency 20] [--topology cluster]   (cluster: separate processes)");
        Console.Error.WriteLine("       identity [--people 8000] [--concurrency 32] [--topology embedded,cluster] [--distribute true]");
        Console.Error.WriteLine("       inventory [--skus 10000] [--rate 2000] [--seconds 20]");
        Console.Error.WriteLine("       memory [--grains 100000] [--concurrency 32]");
        Console.Error.WriteLine("       tryton [--orders 60] [--batch 10]");
        Console.Error.WriteLine("       token-expiry [--orders 1000] [--rate 15] [--lifetime 20]   (every vendor's tokens expire during the run)");
        return 2;
}
