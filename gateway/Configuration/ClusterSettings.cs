using Microsoft.Extensions.Configuration;

namespace RetailSync.Gateway.Configuration;

/// <summary>Where a cluster keeps its membership and state; shared by silos and gateways.</summary>
public sealed record ClusterSettings(string ConnectionString, string ClusterId, string ServiceId)
{
    public const string ConnectionStringKey = "RetailSync:Cluster:ConnectionString";

    public static ClusterSettings Read(IConfiguration configuration) => new(
        configuration[ConnectionStringKey] ?? "",
        configuration["RetailSync:Cluster:ClusterId"] ?? "retailsync",
        configuration["RetailSync:Cluster:ServiceId"] ?? "retailsync");
}

/// <summary>Refuses to run a cluster with missing settings or with the public development secrets.</summary>
public static class ClusterModeGuard
{
    public static IReadOnlyList<string> Problems(IConfiguration configuration, bool servesWebhooksAndApi)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(configuration[ClusterSettings.ConnectionStringKey]))
        {
            problems.Add($"{ClusterSettings.ConnectionStringKey} is missing (env RetailSync__Cluster__ConnectionString): the PostgreSQL connection string.");
        }

        if (!servesWebhooksAndApi)
        {
            return problems;
        }

        var options = new RetailSyncOptions();
        configuration.GetSection(RetailSyncOptions.Section).Bind(options);
        if (options.Shops.Count == 0)
        {
            problems.Add("RetailSync:Shops is empty: set RetailSync__Shops__<shop domain>__WebhookSecret and __Tenant for every shop.");
        }

        foreach (var (domain, shop) in options.Shops)
        {
            if (string.IsNullOrWhiteSpace(shop.WebhookSecret) || shop.WebhookSecret == DevelopmentDefaults.WebhookSecret)
            {
                problems.Add($"RetailSync:Shops:{domain}:WebhookSecret is missing or is the development secret.");
            }

            if (string.IsNullOrWhiteSpace(shop.Tenant))
            {
                problems.Add($"RetailSync:Shops:{domain}:Tenant is missing.");
            }
        }

        foreach (var (connector, callback) in options.ErpCallbacks)
        {
            if (string.IsNullOrWhiteSpace(callback.Secret) || callback.Secret == DevelopmentDefaults.ErpCallbackSecret)
            {
                problems.Add($"RetailSync:ErpCallbacks:{connector}:Secret is missing or is the development secret.");
            }
        }

        foreach (var (connector, callback) in options.CrmCallbacks)
        {
            if (string.IsNullOrWhiteSpace(callback.Secret) || callback.Secret == DevelopmentDefaults.CrmCallbackSecret)
            {
                problems.Add($"RetailSync:CrmCallbacks:{connector}:Secret is missing or is the development secret.");
            }
        }

        if (options.ApiKeys.Count == 0 || options.ApiKeys.Any(k => string.IsNullOrWhiteSpace(k) || k == DevelopmentDefaults.ApiKey))
        {
            problems.Add("RetailSync:ApiKeys is missing or contains the development key (env RetailSync__ApiKeys__0).");
        }

        return problems;
    }

    public static void EnsureValid(IConfiguration configuration, bool servesWebhooksAndApi)
    {
        var problems = Problems(configuration, servesWebhooksAndApi);
        if (problems.Count > 0)
        {
            throw new ClusterModeRefusedException(
                "Cluster mode refuses to start:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => " - " + p)));
        }
    }
}

/// <summary>Thrown at start-up when cluster mode lacks a setting or uses a development secret.</summary>
public sealed class ClusterModeRefusedException(string message) : Exception(message);
