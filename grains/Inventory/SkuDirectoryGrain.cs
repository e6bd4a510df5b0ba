using System.Collections.Immutable;
using RetailSync.Intake;
using RetailSync.Platform;

namespace RetailSync.Inventory;

public sealed class SkuDirectoryGrain(
    [PersistentState("skuDirectory", StorageNames.State)] IPersistentState<SkuDirectoryState> state) : Grain, ISkuDirectoryGrain
{
    /// <summary>Whether this activation started the tenant's schedules (idempotent: a new activation starts them again).</summary>
    private bool started;

    public async Task AddAsync(string sku)
    {
        if (state.State.Skus.Add(sku))
        {
            await this.WriteOrForgetAsync(state);
        }

        if (started)
        {
            return;
        }

        // From now on there is something to poll and to compare (each starts only when configured). A schedule
        // that cannot start now must not fail the SKU's link: the next SKU added asks again.
        try
        {
            await GrainFactory.GetGrain<IErpStockPollerGrain>(this.GetPrimaryKeyString()).StartAsync();
            await GrainFactory.GetGrain<IDriftCheckGrain>(this.GetPrimaryKeyString()).StartAsync();
            started = true;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Left for the next call.
        }
    }

    public Task<ImmutableArray<string>> ListAsync() => Task.FromResult(state.State.Skus.Order(StringComparer.Ordinal).ToImmutableArray());
}

[GenerateSerializer, Alias("RetailSync.Inventory.SkuDirectoryState")]
public sealed class SkuDirectoryState
{
    [Id(0)] public HashSet<string> Skus { get; set; } = new(StringComparer.Ordinal);
}
