namespace RetailSync.Connectors;

/// <summary>Settings under <c>RetailSync:Connectors</c>.</summary>
public sealed class ConnectorOptions
{
    public const string Section = "RetailSync:Connectors";

    public ShopifyConnectorOptions Shopify { get; set; } = new();

    public SalesforceConnectorOptions Salesforce { get; set; } = new();

    public BusinessCentralConnectorOptions BusinessCentral { get; set; } = new();

    /// <summary>Share of each vendor limit we allow ourselves, so network jitter never pushes us over it.</summary>
    public double RateLimitHeadroom { get; set; } = 0.9;
}

public sealed class ShopifyConnectorOptions
{
    /// <summary>Base of the Admin API; <c>{shop}</c> is replaced by the shop's myshopify.com domain.</summary>
    public string Endpoint { get; set; } = "https://{shop}";

    public string ApiVersion { get; set; } = "2026-01";

    public string AccessToken { get; set; } = "";

    /// <summary>Requests per second across the cluster; 0 leaves pacing to the cost bucket alone.</summary>
    public double RequestsPerSecond { get; set; }
}

public sealed class SalesforceConnectorOptions
{
    /// <summary>The org's instance URL, e.g. https://acme.my.salesforce.com.</summary>
    public string InstanceUrl { get; set; } = "";

    public string ApiVersion { get; set; } = "v62.0";

    public string AccessToken { get; set; } = "";

    public double RequestsPerSecond { get; set; } = 25;
}

public sealed class BusinessCentralConnectorOptions
{
    /// <summary>Up to and including <c>/api/v2.0</c>, e.g. https://api.businesscentral.dynamics.com/v2.0/{tenant}/production/api/v2.0.</summary>
    public string BaseUrl { get; set; } = "";

    public Guid CompanyId { get; set; }

    public string AccessToken { get; set; } = "";

    /// <summary>Business Central allows 6,000 requests per 5 minutes per user: 20 per second.</summary>
    public double RequestsPerSecond { get; set; } = 20;
}
