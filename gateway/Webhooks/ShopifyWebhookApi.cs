using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IO;
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

        // Who sends is settled before a byte of the body is read: an unknown shop or an unsigned delivery
        // costs us nothing, and both get the same answer as a bad signature (no telling which shops exist).
        var headers = request.Headers;
        string? shop = headers["X-Shopify-Shop-Domain"];
        string? signature = headers["X-Shopify-Hmac-Sha256"];
        if (string.IsNullOrEmpty(shop) || string.IsNullOrEmpty(signature) || !settings.Shops.TryGetValue(shop, out var shopSettings))
        {
            return NotSigned();
        }

        using var body = await ReadBodyAsync(http, settings.MaxWebhookBodyBytes);
        if (body.Problem is { } unread)
        {
            return unread;
        }

        if (!ShopifyHmac.Verify(body.Bytes, signature, shopSettings.WebhookSecret, shopSettings.PreviousWebhookSecret))
        {
            return NotSigned();
        }

        string? topic = headers["X-Shopify-Topic"];
        if (string.IsNullOrEmpty(topic))
        {
            return BadRequest("Missing topic", "X-Shopify-Topic is required.");
        }

        string? eventId = NullIfEmpty(headers["X-Shopify-Event-Id"]);
        string? webhookId = NullIfEmpty(headers["X-Shopify-Webhook-Id"]);
        string? apiVersion = NullIfEmpty(headers["X-Shopify-API-Version"]);
        if (EdgeRules.FirstKeyProblem(("X-Shopify-Topic", topic), ("X-Shopify-Event-Id", eventId), ("X-Shopify-Webhook-Id", webhookId),
                ("X-Shopify-API-Version", apiVersion)) is { } badKey)
        {
            return BadRequest("Malformed header", badKey);
        }

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
            document = JsonDocument.Parse(body.Bytes);
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
                apiVersion, headers["X-Shopify-Test"] == "true", clock.GetUtcNow());
            ShopifyTopics.Apply apply;
            try
            {
                apply = route(delivery, document.RootElement);
            }
            catch (ShopifyPayloadException ex)
            {
                return BadRequest("Unexpected payload", $"The {topic} payload cannot be mapped: {ex.Message}");
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Valid JSON, signed, and still not what the topic promises (a value of another JSON type, a string
                // that is not UTF-8): the mapping is a pure function of the payload, so whatever it throws is the
                // payload's fault and nothing has been recorded. Logged, as it may also show a mapping to improve.
                LogUnmappable(loggers.CreateLogger("RetailSync.Webhooks"), ex, topic);
                return BadRequest("Unexpected payload", $"The {topic} payload cannot be mapped: {ex.Message}");
            }

            try
            {
                return TypedResults.Ok(await intake.RecordAsync(delivery, body.ToArray(), apply, http.RequestAborted).WaitAsync(RecordTimeout));
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

    private static readonly RecyclableMemoryStreamManager Buffers = new(new RecyclableMemoryStreamManager.Options
    {
        BlockSize = 16 * 1024,
        LargeBufferMultiple = 256 * 1024,
        MaximumBufferSize = 4 * 1024 * 1024,
        // What the pools keep between requests is bounded; a burst beyond it is left to the GC.
        MaximumSmallPoolFreeBytes = 16 * 1024 * 1024,
        MaximumLargePoolFreeBytes = 16 * 1024 * 1024,
    });

    /// <summary>
    /// The raw bytes (the signature covers them exactly) in pooled blocks taken as they arrive, so a client that
    /// announces 2 MiB and sends nothing holds one block; or the problem to answer (too large, too slow, cut off).
    /// </summary>
    internal static async Task<RequestBody> ReadBodyAsync(HttpContext http, long limit)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size && size.MaxRequestBodySize < limit + 1)
        {
            size.MaxRequestBodySize = limit + 1;
        }

        var buffer = Buffers.GetStream("webhook-body");
        try
        {
            while (true)
            {
                var read = await http.Request.Body.ReadAsync(buffer.GetMemory(16 * 1024), http.RequestAborted);
                if (read == 0)
                {
                    break;
                }

                buffer.Advance(read);
                if (buffer.Length > limit)
                {
                    buffer.Dispose();
                    return new RequestBody(null, TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Body too large",
                        detail: $"Bodies are limited to {limit} bytes (RetailSync:MaxWebhookBodyBytes)."));
                }
            }
        }
        catch (BadHttpRequestException ex)
        {
            // Kestrel's own refusals while reading: too slow (408, MinRequestBodyDataRate), too large, malformed framing.
            buffer.Dispose();
            return new RequestBody(null, TypedResults.Problem(statusCode: ex.StatusCode, title: "Body not read", detail: ex.Message));
        }

        return new RequestBody(buffer, null);
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static IResult TooLarge(RetailSyncOptions settings) => TypedResults.Problem(
        statusCode: StatusCodes.Status413PayloadTooLarge, title: "Body too large",
        detail: $"Webhook bodies are limited to {settings.MaxWebhookBodyBytes} bytes (RetailSync:MaxWebhookBodyBytes).");

    /// <summary>One answer for an unknown shop, a missing signature and a wrong one.</summary>
    private static IResult NotSigned() => TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Not authenticated",
        detail: "The delivery is not signed by a shop this gateway serves (X-Shopify-Shop-Domain, X-Shopify-Hmac-Sha256).");

    private static IResult BadRequest(string title, string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: title, detail: detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shopify {Topic} payload could not be mapped; answered 400")]
    private static partial void LogUnmappable(ILogger logger, Exception ex, string topic);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shopify {Topic} delivery {DedupeKey} not recorded; answered 503 so Shopify retries")]
    private static partial void LogNotRecorded(ILogger logger, Exception ex, string topic, string dedupeKey);
}

/// <summary>A request body in pooled blocks (dispose to give them back), or why it was not read.</summary>
internal sealed class RequestBody(RecyclableMemoryStream? buffer, IResult? problem) : IDisposable
{
    public IResult? Problem => problem;

    public System.Buffers.ReadOnlySequence<byte> Bytes => buffer?.GetReadOnlySequence() ?? default;

    /// <summary>A copy to keep (recorded in the inbox or the grain), taken once the body is authenticated.</summary>
    public byte[] ToArray() => System.Buffers.BuffersExtensions.ToArray(Bytes);

    public void Dispose() => buffer?.Dispose();
}
