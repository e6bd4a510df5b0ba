using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using RetailSync.Sandbox.BusinessCentral;
using RetailSync.Sandbox.Faults;
using RetailSync.Sandbox.Salesforce;
using RetailSync.Sandbox.Shopify;

namespace RetailSync.Sandbox;

/// <summary>Simulated vendor APIs, mounted under <c>/sandbox</c> in the embedded default, tests and benchmarks.</summary>
public static class SandboxApi
{
    public const string Shopify = "shopify";
    public const string Salesforce = "salesforce";
    public const string BusinessCentral = "bc";

    public static IServiceCollection AddSandbox(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ShopifySimulator>();
        services.AddSingleton<SalesforceSimulator>();
        services.AddSingleton<BusinessCentralSimulator>();
        services.AddSingleton<SandboxTraffic>();
        return services;
    }

    public static IEndpointRouteBuilder MapSandbox(this IEndpointRouteBuilder app)
    {
        var traffic = app.ServiceProvider.GetRequiredService<SandboxTraffic>();
        var shopify = app.ServiceProvider.GetRequiredService<ShopifySimulator>();
        var salesforce = app.ServiceProvider.GetRequiredService<SalesforceSimulator>();
        var bc = app.ServiceProvider.GetRequiredService<BusinessCentralSimulator>();
        var group = app.MapGroup("/sandbox");
        // Tokens that expire within a run (e.g. 00:00:20) for exercising renewal end to end; the vendors' own lifetimes otherwise.
        if (TimeSpan.TryParse(app.ServiceProvider.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>()["RetailSync:Sandbox:TokenLifetime"],
            System.Globalization.CultureInfo.InvariantCulture, out var lifetime))
        {
            foreach (var tokens in new[] { shopify.Tokens, salesforce.Sessions, bc.Tokens })
            {
                tokens.Lifetime = tokens.DefaultLifetime = lifetime;
            }
        }

        group.MapGet("/state/tokens", () => TypedResults.Ok(new
        {
            shopify = shopify.Tokens.Issued, salesforce = salesforce.Sessions.Issued, bc = bc.Tokens.Issued,
        }));

        group.MapGet("/", () => TypedResults.Ok(new
        {
            systems = new[] { Shopify, Salesforce, BusinessCentral },
            shopify = "/sandbox/shopify/admin/api/2026-01/graphql.json (X-Shopify-Access-Token: a token from /sandbox/shopify/admin/oauth/access_token, client_credentials with "
                + ShopifySimulator.AppClientId + " / " + ShopifySimulator.AppClientSecret + ", or " + ShopifySimulator.AccessToken + ")",
            salesforce = "/sandbox/salesforce/services/data/v62.0/ (Bearer: a token from /sandbox/salesforce/services/oauth2/token, client_credentials with "
                + SalesforceSimulator.ConnectedAppId + " / " + SalesforceSimulator.ConnectedAppSecret + ", or " + SalesforceSimulator.AccessToken + ")",
            bc = $"/sandbox/bc/v2.0/sandbox/api/v2.0/companies({BusinessCentralSimulator.CompanyId})/ (Bearer: a token from /sandbox/entra/{BusinessCentralSimulator.TenantId}/oauth2/v2.0/token for client {BusinessCentralSimulator.ClientId}, or {BusinessCentralSimulator.AccessToken})",
        }));
        group.MapGet("/state", () => TypedResults.Ok(new
        {
            shopify = shopify.Snapshot(),
            salesforce = salesforce.Snapshot(),
            bc = bc.Snapshot(),
            traffic = traffic.All.ToDictionary(t => t.System, t => t.Snapshot()),
        }));
        // Traffic alone: cheap to poll during a load run, unlike the whole state.
        group.MapGet("/state/traffic", () => TypedResults.Ok(traffic.All.ToDictionary(t => t.System, t => t.Snapshot())));
        IResult Times(string system, Func<SystemTraffic, DateTimeOffset[]> times) => traffic.Find(system) is { } found
            ? Results.Ok(times(found))
            : Results.Problem(statusCode: 404, title: "Unknown system", detail: $"system must be one of {Shopify}, {Salesforce}, {BusinessCentral}.");
        group.MapGet("/state/traffic/{system}/admissions", (string system) => Times(system, t => t.Admissions()));
        group.MapGet("/state/traffic/{system}/refusals", (string system) => Times(system, t => t.Refusals()));
        group.MapPost("/faults", (FaultSettings settings) =>
        {
            if (traffic.Find(settings.System) is not { } system)
            {
                return Results.Problem(statusCode: 400, title: "Unknown system", detail: $"system must be one of {Shopify}, {Salesforce}, {BusinessCentral}.");
            }

            system.Set(settings);
            return Results.Ok(system.Snapshot());
        });
        group.MapPost("/reset", () =>
        {
            foreach (var t in traffic.All)
            {
                t.Reset();
            }

            shopify.Reset();
            salesforce.Reset();
            bc.Reset();
            return Results.NoContent();
        });

        MapShopify(group.MapGroup("/shopify"), shopify, traffic.Shopify);
        MapSalesforce(group.MapGroup("/salesforce"), salesforce, traffic.Salesforce);
        MapBusinessCentral(group.MapGroup("/bc"), bc, traffic.BusinessCentral);
        // Entra ID, as MSAL reaches it for the Business Central app registration (login.microsoftonline.com/{tenant}/...).
        group.MapPost("/entra/{tenant}/oauth2/v2.0/token", (HttpContext http, string tenant) => bc.TokenAsync(http, tenant)).DisableAntiforgery();
        var configuration = app.ServiceProvider.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>();
        var server = app.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>();
        Erp.ErpCallbacks.MapErp(group.MapGroup("/erp"), bc, configuration, () => OwnAddress(server));
        Erp.ErpCallbacks.ReportAvailability(bc, configuration, () => OwnAddress(server));
        return app;
    }

