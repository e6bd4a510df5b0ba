using RetailSync.Gateway.Hosting;

var app = GatewayClient.Build(args);
await app.RunAsync();
