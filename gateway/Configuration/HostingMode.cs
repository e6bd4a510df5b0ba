using Microsoft.Extensions.Configuration;

namespace RetailSync.Gateway.Configuration;

public enum HostingMode
{
    /// <summary>One process, in-memory state, sandbox vendors: for trying RetailSync out.</summary>
    Embedded,

    /// <summary>Silos and gateways on PostgreSQL: for production.</summary>
    Cluster,
}

public static class HostingModes
{
    public static HostingMode Read(IConfiguration configuration) =>
        configuration.GetValue("RetailSync:Mode", HostingMode.Embedded);
}
