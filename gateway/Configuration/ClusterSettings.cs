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
            CheckSecret(problems, $"RetailSync:Shops:{domain}:WebhookSecret", shop.WebhookSecret, required: true);
            CheckSecret(problems, $"RetailSync:Shops:{domain}:PreviousWebhookSecret", shop.PreviousWebhookSecret, required: false);
            if (string.IsNullOrWhiteSpace(shop.Tenant))
            {
                problems.Add($"RetailSync:Shops:{domain}:Tenant is missing.");
            }
        }

        foreach (var (kind, callbacks) in new[] { ("ErpCallbacks", options.ErpCallbacks), ("CrmCallbacks", options.CrmCallbacks) })
        {
            foreach (var (connector, callback) in callbacks)
            {
                CheckSecret(problems, $"RetailSync:{kind}:{connector}:Secret", callback.Secret, required: true);
                CheckSecret(problems, $"RetailSync:{kind}:{connector}:PreviousSecret", callback.PreviousSecret, required: false);
            }
        }

        if (options.ApiKeys.Count == 0)
        {
            problems.Add("RetailSync:ApiKeys is missing (env RetailSync__ApiKeys__0).");
        }

        for (var i = 0; i < options.ApiKeys.Count; i++)
        {
            CheckSecret(problems, $"RetailSync:ApiKeys:{i}", options.ApiKeys[i], required: true);
        }

        if (configuration.GetValue("RetailSync:Sandbox:Enabled", false) && !configuration.GetValue("RetailSync:Sandbox:AllowInCluster", false))
        {
            // The simulated vendors answer anyone and accept the public sandbox tokens.
            problems.Add("RetailSync:Sandbox:Enabled is true: the simulated vendors are not served in cluster mode (a test cluster may set RetailSync:Sandbox:AllowInCluster).");
        }

        return problems;
    }

    /// <summary>Secrets and API keys are at least this long: a short one falls to guessing (HMAC keys are 32 bytes for a reason).</summary>
    public const int MinSecretLength = 32;

    private static readonly HashSet<string> DevelopmentSecrets =
    [
        DevelopmentDefaults.WebhookSecret, DevelopmentDefaults.ErpCallbackSecret, DevelopmentDefaults.CrmCallbackSecret, DevelopmentDefaults.ApiKey,
    ];

    private static void CheckSecret(List<string> problems, string setting, string? value, bool required)
    {
        if (string.IsNullOrEmpty(value))
        {
            if (required)
            {
                problems.Add($"{setting} is missing.");
            }
        }
        else if (DevelopmentSecrets.Contains(value.Trim()))
        {
            problems.Add($"{setting} is a public development value.");
        }
        else if (value.Trim().Length < MinSecretLength)
        {
            problems.Add($"{setting} is shorter than {MinSecretLength} characters.");
        }
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
