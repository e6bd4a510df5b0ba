using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using RetailSync.Sandbox.BusinessCentral;

namespace RetailSync.Sandbox.Erp;

/// <summary>
/// What a warehouse clerk does in the simulated ERP, and the signed callback the ERP's integration
/// extension then sends to RetailSync (<c>POST /webhooks/erp/bc</c>): ship (part of) an order with
/// tracking, backorder it, hold or release it.
/// </summary>
public static class ErpCallbacks
{
    /// <summary>The embedded default's callback secret (public; cluster mode refuses it).</summary>
    public const string DevelopmentSecret = "sandbox-erp-secret";
    public const string Connector = "bc";

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public sealed record ShipRequest(string OrderId, List<ShipLine>? Lines, string? TrackingCompany, string? TrackingNumber);

    public sealed record ShipLine(string Sku, decimal Quantity);

    public sealed record EventRequest(string Type, string OrderId, string? Reason);

    public sealed record StockRequest(string Sku, string? Location, decimal OnHand);

    public static void MapErp(RouteGroupBuilder group, BusinessCentralSimulator bc, IConfiguration configuration, Func<string?> ownAddress)
    {
        group.MapPost("/ship", async (ShipRequest request, HttpContext http) =>
        {
            var shipment = bc.Ship(request.OrderId, request.Lines?.GroupBy(l => l.Sku).ToDictionary(g => g.Key, g => g.Sum(l => l.Quantity)));
            if (shipment is null)
            {
                return Results.Problem(statusCode: 404, title: "Nothing to ship", detail: $"No sales order {request.OrderId} with open lines in the sandbox ERP.");
            }

            var body = new JsonObject
            {
                ["eventId"] = "ship-" + shipment["id"]!.GetValue<string>(), ["type"] = "order.shipped", ["orderId"] = request.OrderId,
                ["erpNumber"] = shipment["orderNumber"]?.DeepClone(), ["occurredAt"] = DateTimeOffset.UtcNow.ToString("O"),
                ["shipment"] = new JsonObject
                {
                    ["id"] = shipment["number"]!.DeepClone(), ["trackingCompany"] = request.TrackingCompany, ["trackingNumber"] = request.TrackingNumber,
                    ["lines"] = new JsonArray([.. shipment["salesShipmentLines"]!.AsArray().Select(l => (JsonNode)new JsonObject
                    {
                        ["sku"] = l!["lineObjectNumber"]!.DeepClone(), ["quantity"] = (int)l["quantity"]!.GetValue<decimal>(),
                    })]),
                },
            };
            return Results.Ok(new { shipment = Parse(shipment), callback = await SendAsync(http, configuration, ownAddress, body) });
        });
        group.MapPost("/stock", async (StockRequest request, HttpContext http) =>
        {
            if (bc.SetInventory(request.Sku, request.OnHand) is not { } version)
            {
                return Results.Problem(statusCode: 404, title: "Unknown item", detail: $"The sandbox ERP has no item {request.Sku}.");
            }

            // With availability reporting on, the extension reports what the ERP can still promise (on hand less open orders).
            var figure = ReportsAvailability(configuration) ? bc.Available(request.Sku) : request.OnHand;
            var body = new JsonObject
            {
                ["eventId"] = $"stock-{request.Sku}-{version}", ["type"] = "stock.changed", ["sku"] = request.Sku, ["location"] = request.Location ?? "MAIN",
                ["onHand"] = figure, ["version"] = version, ["occurredAt"] = DateTimeOffset.UtcNow.ToString("O"),
            };
            return Results.Ok(new { version, callback = await SendAsync(http, configuration, ownAddress, body) });
        });
        group.MapPost("/events", async (EventRequest request, HttpContext http) =>
        {
            var body = new JsonObject
            {
                ["eventId"] = $"{request.Type}-{Guid.NewGuid():N}", ["type"] = request.Type, ["orderId"] = request.OrderId,
                ["reason"] = request.Reason, ["occurredAt"] = DateTimeOffset.UtcNow.ToString("O"),
            };
            return Results.Ok(new { callback = await SendAsync(http, configuration, ownAddress, body) });
        });
    }

    private static bool ReportsAvailability(IConfiguration configuration) => configuration.GetValue("RetailSync:Sandbox:ErpReportsAvailability", false);

    /// <summary>
    /// The ERP extension's availability reports: after every sales order, each of its items' availability goes to
    /// RetailSync as a <c>stock.changed</c> callback (sent in the background; versions order late ones).
    /// </summary>
    public static void ReportAvailability(BusinessCentralSimulator bc, IConfiguration configuration, Func<string?> ownAddress)
    {
        if (!ReportsAvailability(configuration))
        {
            return;
        }

        bc.AvailabilityChanged += changes =>
        {
            var occurredAt = DateTimeOffset.UtcNow.ToString("O");
            foreach (var (sku, available, version) in changes)
            {
                var body = new JsonObject
                {
                    ["eventId"] = $"stock-{sku}-{version}", ["type"] = "stock.changed", ["sku"] = sku, ["location"] = "MAIN",
                    ["onHand"] = available, ["version"] = version, ["occurredAt"] = occurredAt,
                };
                var url = configuration["RetailSync:Sandbox:ErpCallbackUrl"] ?? $"{ownAddress()}/webhooks/erp/{Connector}";
                _ = Task.Run(() => PostAsync(url, configuration, body, CancellationToken.None));
            }
        };
    }

    private static System.Text.Json.JsonElement Parse(JsonNode node) => System.Text.Json.JsonDocument.Parse(node.ToJsonString()).RootElement.Clone();

    /// <summary>
    /// Posts the signed event to RetailSync (by default this same host, by the address it listens on) and reports its
    /// answer. Never to the request's Host header: whoever calls the sandbox would choose where it posts (SSRF).
    /// </summary>
    private static async Task<object> SendAsync(HttpContext http, IConfiguration configuration, Func<string?> ownAddress, JsonObject body)
    {
        var url = configuration["RetailSync:Sandbox:ErpCallbackUrl"] ?? $"{ownAddress()}/webhooks/erp/{Connector}";
        return await PostAsync(url, configuration, body, http.RequestAborted);
    }

    private static async Task<object> PostAsync(string url, IConfiguration configuration, JsonObject body, CancellationToken cancellationToken)
    {
        var secret = configuration["RetailSync:Sandbox:ErpCallbackSecret"] ?? DevelopmentSecret;
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-RetailSync-Hmac-Sha256", Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), bytes)));
        using var response = await Http.SendAsync(request, cancellationToken);
        return new { url, status = (int)response.StatusCode, body = await response.Content.ReadAsStringAsync(cancellationToken), eventId = body["eventId"]!.GetValue<string>() };
    }
}
