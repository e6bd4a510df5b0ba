using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RetailSync.Erp;
using RetailSync.Gateway.Configuration;
using RetailSync.Intake;
using RetailSync.Inventory;
using RetailSync.Orders;

namespace RetailSync.Gateway.Webhooks;

/// <summary>
/// <c>POST /webhooks/erp/{connector}</c>: events an ERP (or its integration extension) pushes about the sales
/// orders we gave it — shipped with tracking, backordered, released, on hold, rejected. Signed like
/// Shopify's webhooks with the connector's own secret; recorded in the order's grain before the answer.
/// </summary>
public static partial class ErpWebhookApi
{
    public const string SignatureHeader = "X-RetailSync-Hmac-Sha256";
    private static readonly TimeSpan RecordTimeout = TimeSpan.FromSeconds(4);

    public static IEndpointRouteBuilder MapErpWebhooks(this IEndpointRouteBuilder app)
    {
        app.MapPost("/webhooks/erp/{connector}", ReceiveAsync).DisableAntiforgery();
        return app;
    }

    private static async Task<IResult> ReceiveAsync(string connector, HttpContext http, IOptionsMonitor<RetailSyncOptions> options, IClusterClient grains,
        TimeProvider clock, ILoggerFactory loggers)
    {
        var settings = options.CurrentValue;
        // Names are case-insensitive in configuration; the dedupe keys built from it must be too.
        connector = connector.ToLowerInvariant();
        if (!settings.ErpCallbacks.TryGetValue(connector, out var callback))
        {
            return NotSigned();
        }

        var (body, refused) = await ReadSignedAsync(http, settings, callback);
        if (refused is not null)
        {
            return refused;
        }

        ErpCallback? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize<ErpCallback>(body!, JsonOptions);
            if (parsed?.Type == CustomerCallbacks.CustomerChanged && JsonSerializer.Deserialize<CustomerCallbacks.PersonCallback>(body!, JsonOptions) is { } person)
            {
                // A customer changed in the ERP: it goes through identity resolution like every person.
                return await CustomerCallbacks.ReceivePersonAsync(RetailSync.Customers.CustomerSources.Erp, connector, person, callback, settings, grains, clock, http, loggers);
            }
        }
        catch (JsonException ex)
        {
            return Problem(StatusCodes.Status400BadRequest, "Malformed JSON", $"The body is not a valid ERP callback: {ex.Message}");
        }