    /// <summary>This host's own HTTP address (a wildcard listen address becomes loopback).</summary>
    private static string? OwnAddress(Microsoft.AspNetCore.Hosting.Server.IServer server)
    {
        var address = server.Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses
            .FirstOrDefault(a => a.StartsWith("http://", StringComparison.OrdinalIgnoreCase));
        if (address is null)
        {
            return null;
        }

        var uri = new Uri(address.Replace("://+", "://127.0.0.1", StringComparison.Ordinal).Replace("://*", "://127.0.0.1", StringComparison.Ordinal));
        return uri.Host is "0.0.0.0" or "[::]" or "::" ? $"{uri.Scheme}://127.0.0.1:{uri.Port}" : $"{uri.Scheme}://{uri.Authority}";
    }

    private static void MapShopify(RouteGroupBuilder shopify, ShopifySimulator simulator, SystemTraffic traffic)
    {
        shopify.MapPost("/orders", (SeedOrder seed) =>
        {
            simulator.SeedOrder(seed.Id, seed.Name, seed.Lines?.Select(l => (l.Id, l.Sku, l.Quantity)));
            return Results.NoContent();
        });
        // Load runs: the orders a traffic source will send webhooks about, by a range of ids.
        shopify.MapPost("/orders/range", (SeedOrderRange seed) =>
        {
            if (seed.Count is < 1 or > 1_000_000)
            {
                return Results.Problem(statusCode: 400, title: "Bad range", detail: "count must be between 1 and 1,000,000.");
            }

            for (var i = 0L; i < seed.Count; i++)
            {
                var id = (seed.FirstId + i).ToString(System.Globalization.CultureInfo.InvariantCulture);
                simulator.SeedOrder(id, null);
            }

            return Results.NoContent();
        });
        shopify.MapPost("/orders/{orderId}/refunds", (string orderId, JsonObject refund) =>
        {
            simulator.SeedRefund(orderId, refund);
            return Results.NoContent();
        });
        // The GraphQL cost bucket of the shop's plan (Shopify: 100 points/s standard, 1,000 Plus, 2,000 Enterprise).
        shopify.MapPost("/limits", (ShopifyLimits limits) =>
        {
            simulator.MaximumAvailable = limits.MaximumAvailable;
            simulator.RestoreRate = limits.RestoreRate;
            return Results.NoContent();
        });
        shopify.MapPost("/inventory", (SeedInventory seed) =>
        {
            simulator.SeedInventory(seed.InventoryItemId, seed.LocationId, seed.Available);
            return Results.NoContent();
        });
        // Load runs: many inventory items stocked at one location, ids first..first+count-1.
        shopify.MapPost("/inventory/range", (SeedInventoryRange seed) =>
        {
            if (seed.Count is < 1 or > 1_000_000)
            {
                return Results.Problem(statusCode: 400, title: "Bad range", detail: "count must be between 1 and 1,000,000.");
            }

            for (var i = 0L; i < seed.Count; i++)
            {
                simulator.SeedInventory((seed.FirstItemId + i).ToString(System.Globalization.CultureInfo.InvariantCulture), seed.LocationId, seed.Available);
            }

            return Results.NoContent();
        });
        shopify.MapPost("/admin/oauth/access_token", (Func<HttpContext, Task<IResult>>)simulator.TokenAsync).DisableAntiforgery();
        shopify.MapPost("/admin/api/{version}/graphql.json", (HttpContext http, string version) => simulator.HandleAsync(http, version))
            .AddEndpointFilter(new FaultFilter(traffic, (http, kind) => kind switch
            {
                // Shopify answers a throttled GraphQL call with 200 and a THROTTLED error body.
                FaultKind.RateLimited => Results.Text("""{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED","documentation":"https://shopify.dev/api/usage/rate-limits"}}]}""", "application/json"),
                FaultKind.Outage => Results.Json(new { errors = "Service Unavailable" }, statusCode: 503),
                _ => Results.Json(new { errors = "Internal Server Error" }, statusCode: 500),
            }));
    }

