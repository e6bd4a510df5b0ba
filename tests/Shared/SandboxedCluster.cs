using RetailSync.Sandbox.BusinessCentral;
using RetailSync.Sandbox.Salesforce;
using RetailSync.Sandbox.Shopify;

namespace RetailSync.Testing;

/// <summary>Arguments for a cluster-mode silo process on PostgreSQL whose connectors point at a sandbox host over HTTP.</summary>
public static class SandboxedCluster
{
    /// <summary>Connector settings that send every vendor call to the sandbox host at <paramref name="sandboxUrl"/>.</summary>
    public static string[] VendorArgs(string sandboxUrl)
    {
        var self = sandboxUrl.TrimEnd('/');
        return
        [
            $"--RetailSync:Connectors:Shopify:Endpoint={self}/sandbox/shopify", $"--RetailSync:Connectors:Shopify:AccessToken={ShopifySimulator.AccessToken}",
            $"--RetailSync:Connectors:Salesforce:InstanceUrl={self}/sandbox/salesforce", $"--RetailSync:Connectors:Salesforce:AccessToken={SalesforceSimulator.AccessToken}",
            $"--RetailSync:Connectors:Salesforce:GuestAccountId={SalesforceSimulator.GuestAccountId}",
            $"--RetailSync:Connectors:BusinessCentral:BaseUrl={self}/sandbox/bc/v2.0/sandbox/api/v2.0", $"--RetailSync:Connectors:BusinessCentral:CompanyId={BusinessCentralSimulator.CompanyId}",
            $"--RetailSync:Connectors:BusinessCentral:AccessToken={BusinessCentralSimulator.AccessToken}",
            $"--RetailSync:Connectors:BusinessCentral:WriteOffAccount={BusinessCentralSimulator.WriteOffAccount}",
        ];
    }

    public static string[] SiloArgs(string connectionString, string clusterId, string sandboxUrl, string shop, string secret, string apiKey, params string[] extra)
    {
        return
        [
            "--RetailSync:Mode=Cluster", "--RetailSync:Silo:ServeApi=true", "--RetailSync:Dashboard:Enabled=false",
            $"--RetailSync:Cluster:ConnectionString={connectionString}", $"--RetailSync:Cluster:ClusterId={clusterId}",
            $"--RetailSync:Cluster:SiloPort={PostgresServer.FreePort()}", $"--RetailSync:Cluster:GatewayPort={PostgresServer.FreePort()}",
            "--RetailSync:Cluster:ProbeTimeoutSeconds=2", "--RetailSync:Cluster:ExtendProbeTimeoutWhenBusy=false",
            $"--RetailSync:Shops:{shop}:Tenant=test", $"--RetailSync:Shops:{shop}:WebhookSecret={secret}", $"--RetailSync:ApiKeys:0={apiKey}",
            .. VendorArgs(sandboxUrl),
            .. extra,
        ];
    }
}
