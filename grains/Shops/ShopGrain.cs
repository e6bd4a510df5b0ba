using RetailSync.Customers;
using RetailSync.Intake;
using RetailSync.Orders;
using RetailSync.Platform;

namespace RetailSync.Shops;

public sealed partial class ShopGrain(
    [PersistentState("shop", StorageNames.State)] IPersistentState<ShopState> state,
    TimeProvider clock,
    ILogger<ShopGrain> logger) : Grain, IShopGrain, IRemindable
{
    private const string RetryReminder = "privacy-retry";
    private ShopState S => state.State;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A crash between recording a request and carrying it out leaves it pending; finish it now.
        if (S.PrivacyRequests.Any(r => r.CompletedAt is null))
        {
            await CarryOutPendingAsync();
        }
    }

    public Task<IntakeOutcome> UninstalledAsync(ShopifyDelivery delivery) =>
        this.ReceiveAsync(state, S.Journal, delivery, () =>
        {
            S.Installed = false;
            return IntakeOutcome.Applied;
        }, _ => "app uninstalled: no more Admin API calls for this shop");

    public async Task<IntakeOutcome> PrivacyRequestAsync(ShopifyDelivery delivery, PrivacyRequest request)
    {
        var outcome = await this.ReceiveAsync(state, S.Journal, delivery, () =>
        {
            S.PrivacyRequests.Add(new PrivacyRequestRecord { CorrelationId = delivery.DedupeKey, Request = request, ReceivedAt = delivery.ReceivedAt });
            if (request.Kind == PrivacyRequestKind.ShopRedact)
            {
                S.Redacted = true;
                S.Installed = false;
            }

            return IntakeOutcome.Applied;
        }, _ => $"{request.Kind}: customer {request.CustomerId ?? "-"}, {request.OrderIds.Length} orders");
        if (outcome != IntakeOutcome.Duplicate)
        {
            await CarryOutPendingAsync();
        }

        return outcome;
    }

    public Task<ShopView> GetAsync() => Task.FromResult(new ShopView(
        this.GetPrimaryKeyString(), S.Installed, S.Redacted,
        [.. S.PrivacyRequests.Select(r => new PrivacyRequestView(r.CorrelationId, r.Request, r.ReceivedAt, r.CompletedAt, r.Attempts, r.LastError))],
        [.. S.Journal.Timeline]));

    public Task ReceiveReminder(string reminderName, TickStatus status) => CarryOutPendingAsync();

    private async Task CarryOutPendingAsync()
    {
        var shop = this.GetPrimaryKeyString();
        foreach (var pending in S.PrivacyRequests.Where(r => r.CompletedAt is null))
        {
            pending.Attempts++;
            try
            {
                await CarryOutAsync(shop, pending);
                pending.CompletedAt = clock.GetUtcNow();
                pending.LastError = null;
                S.Journal.Record(clock.GetUtcNow(), "privacy:completed", $"{pending.Request.Kind} carried out", pending.CorrelationId);
            }
            catch (Exception ex)
            {
                pending.LastError = ex.Message;
                LogPrivacyFailed(logger, ex, shop, pending.CorrelationId);
            }
        }

        if (S.PrivacyRequests.Any(r => r.CompletedAt is null))
        {
            await this.RegisterOrUpdateReminder(RetryReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        }
        else if (await this.GetReminder(RetryReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }

        await this.WriteOrForgetAsync(state);
    }

    private async Task CarryOutAsync(string shop, PrivacyRequestRecord pending)
    {
        var request = pending.Request;
        if (request.Kind != PrivacyRequestKind.CustomerRedact)
        {
            // Data requests are answered from the query API; shop redaction marks the shop.
            return;
        }

        var reason = $"customers/redact {pending.CorrelationId}";
        if (request.CustomerId is { } customerId)
        {
            await GrainFactory.GetGrain<IShopifyCustomerGrain>(EntityKeys.ForShop(shop, customerId)).RedactAsync(reason);
        }

        await Task.WhenAll(request.OrderIds.Select(id => GrainFactory.GetGrain<IOrderGrain>(EntityKeys.ForShop(shop, id)).RedactAsync(reason)));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Privacy request {CorrelationId} for {Shop} failed; retrying by reminder")]
    private static partial void LogPrivacyFailed(ILogger logger, Exception ex, string shop, string correlationId);
}

[GenerateSerializer, Alias("RetailSync.Shops.ShopState")]
public sealed class ShopState
{
    [Id(0)] public bool Installed { get; set; } = true;
    [Id(1)] public bool Redacted { get; set; }
    [Id(2)] public List<PrivacyRequestRecord> PrivacyRequests { get; set; } = [];
    [Id(3)] public Journal Journal { get; set; } = new();
}

[GenerateSerializer, Alias("RetailSync.Shops.PrivacyRequestRecord")]
public sealed class PrivacyRequestRecord
{
    [Id(0)] public string CorrelationId { get; set; } = "";
    [Id(1)] public PrivacyRequest Request { get; set; } = null!;
    [Id(2)] public DateTimeOffset ReceivedAt { get; set; }
    [Id(3)] public DateTimeOffset? CompletedAt { get; set; }
    [Id(4)] public int Attempts { get; set; }
    [Id(5)] public string? LastError { get; set; }
}