    private static void MapSalesforce(RouteGroupBuilder salesforce, SalesforceSimulator simulator, SystemTraffic traffic)
    {
        salesforce.MapPost("/services/oauth2/token", (Func<HttpContext, Task<IResult>>)simulator.TokenAsync).DisableAntiforgery();
        salesforce.MapPost("/validation-rules", (ValidationRule rule) =>
        {
            simulator.AddValidationRule(rule.SObject, rule.Field, rule.Message);
            return Results.NoContent();
        });
        salesforce.MapDelete("/validation-rules", () =>
        {
            simulator.ClearValidationRules();
            return Results.NoContent();
        });
        var api = salesforce.MapGroup("/services/data/{version}").AddEndpointFilter(new FaultFilter(traffic, (_, kind) => kind switch
        {
            FaultKind.RateLimited => SalesforceSimulator.Errors(403, "TotalRequests Limit exceeded.", "REQUEST_LIMIT_EXCEEDED"),
            FaultKind.Outage => SalesforceSimulator.Errors(503, "Service Unavailable", "SERVER_UNAVAILABLE"),
            _ => SalesforceSimulator.Errors(500, "An unexpected error occurred. Please include this ErrorId if you contact support: 1234567-8901 (-1)", "UNKNOWN_EXCEPTION"),
        }));
        api.MapMethods("/composite/sobjects/{sObject}/{field}", ["PATCH"], (HttpContext http, string sObject, string field) => simulator.CollectionsUpsertAsync(http, sObject, field));
        api.MapPost("/sobjects/{sObject}", (HttpContext http, string sObject) => simulator.CreateAsync(http, sObject));
        api.MapMethods("/sobjects/{sObject}/{id}", ["PATCH"], (HttpContext http, string sObject, string id) => simulator.UpdateAsync(http, sObject, id));
        api.MapGet("/query", (HttpContext http, string? q) => simulator.Query(http, q));
        api.MapGet("/query/{locator}", (HttpContext http, string locator) => simulator.More(http, locator));
    }

