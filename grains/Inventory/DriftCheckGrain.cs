using Microsoft.Extensions.Options;
using RetailSync.Connectors;
using RetailSync.Intake;

namespace RetailSync.Inventory;

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
