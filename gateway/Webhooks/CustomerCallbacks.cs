using System.Collections.Immutable;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RetailSync.Customers;
using RetailSync.Gateway.Configuration;

namespace RetailSync.Gateway.Webhooks;

/// <summary>
/// People changed in the CRM or the ERP come back through the same identity rules as Shopify's:
/// <c>POST /webhooks/crm/{connector}</c> with <c>contact.changed</c>, and <c>customer.changed</c> on the ERP's
/// callback route. A re-sent or older event changes nothing (the golden record keeps the newest version
/// of each source); the answer comes after the golden record has stored it.
/// </summary>
public static partial class CustomerCallbacks
{
    public const string ContactChanged = "contact.changed";
    public const string CustomerChanged = "customer.changed";
    private static readonly TimeSpan RecordTimeout = TimeSpan.FromSeconds(8);
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private static readonly ImmutableHashSet<string> KnownFields =
    [
        CustomerFields.FirstName, CustomerFields.LastName, CustomerFields.Email, CustomerFields.Phone, CustomerFields.LoyaltyId,
        CustomerFields.BillingAddress, CustomerFields.ShippingAddress, CustomerFields.CountryCode, CustomerFields.CreditLimit,
        CustomerFields.TaxId, CustomerFields.PaymentTerms, CustomerFields.AccountNumber, CustomerFields.Consent, CustomerFields.Segment,
        CustomerFields.Owner, CustomerFields.ServiceContext,
    ];

    public static IEndpointRouteBuilder MapCrmWebhooks(this IEndpointRouteBuilder app)
    {
        app.MapPost("/webhooks/crm/{connector}", ReceiveCrmAsync).DisableAntiforgery();
        return app;
    }

    private static async Task<IResult> ReceiveCrmAsync(string connector, HttpContext http, IOptionsMonitor<RetailSyncOptions> options, IClusterClient grains,
        TimeProvider clock, ILoggerFactory loggers)
    {
        var settings = options.CurrentValue;
        connector = connector.ToLowerInvariant();
        if (!settings.CrmCallbacks.TryGetValue(connector, out var callback))
        {
            return ErpWebhookApi.NotSigned();
        }

        var (body, refused) = await ErpWebhookApi.ReadSignedAsync(http, settings, callback);
        if (refused is not null)
        {
            return refused;
        }

        PersonCallback? e;
        try
        {
            e = JsonSerializer.Deserialize<PersonCallback>(body!, JsonOptions);
        }
        catch (JsonException ex)
        {
            return Problem(StatusCodes.Status400BadRequest, "Malformed JSON", $"The body is not a valid CRM callback: {ex.Message}");
        }

        if (e?.Type != ContactChanged)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid callback", $"type must be {ContactChanged}.");
        }

        return await ReceivePersonAsync(CustomerSources.Crm, connector, e, callback, settings, grains, clock, http, loggers);
    }

    /// <summary>A person as the CRM or ERP now holds them, resolved to its golden customer before the answer.</summary>
    public static async Task<IResult> ReceivePersonAsync(string system, string connector, PersonCallback e, ErpCallbackOptions callback,
        RetailSyncOptions settings, IClusterClient grains, TimeProvider clock, HttpContext http, ILoggerFactory loggers)
    {
        if (string.IsNullOrWhiteSpace(e.EventId) || string.IsNullOrWhiteSpace(e.Id) || e.OccurredAt is null)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid callback", "eventId, id (the person's id in that system) and occurredAt are required.");
        }

        var problem = EdgeRules.FirstKeyProblem(("eventId", e.EventId), ("id", e.Id), ("goldenId", e.GoldenId))
            ?? EdgeRules.TimeProblem("occurredAt", e.OccurredAt, clock.GetUtcNow());
        if (problem is null && !string.IsNullOrWhiteSpace(e.GoldenId) && !GoldenIds.IsGolden(e.GoldenId.Trim()))
        {
            // Only ids we gave out are ours to be told back; anything else would become a customer of that id.
            problem = $"goldenId '{e.GoldenId}' is not a RetailSync golden id.";
        }

        if (problem is not null)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid callback", problem);
        }

        if (e.Fields?.Keys.FirstOrDefault(k => !KnownFields.Contains(k)) is { } unknown)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid callback", $"field '{unknown}' is not one of {string.Join(", ", KnownFields.Order())}.");
        }

        var tenants = settings.Shops.Values.Select(s => s.Tenant).Distinct(StringComparer.Ordinal).ToList();
        var tenant = callback.Tenant ?? (tenants.Count == 1 ? tenants[0] : null);
        if (tenant is null)
        {
            return Problem(StatusCodes.Status400BadRequest, "Unknown tenant", $"Set the Tenant of connector {connector}: the shops belong to several retailers.");
        }

        var record = new SourceRecord(system, e.Id, e.OccurredAt.Value,
            (e.Fields ?? []).Where(f => !string.IsNullOrWhiteSpace(f.Value)).ToImmutableDictionary(f => f.Key, f => f.Value!.Trim(), StringComparer.Ordinal),
            null, string.IsNullOrWhiteSpace(e.GoldenId) ? null : e.GoldenId.Trim());
        try
        {
            var resolution = await grains.GetGrain<IIdentityResolverGrain>(0).ResolveAsync(tenant, record).WaitAsync(RecordTimeout);
            return TypedResults.Ok(new PersonAnswer("accepted", resolution.GoldenId, resolution.Action));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !http.RequestAborted.IsCancellationRequested)
        {
            LogNotRecorded(loggers.CreateLogger("RetailSync.Webhooks"), ex, system, connector, e.EventId);
            http.Response.Headers.RetryAfter = "5";
            return Problem(StatusCodes.Status503ServiceUnavailable, "Not recorded", "The change could not be recorded durably; send it again.");
        }
    }

    private static IResult Problem(int status, string title, string detail) => TypedResults.Problem(statusCode: status, title: title, detail: detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{System} {Connector} person callback {EventId} not recorded; answered 503")]
    private static partial void LogNotRecorded(ILogger logger, Exception ex, string system, string connector, string eventId);

    /// <param name="Id">The person's id in the calling system (CRM contact id, ERP customer number).</param>
    /// <param name="GoldenId">Our golden id when the system holds it (the CRM's external id, our ERP customer number).</param>
    /// <param name="Fields">Changed values by golden field name (firstName, email, segment, creditLimit, ...).</param>
    public sealed record PersonCallback(string? EventId, string? Type, string? Id, string? GoldenId, DateTimeOffset? OccurredAt, Dictionary<string, string?>? Fields);

    public sealed record PersonAnswer(string Status, string? GoldenId, string Outcome);
}
