using RetailSync.Gateway.Configuration;
using RetailSync.Silo.Hosting;

if (args is ["migrate", ..])
{
    return await MigrateCommand.RunAsync(args[1..]);
}

if (args is ["check-connections", ..])
{
    return await CheckConnectionsCommand.RunAsync(args[1..]);
}

WebApplication app;
try
{
    app = SiloHost.Build(args);
}
catch (ClusterModeRefusedException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}

await app.RunAsync();
return 0;