    private static void MapBusinessCentral(RouteGroupBuilder group, BusinessCentralSimulator simulator, SystemTraffic traffic)
    {
        group.MapPost("/items", (SeedItem seed) =>
        {
            simulator.SeedItem(seed.Number, seed.DisplayName, seed.UnitPrice, seed.Inventory);
            return Results.NoContent();
        });
        var api = group.MapGroup("/v2.0/{environment}/api/v2.0").AddEndpointFilter(new FaultFilter(traffic, (http, kind) =>
        {
            if (kind == FaultKind.RateLimited)
            {
                http.Response.Headers.RetryAfter = "1";
                return BusinessCentralSimulator.Error(429, "Application_TooManyRequests", "Too many requests reached. Actual (6001). Maximum (6000).");
            }

            if (kind == FaultKind.Outage)
            {
                http.Response.Headers.RetryAfter = "5";
                return BusinessCentralSimulator.Error(503, "Internal_ServiceUnavailable", "The service is temporarily unavailable.");
            }

            return BusinessCentralSimulator.Error(500, "Internal_ServerError", "An unexpected error occurred.");
        }));
        api.MapPost("/$batch", async (HttpContext http) =>
        {
            if (simulator.Authenticate(http) is { } refused)
            {
                return refused;
            }

            var body = await JsonNode.ParseAsync(http.Request.Body);
            var (status, result) = simulator.Batch(body, http.Request.Headers["Isolation"] == "snapshot");
            return Results.Text(result.ToJsonString(), "application/json", statusCode: status);
        });
        api.MapMethods("/{**path}", ["GET", "POST", "PATCH", "DELETE"], async (HttpContext http, string path) =>
        {
            if (simulator.Authenticate(http) is { } refused)
            {
                return refused;
            }

            JsonNode? body = null;
            if (http.Request.ContentLength is > 0 || http.Request.Headers.TransferEncoding == "chunked")
            {
                try
                {
                    body = await JsonNode.ParseAsync(http.Request.Body);
                }
                catch (System.Text.Json.JsonException)
                {
                    return BusinessCentralSimulator.Error(400, "BadRequest", "The request body is not valid JSON.");
                }
            }

            var (status, result) = simulator.Execute(http.Request.Method, "/" + path, http.Request.QueryString.Value ?? "", http.Request.Headers.IfMatch.FirstOrDefault(), body);
            return result is null ? Results.StatusCode(status) : Results.Text(result.ToJsonString(), "application/json", statusCode: status);
        });
    }

    private sealed record SeedOrder(string Id, string? Name, IReadOnlyList<SeedLine>? Lines);

    private sealed record SeedLine(string Id, string? Sku, int Quantity);

    private sealed record SeedInventory(string InventoryItemId, string LocationId, int Available);

    private sealed record SeedInventoryRange(long FirstItemId, int Count, string LocationId, int Available);

    private sealed record SeedOrderRange(long FirstId, int Count);

    private sealed record SeedItem(string Number, string DisplayName, decimal UnitPrice, decimal Inventory);

    private sealed record ValidationRule(string SObject, string Field, string Message);
}

/// <summary>Traffic accounting and faults of each simulated system.</summary>
public sealed class SandboxTraffic(TimeProvider clock)
{
    public SystemTraffic Shopify { get; } = new(SandboxApi.Shopify, clock);

    public SystemTraffic Salesforce { get; } = new(SandboxApi.Salesforce, clock);

    public SystemTraffic BusinessCentral { get; } = new(SandboxApi.BusinessCentral, clock);

    public IEnumerable<SystemTraffic> All => [Shopify, Salesforce, BusinessCentral];

    public SystemTraffic? Find(string system) => All.FirstOrDefault(t => t.System == system);
}

public sealed record ShopifyLimits(double MaximumAvailable, double RestoreRate);
