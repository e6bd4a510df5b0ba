using RetailSync.Customers;
using RetailSync.Intake;
using RetailSync.Orders;
using RetailSync.Platform;
using RetailSync.Refunds;

namespace RetailSync.Shops;

public sealed partial class ShopGrain(
    [PersistentState("shop", StorageNames.State)] IPersistentState<ShopState> state,
    IStoredData stored,
    TimeProvider clock,
    ILogger<ShopGrain> logger) : Grain, IShopGrain, IRemindable
{
    private const string RetryReminder = "privacy-retry";

    /// <summary>Entities erased at once: enough to go fast, few enough not to swamp one silo with a large shop.</summary>
    private const int ErasureBatch = 32;
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
            S.Tenant = delivery.Tenant;
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
        switch (request.Kind)
        {
            case PrivacyRequestKind.CustomerRedact:
                var reason = $"customers/redact {pending.CorrelationId}";
                if (request.CustomerId is { } customerId)
                {
                    await GrainFactory.GetGrain<IShopifyCustomerGrain>(EntityKeys.ForShop(shop, customerId)).RedactAsync(reason);
                }

                await Task.WhenAll(request.OrderIds.Select(id => GrainFactory.GetGrain<IOrderGrain>(EntityKeys.ForShop(shop, id)).RedactAsync(reason)));
                break;
            case PrivacyRequestKind.ShopRedact:
                await RedactShopAsync(shop, pending);
                break;
            default:
                // A data request is answered by DataRequestDocumentAsync, when an operator asks for the document.
                break;
        }
    }

    /// <summary>
    /// Everything stored under the shop's keys: first the deliveries still waiting in the inbox (forwarded later, they would
    /// bring the data back), then every order (with its buyer's golden record), Shopify customer (with theirs) and refund.
    /// Each erasure is idempotent, so a retry after a failure part-way repeats only what is cheap to repeat.
    /// </summary>
    private async Task RedactShopAsync(string shop, PrivacyRequestRecord pending)
    {
        var reason = $"shop/redact {pending.CorrelationId}";
        var prefix = shop + "/";
        var dropped = await stored.DropWebhookBodiesAsync(shop);
        var orders = await stored.KeysAsync(OrderGrain.StateName, prefix);
        await InBatchesAsync(orders, key => GrainFactory.GetGrain<IOrderGrain>(key).RedactAsync(reason));
        var customers = await stored.KeysAsync(ShopifyCustomerGrain.StateName, prefix);
        await InBatchesAsync(customers, key => GrainFactory.GetGrain<IShopifyCustomerGrain>(key).RedactAsync(reason));
        var refunds = await stored.KeysAsync(RefundGrain.StateName, prefix);
        await InBatchesAsync(refunds, key => GrainFactory.GetGrain<IRefundGrain>(key).RedactAsync(reason));
        S.Journal.Record(clock.GetUtcNow(), "privacy:shopErased",
            $"{orders.Count} orders, {customers.Count} Shopify customers and {refunds.Count} refunds or returns erased; {dropped} waiting deliveries dropped",
            pending.CorrelationId);
    }

    private static async Task InBatchesAsync(IReadOnlyList<string> keys, Func<string, Task> erase)
    {
        foreach (var batch in keys.Chunk(ErasureBatch))
        {
            await Task.WhenAll(batch.Select(erase));
        }
    }

    public async Task<PersonalDataDocument?> DataRequestDocumentAsync(string dataRequestId)
    {
        var record = S.PrivacyRequests.FirstOrDefault(r => r.Request.Kind == PrivacyRequestKind.DataRequest && r.Request.DataRequestId == dataRequestId);
        if (record is null)
        {
            return null;
        }

        var shop = this.GetPrimaryKeyString();
        var request = record.Request;
        var shopifyCustomer = request.CustomerId is { } customerId
            ? await GrainFactory.GetGrain<IShopifyCustomerGrain>(EntityKeys.ForShop(shop, customerId)).GetAsync()
            : null;
        CustomerView? golden = null;
        if (shopifyCustomer?.GoldenId is { } goldenId)
        {
            var tenant = S.Tenant ?? shop;
            var holder = await GrainFactory.GetGrain<IIdentityResolverGrain>(0).FollowAsync(tenant, goldenId);
            golden = await GrainFactory.GetGrain<ICustomerGrain>(EntityKeys.ForShop(tenant, holder)).GetAsync();
        }

        // The orders the request names, and those the golden record knows in this shop (Shopify lists only some).
        var orderKeys = request.OrderIds.Select(id => EntityKeys.ForShop(shop, id))
            .Concat(golden?.Orders.Where(k => k.StartsWith(shop + "/", StringComparison.Ordinal)) ?? [])
            .Distinct(StringComparer.Ordinal).ToList();
        var orders = await Task.WhenAll(orderKeys.Select(k => GrainFactory.GetGrain<IOrderGrain>(k).GetAsync()));
        var now = clock.GetUtcNow();
        var document = new PersonalDataDocument(shop, dataRequestId, request.CustomerId, record.ReceivedAt, now, shopifyCustomer, golden,
            [.. orders.OfType<OrderView>()]);
        S.Journal.Record(now, "privacy:document", $"data request {dataRequestId}: document produced with {document.Orders.Length} orders", record.CorrelationId);
        await this.WriteOrForgetAsync(state);
        return document;
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

    /// <summary>The tenant the shop's golden records belong to, as its deliveries say.</summary>
    [Id(4)] public string? Tenant { get; set; }
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
