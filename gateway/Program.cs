using RetailSync.Gateway.Configuration;
using RetailSync.Gateway.Hosting;

WebApplication app;
try
{
    app = GatewayClient.Build(args);
}
catch (ClusterModeRefusedException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}

await app.RunAsync();
return 0;