        if ((Validate(parsed) ?? EdgeRules.TimeProblem("occurredAt", parsed!.OccurredAt, clock.GetUtcNow())) is { } invalid)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid callback", invalid);
        }

        var e = parsed!;
        if (e.Type == StockChanged)
        {
            return await ReceiveStockAsync(connector, e, callback, settings, grains, clock, http, loggers);
        }

        var erpEvent = new ErpOrderEvent(e.Type!, e.OrderId!, e.ErpNumber, e.OccurredAt ?? clock.GetUtcNow(), e.Reason,
            e.Shipment is { } s
                ? new ErpShipment(s.Id!, s.TrackingCompany, s.TrackingNumber, [.. s.Lines!.Select(l => new ErpShipmentLine(l.Sku!, l.Quantity))])
                : null);
        try
        {
            // The ERP knows our order id, not which shop it came from: the shop is the one whose order grain has it.
            var shops = e.Shop is { } named ? [named] : settings.Shops.Keys.ToList();
            foreach (var shop in shops)
            {
                if (!settings.Shops.TryGetValue(shop, out var shopSettings))
                {
                    continue;
                }

                var order = grains.GetGrain<IOrderGrain>(EntityKeys.ForShop(shop, e.OrderId!));
                if (await order.GetAsync().WaitAsync(RecordTimeout) is null)
                {
                    continue;
                }

                // One delivery record per ERP event: its event id is the dedupe key on the order's timeline.
                var delivery = new ShopifyDelivery(shop.ToLowerInvariant(), shopSettings.Tenant, $"erp:{connector}/{e.Type}", $"erp:{connector}:{e.EventId}",
                    null, e.OccurredAt, null, false, clock.GetUtcNow());
                var outcome = await order.ReceiveErpEventAsync(delivery, erpEvent).WaitAsync(RecordTimeout);
                return TypedResults.Ok(outcome == IntakeOutcome.Duplicate
                    ? new WebhookAnswer("duplicate")
                    : new WebhookAnswer("accepted", outcome.ToString().ToLowerInvariant()));
            }

            return Problem(StatusCodes.Status404NotFound, "Unknown order", $"No shop has order {e.OrderId}; the ERP event was not recorded.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !http.RequestAborted.IsCancellationRequested)
        {
            return NotRecorded(http, loggers, ex, connector, e.EventId!);
        }
    }

    /// <summary>
    /// The body of an ERP or CRM callback, read with the same bound as Shopify's webhooks (a body past the
    /// limit is never buffered whole) and verified against the connector's secret; or the problem to answer.
    /// </summary>
    public static async Task<(byte[]? Body, IResult? Problem)> ReadSignedAsync(HttpContext http, RetailSyncOptions settings, ErpCallbackOptions callback)
    {
        string? signature = http.Request.Headers[SignatureHeader];
        if (string.IsNullOrEmpty(signature))
        {
            return (null, NotSigned());
        }

        if (http.Request.ContentLength > settings.MaxWebhookBodyBytes)
        {
            return (null, Problem(StatusCodes.Status413PayloadTooLarge, "Body too large", $"Callbacks are limited to {settings.MaxWebhookBodyBytes} bytes."));
        }

        using var body = await ShopifyWebhookApi.ReadBodyAsync(http, settings.MaxWebhookBodyBytes);
        if (body.Problem is { } unread)
        {
            return (null, unread);
        }

        return ShopifyHmac.Verify(body.Bytes, signature, callback.Secret, callback.PreviousSecret)
            ? (body.ToArray(), null)
            : (null, NotSigned());
    }

    /// <summary>One answer for an unknown connector, a missing signature and a wrong one.</summary>
    public static IResult NotSigned() => Problem(StatusCodes.Status401Unauthorized, "Not authenticated",
        $"The callback is not signed ({SignatureHeader}) by a connector this gateway serves.");

    public const string StockChanged = "stock.changed";

    /// <summary><c>stock.changed</c>: the ERP's on-hand of one SKU at one location, with the ERP's version of that figure.</summary>
    private static async Task<IResult> ReceiveStockAsync(string connector, ErpCallback e, ErpCallbackOptions callback, RetailSyncOptions settings,
        IClusterClient grains, TimeProvider clock, HttpContext http, ILoggerFactory loggers)
    {
        var tenants = settings.Shops.Values.Select(s => s.Tenant).Distinct(StringComparer.Ordinal).ToList();
        var tenant = callback.Tenant ?? (tenants.Count == 1 ? tenants[0] : null);
        if (tenant is null)
        {
            return Problem(StatusCodes.Status400BadRequest, "Unknown tenant", $"Set RetailSync:ErpCallbacks:{connector}:Tenant: the shops belong to several retailers.");
        }

        var change = new ErpStockChange(e.Sku!, e.Location!, e.OnHand!.Value, e.Version!.Value, e.OccurredAt ?? clock.GetUtcNow());
        var delivery = new ShopifyDelivery(tenant, tenant, $"erp:{connector}/{StockChanged}", $"erp:{connector}:{e.EventId}", null, e.OccurredAt, null, false, clock.GetUtcNow());
        try
        {
            var outcome = await grains.GetGrain<ISkuGrain>(EntityKeys.ForShop(tenant, e.Sku!)).ErpStockChangedAsync(delivery, change).WaitAsync(RecordTimeout);
            return TypedResults.Ok(outcome == IntakeOutcome.Duplicate
                ? new WebhookAnswer("duplicate")
                : new WebhookAnswer("accepted", outcome.ToString().ToLowerInvariant()));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !http.RequestAborted.IsCancellationRequested)
        {
            return NotRecorded(http, loggers, ex, connector, e.EventId!);
        }
    }

    private static string? Validate(ErpCallback? e)
    {
        if (e is null)
        {
            return "The body must be a JSON object.";
        }

        if (EdgeRules.FirstKeyProblem(("eventId", e.EventId), ("orderId", e.OrderId), ("shop", e.Shop), ("erpNumber", e.ErpNumber), ("sku", e.Sku),
                ("location", e.Location), ("shipment.id", e.Shipment?.Id)) is { } badKey)
        {
            return badKey;
        }

        if (e.Shipment?.Lines?.Select(l => EdgeRules.KeyProblem("shipment.lines.sku", l.Sku)).FirstOrDefault(p => p is not null) is { } badSku)
        {
            return badSku;
        }

        if (e.OnHand < 0 || e.Version < 0)
        {
            // A negative figure is no stock count, and a version below zero would sort before every real one.
            return "onHand and version must not be negative.";
        }

        if (e.Type == StockChanged)
        {
            return string.IsNullOrWhiteSpace(e.EventId) || string.IsNullOrWhiteSpace(e.Sku) || string.IsNullOrWhiteSpace(e.Location) || e.OnHand is null || e.Version is null
                ? "stock.changed needs eventId, sku, location, onHand and version."
                : null;
        }

        if (string.IsNullOrWhiteSpace(e.EventId) || string.IsNullOrWhiteSpace(e.OrderId) || string.IsNullOrWhiteSpace(e.Type))
        {
            return "eventId, type and orderId are required.";
        }

        if (!ErpOrderEventTypes.All.Contains(e.Type))
        {
            return $"type '{e.Type}' is not one of {string.Join(", ", ErpOrderEventTypes.All)}, {StockChanged}, {CustomerCallbacks.CustomerChanged}.";
        }

        if (e.Type == ErpOrderEventTypes.Shipped
            && (e.Shipment is not { Id.Length: > 0, Lines.Count: > 0 } s || s.Lines.Any(l => string.IsNullOrWhiteSpace(l.Sku) || l.Quantity <= 0)))
        {
            return "order.shipped needs shipment.id and shipment.lines, each with a sku and a positive quantity.";
        }

        return null;
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private static IResult NotRecorded(HttpContext http, ILoggerFactory loggers, Exception ex, string connector, string eventId)
    {
        LogNotRecorded(loggers.CreateLogger("RetailSync.Webhooks"), ex, connector, eventId);
        http.Response.Headers.RetryAfter = "5";
        return Problem(StatusCodes.Status503ServiceUnavailable, "Not recorded", "The event could not be recorded durably; send it again.");
    }

    private static IResult Problem(int status, string title, string detail) => TypedResults.Problem(statusCode: status, title: title, detail: detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "ERP {Connector} callback {EventId} not recorded; answered 503")]
    private static partial void LogNotRecorded(ILogger logger, Exception ex, string connector, string eventId);

    /// <summary>The callback body (camelCase JSON).</summary>
    public sealed record ErpCallback(string? EventId, string? Type, string? OrderId, string? Shop, string? ErpNumber, DateTimeOffset? OccurredAt,
        string? Reason, ErpCallbackShipment? Shipment, string? Sku = null, string? Location = null, decimal? OnHand = null, long? Version = null);

    public sealed record ErpCallbackShipment(string? Id, string? TrackingCompany, string? TrackingNumber, List<ErpCallbackLine>? Lines);

    public sealed record ErpCallbackLine(string? Sku, int Quantity);
}
