using Microsoft.Extensions.Options;
using RetailSync.Connectors;
using RetailSync.Intake;

namespace RetailSync.Inventory;

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
