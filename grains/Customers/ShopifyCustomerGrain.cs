using RetailSync.Intake;
using RetailSync.Model;
using RetailSync.Platform;

namespace RetailSync.Customers;

public sealed class ShopifyCustomerGrain(
    [PersistentState("shopifyCustomer", StorageNames.State)] IPersistentState<ShopifyCustomerState> state,
    TimeProvider clock) : Grain, IShopifyCustomerGrain
{
    private ShopifyCustomerState S => state.State;

    public Task<IntakeOutcome> ReceiveAsync(ShopifyDelivery delivery, Customer customer, bool deleted) =>
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
            return IntakeOutcome.Applied;
        }, _ => deleted ? "deleted in Shopify" : $"updated_at {customer.UpdatedAt:O}");

    public async Task RedactAsync(string reason)
    {
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
        return Task.FromResult<ShopifyCustomerView?>(new ShopifyCustomerView(shop, id, S.Customer, S.Deleted, S.Redacted, [.. S.Journal.Timeline]));
    }
}

[GenerateSerializer, Alias("RetailSync.Customers.ShopifyCustomerState")]
public sealed class ShopifyCustomerState
{
    [Id(0)] public Customer? Customer { get; set; }
    [Id(1)] public bool Deleted { get; set; }
    [Id(2)] public bool Redacted { get; set; }
    [Id(3)] public Journal Journal { get; set; } = new();
}
