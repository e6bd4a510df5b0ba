using RetailSync.Customers;
using RetailSync.Inventory;
using RetailSync.Intake;

namespace RetailSync.Orders;

/// <summary>The order's own steps, sent to itself after a change is stored: off the caller's path, one at a time.</summary>
[Alias("RetailSync.Orders.IOrderSteps")]
public interface IOrderSteps : IGrainWithStringKey
{
    /// <summary>Reserves the order's SKUs; the ERP submission waits for it.</summary>
    [Orleans.Concurrency.OneWay, Alias("ReserveStock")]
    Task ReserveStockAsync();

    /// <summary>Resolves the buyer to a golden customer; the ERP submission waits for it, briefly.</summary>
    [Orleans.Concurrency.OneWay, Alias("ResolveBuyer")]
    Task ResolveBuyerAsync();

    /// <summary>Sends what is due (after an activation: planned commands, unpublished events, an exception to raise).</summary>
    [Orleans.Concurrency.OneWay, Alias("Dispatch")]
    Task DispatchAsync();
}

/// <summary>The waits' I/O: the steps the ERP submission waits for, each sent by the grain to itself.</summary>
public sealed partial class OrderGrain
{
    /// <summary>The oversell guard: each SKU of the order is reserved against its available-to-sell.</summary>
    public async Task ReserveStockAsync()
    {
        var results = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            if (S.Stock == StockHold.Pending && S.Order is { } order)
            {
                foreach (var (sku, quantity) in OrderDecider.Reservations(order))
                {
                    results[sku] = await Sku(sku).ReserveAsync(Key, quantity);
                }
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            OrderDecider.StockNotAnswered(S, ex.GetType().Name, clock.GetUtcNow());
            outbox.RetrySoon();
            return;
        }
        finally
        {
            reserving = false;
        }

        await ApplyAsync(OrderDecider.StockAnswered(S, Key, results, Rules, clock.GetUtcNow()));
    }

    /// <summary>Resolves the buyer to a golden customer (guest orders by their email).</summary>
    public async Task ResolveBuyerAsync()
    {
        Resolution? resolution = null;
        try
        {
            if (S.Buyer == BuyerState.Pending && S.Order is { } order && CustomerRecords.FromOrder(S.Shop!, order) is { } buyer)
            {
                resolution = await GrainFactory.GetGrain<IIdentityResolverGrain>(0).ResolveAsync(S.Tenant ?? S.Shop!, buyer);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Asked again shortly (and by the sweeper after a crash); the ERP submission does not wait past its bound.
            OrderDecider.BuyerNotResolved(S, $"{ex.GetType().Name}: {ex.Message}", clock.GetUtcNow());
            outbox.RetrySoon();
            return;
        }
        finally
        {
            resolving = false;
        }

        await ApplyAsync(resolution is null ? OrderDecision.Nothing() : OrderDecider.BuyerResolved(S, resolution, clock.GetUtcNow()));
    }

    private ISkuGrain Sku(string sku) => GrainFactory.GetGrain<ISkuGrain>(EntityKeys.ForShop(S.Tenant ?? S.Shop!, sku));
}
