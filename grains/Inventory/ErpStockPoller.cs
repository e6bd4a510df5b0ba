using System.Collections.Immutable;
using Microsoft.Extensions.Options;
using RetailSync.Connectors;
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

/// <summary>
/// Reads every known SKU's stock from the ERP each <see cref="InventoryOptions.PollPeriod"/> and hands the
/// figures that changed to the SKU grains, versioned by the time they were read. A reminder brings it back
/// after its silo dies; a timer polls at the configured period while it is active.
/// </summary>
public sealed class ErpStockPollerGrain(IErp erp, IOptions<InventoryOptions> options, TimeProvider clock) : Grain, IErpStockPollerGrain, IRemindable
{
    private const string PollReminder = "poll";

    /// <summary>The last figure handed on per SKU: unchanged figures are not written again.</summary>
    private readonly Dictionary<string, decimal> last = new(StringComparer.Ordinal);
    private IGrainTimer? timer;
    private bool polling;

    public async Task StartAsync()
    {
        var period = options.Value.PollPeriod;
        if (period <= TimeSpan.Zero)
        {
            return;
        }

        var reminder = period < TimeSpan.FromMinutes(1) ? TimeSpan.FromMinutes(1) : period;
        await this.RegisterOrUpdateReminder(PollReminder, reminder, reminder);
        StartTimer();
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        StartTimer();
        return PollAsync();
    }

    private void StartTimer() =>
        timer ??= this.RegisterGrainTimer(async () => await PollAsync(),
            new GrainTimerCreationOptions(options.Value.PollPeriod, options.Value.PollPeriod) { KeepAlive = true });

    public async Task<int> PollAsync()
    {
        if (polling)
        {
            return 0;
        }

        polling = true;
        try
        {
            var tenant = this.GetPrimaryKeyString();
            var changed = 0;
            foreach (var sku in await GrainFactory.GetGrain<ISkuDirectoryGrain>(tenant).ListAsync())
            {
                decimal? onHand;
                try
                {
                    onHand = await erp.GetInventoryAsync(sku);
                }
                catch (ConnectorException)
                {
                    // The ERP is down or refuses this SKU: the next round reads it again.
                    continue;
                }

                if (onHand is not { } value || (last.TryGetValue(sku, out var previous) && previous == value))
                {
                    continue;
                }

                var now = clock.GetUtcNow();
                var location = options.Value.PollLocation;
                var delivery = new ShopifyDelivery(tenant, tenant, "erp:poll/stock.changed", $"erp:poll:{sku}:{now.UtcTicks}", null, now, null, false, now);
                await GrainFactory.GetGrain<ISkuGrain>(EntityKeys.ForShop(tenant, sku))
                    .ErpStockChangedAsync(delivery, new ErpStockChange(sku, location, value, now.UtcTicks, now));
                last[sku] = value;
                changed++;
            }

            return changed;
        }
        finally
        {
            polling = false;
        }
    }
}

/// <summary>
/// Compares each linked SKU's Shopify levels with what the ERP's figures say they should be, every
/// <see cref="InventoryOptions.DriftCheckPeriod"/> (a reminder, a timer while active), and has the SKU
/// grains write the ERP's figure where Shopify holds something else. Keeps the last report.
/// </summary>
public sealed class DriftCheckGrain(IShopifyAdmin shopify, IOptions<InventoryOptions> options, TimeProvider clock) : Grain, IDriftCheckGrain, IRemindable
{
    private const string CheckReminder = "drift";
    private IGrainTimer? timer;
    private DriftReport? last;
    private bool checking;

    public async Task StartAsync()
    {
        var period = options.Value.DriftCheckPeriod;
        if (period <= TimeSpan.Zero)
        {
            return;
        }

        var reminder = period < TimeSpan.FromMinutes(1) ? TimeSpan.FromMinutes(1) : period;
        await this.RegisterOrUpdateReminder(CheckReminder, reminder, reminder);
        timer ??= this.RegisterGrainTimer(async () => await CheckAsync(),
            new GrainTimerCreationOptions(period, period) { KeepAlive = true });
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        await StartAsync();
        await CheckAsync();
    }

    public Task<DriftReport?> LastAsync() => Task.FromResult(last);

    public async Task<DriftReport> CheckAsync()
    {
        if (checking && last is not null)
        {
            return last;
        }

        checking = true;
        try
        {
            var tenant = this.GetPrimaryKeyString();
            var repaired = new List<DriftRepair>();
            var checkedCount = 0;
            var unreadable = 0;
            foreach (var sku in await GrainFactory.GetGrain<ISkuDirectoryGrain>(tenant).ListAsync())
            {
                var grain = GrainFactory.GetGrain<ISkuGrain>(EntityKeys.ForShop(tenant, sku));
                foreach (var target in await grain.ShopifyTargetsAsync())
                {
                    int? found;
                    try
                    {
                        found = await shopify.GetAvailableAsync(target.Shop, target.InventoryItemId, target.LocationId);
                    }
                    catch (ConnectorException)
                    {
                        unreadable++;
                        continue;
                    }

                    checkedCount++;
                    if (found is { } value && value != target.Available)
                    {
                        repaired.Add(new DriftRepair(sku, target.Shop, target.LocationId, value, target.Available));
                        await grain.RepairDriftAsync(target.Shop, target.LocationId, value);
                    }
                }
            }

            last = new DriftReport(clock.GetUtcNow(), checkedCount, [.. repaired], unreadable);
            return last;
        }
        finally
        {
            checking = false;
        }
    }
}
