namespace RetailSync.Gateway.Configuration;

/// <summary>Settings under <c>RetailSync</c> that the HTTP API needs.</summary>
public sealed class RetailSyncOptions
{
    public const string Section = "RetailSync";

    /// <summary>Shops we accept webhooks from, keyed by their myshopify.com domain.</summary>
    public Dictionary<string, ShopOptions> Shops { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>ERP connectors allowed to call <c>POST /webhooks/erp/{connector}</c>, keyed by connector name (e.g. <c>bc</c>).</summary>
    public Dictionary<string, ErpCallbackOptions> ErpCallbacks { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>CRM connectors allowed to call <c>POST /webhooks/crm/{connector}</c> (e.g. <c>salesforce</c>), signed the same way.</summary>
    public Dictionary<string, ErpCallbackOptions> CrmCallbacks { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Bearer keys accepted by the query and operations API.</summary>
    public List<string> ApiKeys { get; set; } = [];

    /// <summary>Webhook bodies larger than this are refused with 413.</summary>
    public long MaxWebhookBodyBytes { get; set; } = 2 * 1024 * 1024;
}

public sealed class ShopOptions
{
    /// <summary>The retailer this shop belongs to; customers and stock are shared across its shops.</summary>
    public string Tenant { get; set; } = "";

    public string WebhookSecret { get; set; } = "";

    /// <summary>The secret being rotated out; still accepted until it is removed from configuration.</summary>
    public string? PreviousWebhookSecret { get; set; }
}

public sealed class ErpCallbackOptions
{
    /// <summary>Signs the callbacks: <c>X-RetailSync-Hmac-Sha256</c> = base64 HMAC-SHA256 of the raw body.</summary>
    public string Secret { get; set; } = "";

    /// <summary>The secret being rotated out; still accepted until it is removed from configuration.</summary>
    public string? PreviousSecret { get; set; }

    /// <summary>The retailer whose stock this ERP holds (stock callbacks); may be left out when all shops have one tenant.</summary>
    public string? Tenant { get; set; }
}

/// <summary>
/// Values that make the embedded default work with nothing configured. They are public knowledge,
/// so cluster mode refuses to start with any of them.
/// </summary>
public static class DevelopmentDefaults
{
    public const string Tenant = "sandbox";
    public const string Shop = "sandbox.myshopify.com";
    public const string WebhookSecret = "sandbox-webhook-secret";
    public const string ErpConnector = "bc";
    public const string ErpCallbackSecret = "sandbox-erp-secret";
    public const string CrmConnector = "salesforce";
    public const string CrmCallbackSecret = "sandbox-crm-secret";
    public const string ApiKey = "dev-api-key";
    public const string Url = "http://127.0.0.1:5080";

    public static void Apply(RetailSyncOptions options)
    {
        if (options.Shops.Count == 0)
        {
            options.Shops[Shop] = new ShopOptions { Tenant = Tenant, WebhookSecret = WebhookSecret };
        }

        if (options.ApiKeys.Count == 0)
        {
            options.ApiKeys.Add(ApiKey);
        }

        if (options.ErpCallbacks.Count == 0)
        {
            options.ErpCallbacks[ErpConnector] = new ErpCallbackOptions { Secret = ErpCallbackSecret };
        }

        if (options.CrmCallbacks.Count == 0)
        {
            options.CrmCallbacks[CrmConnector] = new ErpCallbackOptions { Secret = CrmCallbackSecret };
        }
    }
}
