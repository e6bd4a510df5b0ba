using RetailSync.Intake;
using RetailSync.Model;
using RetailSync.Platform;

namespace RetailSync.Customers;

public sealed class ShopifyCustomerGrain(
    [PersistentState(ShopifyCustomerGrain.StateName, StorageNames.State)] IPersistentState<ShopifyCustomerState> state,
    TimeProvider clock) : Grain, IShopifyCustomerGrain
{
    /// <summary>The name its state is stored under (what shop erasure looks for).</summary>
    public const string StateName = "shopifyCustomer";

    private ShopifyCustomerState S => state.State;

    /// <summary>
    /// Recorded first; then the person is resolved to a golden customer before the answer. If that fails the
    /// webhook gets a 503, and Shopify's retry (a duplicate by then) resolves the recorded version again.
    /// </summary>
    public async Task<IntakeOutcome> ReceiveAsync(ShopifyDelivery delivery, Customer customer, bool deleted)
    {
        var outcome = await RecordAsync(delivery, customer, deleted);
        if (S.PendingResolution && S.Customer is { } current)
        {
            var resolution = await GrainFactory.GetGrain<IIdentityResolverGrain>(0).ResolveAsync(S.Tenant ?? delivery.Tenant, CustomerRecords.FromShopifyCustomer(delivery.Shop, current));
            S.PendingResolution = false;
            S.GoldenId = resolution.GoldenId ?? S.GoldenId;
            S.Journal.Record(clock.GetUtcNow(), "identity", resolution.GoldenId is null ? resolution.Detail : $"golden customer {resolution.GoldenId} ({resolution.Detail})", delivery.DedupeKey);
            await this.WriteOrForgetAsync(state);
        }

        return outcome;
    }

    private Task<IntakeOutcome> RecordAsync(ShopifyDelivery delivery, Customer customer, bool deleted) =>
        this.ReceiveAsync(state, S.Journal, delivery, () =>
        {
            if (S.Redacted)
            {
                return IntakeOutcome.Ignored;
            }

            if (deleted)
            {
                // A delete carries no updated_at; it ends the Shopify identity whatever came before.
                S.Deleted = true;
                return IntakeOutcome.Applied;
            }

            if (S.Customer?.UpdatedAt is { } applied && customer.UpdatedAt is { } incoming && incoming < applied)
            {
                return IntakeOutcome.Stale;
            }

            S.Customer = customer;
            S.Tenant = delivery.Tenant;
            S.PendingResolution = true;
            return IntakeOutcome.Applied;
        }, _ => deleted ? "deleted in Shopify" : $"updated_at {customer.UpdatedAt:O}");

    public async Task RedactAsync(string reason)
    {
        if (S.GoldenId is { } golden && S.Tenant is { } tenant)
        {
            var holder = await GrainFactory.GetGrain<IIdentityResolverGrain>(0).FollowAsync(tenant, golden);
            await GrainFactory.GetGrain<ICustomerGrain>(EntityKeys.ForShop(tenant, holder)).RedactAsync(reason);
        }

        S.Journal.Scrub([S.Customer?.Email, S.Customer?.Phone, S.Customer?.FirstName, S.Customer?.LastName]);
        S.Customer = null;
        S.Redacted = true;
        S.Journal.Record(clock.GetUtcNow(), "privacy:redacted", reason, null);
        await this.WriteOrForgetAsync(state);
    }

    public Task<ShopifyCustomerView?> GetAsync()
    {
        if (state.RecordExists is false && S.Journal.Timeline.Count == 0)
        {
            return Task.FromResult<ShopifyCustomerView?>(null);
        }

        var (shop, id) = EntityKeys.Split(this.GetPrimaryKeyString());
        return Task.FromResult<ShopifyCustomerView?>(new ShopifyCustomerView(shop, id, S.Customer, S.Deleted, S.Redacted, [.. S.Journal.Timeline], S.GoldenId));
    }
}

[GenerateSerializer, Alias("RetailSync.Customers.ShopifyCustomerState")]
public sealed class ShopifyCustomerState
{
    [Id(0)] public Customer? Customer { get; set; }
    [Id(1)] public bool Deleted { get; set; }
    [Id(2)] public bool Redacted { get; set; }
    [Id(3)] public Journal Journal { get; set; } = new();
    [Id(4)] public string? Tenant { get; set; }
    [Id(5)] public string? GoldenId { get; set; }

    /// <summary>The applied version still has to be resolved to a golden customer.</summary>
    [Id(6)] public bool PendingResolution { get; set; }
}
