using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RetailSync.Gateway.Configuration;
using RetailSync.Intake;
using RetailSync.Shopify;

namespace RetailSync.Gateway.Webhooks;

/// <summary><c>POST /webhooks/shopify</c>: verify, map, record durably (<see cref="IWebhookIntake"/>), then answer.</summary>
public static partial class ShopifyWebhookApi
{
    // Shopify waits 5 s for an answer; past that it counts a failure and retries anyway.
    private static readonly TimeSpan RecordTimeout = TimeSpan.FromSeconds(4);

    public static IEndpointRouteBuilder MapShopifyWebhooks(this IEndpointRouteBuilder app)
    {
        app.MapPost("/webhooks/shopify", ReceiveAsync).DisableAntiforgery();
        return app;
    }

    private static async Task<IResult> ReceiveAsync(
        HttpContext http, IOptionsMonitor<RetailSyncOptions> options, IWebhookIntake intake, TimeProvider clock, ILoggerFactory loggers)
    {
        var settings = options.CurrentValue;
        var request = http.Request;
        if (request.ContentLength > settings.MaxWebhookBodyBytes)
        {
            return TooLarge(settings);
        }

        var body = await ReadBodyAsync(http, settings.MaxWebhookBodyBytes);
        if (body is null)
        {
            return TooLarge(settings);
        }

        var headers = request.Headers;
        string? shop = headers["X-Shopify-Shop-Domain"];
        if (string.IsNullOrEmpty(shop) || !settings.Shops.TryGetValue(shop, out var shopSettings))
        {
            return Unauthorized("Unknown shop", "X-Shopify-Shop-Domain is missing or names a shop that is not configured.");
        }

        if (!ShopifyHmac.Verify(body, headers["X-Shopify-Hmac-Sha256"], shopSettings.WebhookSecret, shopSettings.PreviousWebhookSecret))
        {
            return Unauthorized("Invalid signature", "X-Shopify-Hmac-Sha256 is missing or does not match the body.");
        }

        string? topic = headers["X-Shopify-Topic"];
        if (string.IsNullOrEmpty(topic))
        {
            return BadRequest("Missing topic", "X-Shopify-Topic is required.");
        }

        string? eventId = NullIfEmpty(headers["X-Shopify-Event-Id"]);
        string? webhookId = NullIfEmpty(headers["X-Shopify-Webhook-Id"]);
        if (eventId is null && webhookId is null)
        {
            return BadRequest("Missing delivery id", "X-Shopify-Event-Id or X-Shopify-Webhook-Id is required to apply the event once.");
        }

        if (!ShopifyTopics.TryGet(topic, out var route))
        {
            return TypedResults.Ok(new WebhookAnswer("ignored"));
        }

        DateTimeOffset? triggeredAt = null;
        if (NullIfEmpty(headers["X-Shopify-Triggered-At"]) is { } triggered)
        {
            if (!DateTimeOffset.TryParse(triggered, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t))
            {
                return BadRequest("Malformed header", "X-Shopify-Triggered-At is not a timestamp.");
            }

            triggeredAt = t;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            return BadRequest("Malformed JSON", $"The body is not valid JSON: {ex.Message}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return BadRequest("Malformed payload", "The body must be a JSON object.");
            }

            var delivery = new ShopifyDelivery(
                shop.ToLowerInvariant(), shopSettings.Tenant, topic, eventId, webhookId, triggeredAt,
                NullIfEmpty(headers["X-Shopify-API-Version"]), headers["X-Shopify-Test"] == "true", clock.GetUtcNow());
            ShopifyTopics.Apply apply;
            try
            {
                apply = route(delivery, document.RootElement);
            }
            catch (ShopifyPayloadException ex)
            {
                return BadRequest("Unexpected payload", $"The {topic} payload cannot be mapped: {ex.Message}");
            }

            try
            {
                return TypedResults.Ok(await intake.RecordAsync(delivery, body, apply, http.RequestAborted).WaitAsync(RecordTimeout));
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !http.RequestAborted.IsCancellationRequested)
            {
                LogNotRecorded(loggers.CreateLogger("RetailSync.Webhooks"), ex, topic, delivery.DedupeKey);
                http.Response.Headers.RetryAfter = "5";
                return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Not recorded",
                    detail: "The event could not be recorded durably; retry the delivery.");
            }
        }
    }

    /// <summary>The raw bytes (the signature covers them exactly), or null past the limit.</summary>
    internal static async Task<byte[]?> ReadBodyAsync(HttpContext http, long limit)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size && size.MaxRequestBodySize < limit + 1)
        {
            size.MaxRequestBodySize = limit + 1;
        }

        if (http.Request.ContentLength is { } length && length <= limit)
        {
            // The usual case (Shopify sends Content-Length): one array of the body's size, read straight into.
            var body = new byte[length];
            var got = await http.Request.Body.ReadAtLeastAsync(body, body.Length, throwOnEndOfStream: false, http.RequestAborted);
            // A body shorter than announced is cut off; Kestrel refuses one longer before we see it.
            return got == body.Length ? body : body[..got];
        }

        if (http.Request.ContentLength > limit)
        {
            return null;
        }

        using var buffer = new MemoryStream(4096);
        var chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await http.Request.Body.ReadAsync(chunk, http.RequestAborted)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.ToArray();
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static IResult TooLarge(RetailSyncOptions settings) => TypedResults.Problem(
        statusCode: StatusCodes.Status413PayloadTooLarge, title: "Body too large",
        detail: $"Webhook bodies are limited to {settings.MaxWebhookBodyBytes} bytes (RetailSync:MaxWebhookBodyBytes).");

    private static IResult Unauthorized(string title, string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: title, detail: detail);

    private static IResult BadRequest(string title, string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: title, detail: detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shopify {Topic} delivery {DedupeKey} not recorded; answered 503 so Shopify retries")]
    private static partial void LogNotRecorded(ILogger logger, Exception ex, string topic, string dedupeKey);
}
