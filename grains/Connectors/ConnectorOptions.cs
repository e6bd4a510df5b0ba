namespace RetailSync.Connectors;

/// <summary>Settings under <c>RetailSync:Connectors</c>.</summary>
public sealed class ConnectorOptions
{
    public const string Section = "RetailSync:Connectors";

    public ShopifyConnectorOptions Shopify { get; set; } = new();

    public SalesforceConnectorOptions Salesforce { get; set; } = new();

    public BusinessCentralConnectorOptions BusinessCentral { get; set; } = new();

    /// <summary>Which ERP adapter serves <see cref="IErp"/>: <c>BusinessCentral</c> (default) or <c>Tryton</c>.</summary>
    public string Erp { get; set; } = ErpKinds.BusinessCentral;

    public TrytonConnectorOptions Tryton { get; set; } = new();

    /// <summary>Share of each vendor limit we allow ourselves, so network jitter never pushes us over it.</summary>
    public double RateLimitHeadroom { get; set; } = 0.9;
}

public sealed class ShopifyConnectorOptions
{
    /// <summary>Base of the Admin API; <c>{shop}</c> is replaced by the shop's myshopify.com domain.</summary>
    public string Endpoint { get; set; } = "https://{shop}";

    public string ApiVersion { get; set; } = "2026-01";

    /// <summary>A static Admin API token; ignored when a Dev Dashboard app (<see cref="ClientId"/>) is configured.</summary>
    public string AccessToken { get; set; } = "";

    /// <summary>The Dev Dashboard app's client id; with it, each shop's token comes from the client-credentials grant.</summary>
    public string ClientId { get; set; } = "";

    public string ClientSecret { get; set; } = "";

    /// <summary>Requests per second across the cluster; 0 leaves pacing to the cost bucket alone.</summary>
    public double RequestsPerSecond { get; set; }
}

public sealed class SalesforceConnectorOptions
{
    /// <summary>The org's instance URL, e.g. https://acme.my.salesforce.com.</summary>
    public string InstanceUrl { get; set; } = "";

    public string ApiVersion { get; set; } = "v62.0";

    /// <summary>A static session token; ignored when a connected app (<see cref="ClientId"/>) is configured.</summary>
    public string AccessToken { get; set; } = "";

    /// <summary>The org's My Domain URL (e.g. https://acme.my.salesforce.com), where the client-credentials token is asked for.</summary>
    public string LoginUrl { get; set; } = "";

    /// <summary>The connected app's consumer key; with it, tokens come from the client-credentials flow and the instance URL from its answer.</summary>
    public string ClientId { get; set; } = "";

    public string ClientSecret { get; set; } = "";

    /// <summary>
    /// The account orders go under when the CRM has no contact (and so no account) for the buyer: a Salesforce
    /// <c>Order</c> cannot exist without an <c>AccountId</c>.
    /// </summary>
    public string GuestAccountId { get; set; } = "";

    public double RequestsPerSecond { get; set; } = 25;
}

public sealed class BusinessCentralConnectorOptions
{
    /// <summary>Up to and including <c>/api/v2.0</c>, e.g. https://api.businesscentral.dynamics.com/v2.0/{tenant}/production/api/v2.0.</summary>
    public string BaseUrl { get; set; } = "";

    public Guid CompanyId { get; set; }

    /// <summary>A static bearer token; ignored when an Entra ID app registration (<see cref="ClientId"/>) is configured.</summary>
    public string AccessToken { get; set; } = "";

    /// <summary>The customer's Microsoft Entra ID tenant (id or domain).</summary>
    public string TenantId { get; set; } = "";

    /// <summary>The app registration's client id; with it, tokens come from MSAL's client-credentials flow.</summary>
    public string ClientId { get; set; } = "";

    public string ClientSecret { get; set; } = "";

    /// <summary>Sandbox only: where MSAL's requests to login.microsoftonline.com are carried instead (the simulated Entra ID).</summary>
    public string SandboxEntraUrl { get; set; } = "";

    /// <summary>G/L account that credit memo lines of goods not taken back are booked to (a refund's write-off).</summary>
    public string WriteOffAccount { get; set; } = "";

    /// <summary>Business Central allows 6,000 requests per 5 minutes per user: 20 per second.</summary>
    public double RequestsPerSecond { get; set; } = 20;
}

public static class ErpKinds
{
    public const string BusinessCentral = "BusinessCentral";
    public const string Tryton = "Tryton";
}

public sealed class TrytonConnectorOptions
{
    /// <summary>The trytond web listener, e.g. http://127.0.0.1:8000 (the database name is the path under it).</summary>
    public string Url { get; set; } = "";

    public string Database { get; set; } = "";

    public string User { get; set; } = "admin";

    public string Password { get; set; } = "";

    /// <summary>Code of the warehouse (<c>stock.location</c>) sales ship from and stock is read for.</summary>
    public string WarehouseCode { get; set; } = "WH";

    /// <summary>
    /// A Tryton server takes ~2.3 sales/s (confirm with processing ~320 ms): more requests only queue
    /// in front of it. Calls of any kind count.
    /// </summary>
    public double RequestsPerSecond { get; set; } = 20;
}
