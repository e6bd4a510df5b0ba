using System.Collections.Immutable;
using Microsoft.Extensions.Options;
using RetailSync.Intake;
using RetailSync.Operations;
using RetailSync.Outbox;
using RetailSync.Orders;
using RetailSync.Platform;

namespace RetailSync.Inventory;

/// <summary>
/// The ERP's stock truth for one SKU and what the storefront shows of it. ERP figures are applied per
/// location in version order (a late, older callback is recorded, not applied); restocks confirmed by
/// the ERP wait here until its next figure for their location counts them. Every change is shown in
/// Shopify: after <see cref="InventoryOptions.PushDelay"/> one write per shop and location carries the
/// latest value (100 changes in that time make one write), with the value Shopify was last given as its
/// compare value and an idempotency key, one write in flight at a time.
/// </summary>
public sealed class SkuGrain : Grain, ISkuGrain, ICommandOwner
{
    private readonly IPersistentState<SkuState> state;
    private readonly IOptions<InventoryOptions> options;
    private readonly TimeProvider clock;
    private readonly IOutboxIndex outboxIndex;
    private OutboxSender? sender;
    private IGrainTimer? push;
    private DateTimeOffset pushDue;

    public SkuGrain(
        [PersistentState("sku", StorageNames.State)] IPersistentState<SkuState> state,
        IOutboxIndex outboxIndex,
        IOptions<InventoryOptions> options,
        TimeProvider clock)
    {
        (this.state, this.options, this.clock, this.outboxIndex) = (state, options, clock, outboxIndex);
    }

    // Made on first use: most SKU activations only hold an ERP figure and never write to Shopify.
    private OutboxSender Sender => sender ??= new OutboxSender(this, GrainFactory, outboxIndex, () => PushAsync(resend: true));

    private SkuState S => state.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (S.Outbox.AnyUnfinished || Desired().Any())
        {
            SchedulePush(TimeSpan.Zero);
        }

        return Task.CompletedTask;
    }

    public async Task<IntakeOutcome> ErpStockChangedAsync(ShopifyDelivery delivery, ErpStockChange change)
    {
        var outcome = await this.ReceiveAsync(state, S.Journal, delivery, () =>
        {
            if (S.Locations.TryGetValue(change.Location, out var current) && change.Version <= current.Version)
            {
                return IntakeOutcome.Stale;
            }

            S.Locations[change.Location] = new LocationStock(change.Location, change.OnHand, change.Version, change.OccurredAt);
            S.LastErpUpdateAt = delivery.ReceivedAt;
            // The ERP's figure for this location now includes what was restocked there before it,
            // and the orders it had allocated before it.
            S.PendingRestocksStored?.RemoveAll(r => (r.Location ?? change.Location) == change.Location && r.At <= change.OccurredAt);
            foreach (var counted in S.Reservations.Values.Where(r => r.AllocatedAt <= change.OccurredAt).ToList())
            {
                S.WritableReservations.Remove(counted.OrderKey);
            }

            S.Trim();
            return IntakeOutcome.Applied;
        }, outcome => outcome == IntakeOutcome.Stale
            ? $"{change.Location}: version {change.Version} is not newer than applied {S.Locations[change.Location].Version}"
            : $"{change.Location}: on hand {change.OnHand} (version {change.Version})");
        if (outcome == IntakeOutcome.Applied)
        {
            await GrantBackordersAsync();
            SchedulePush(options.Value.PushDelay);
        }

        return outcome;
    }

    /// <summary>Available-to-sell over every ERP location: figures and pending restocks, less open reservations.</summary>
    private decimal AvailableToSell =>
        S.Locations.Values.Sum(l => decimal.Floor(l.OnHand)) + S.PendingRestocks.Sum(r => r.Quantity) - OpenReservations.Sum(r => r.Quantity);

    /// <summary>Reservations still holding stock: not booked by the ERP yet, or booked within <see cref="InventoryOptions.AllocationGrace"/>.</summary>
    private IEnumerable<StockReservation> OpenReservations
    {
        get
        {
            var cutoff = clock.GetUtcNow() - options.Value.AllocationGrace;
            return S.Reservations.Values.Where(r => r.AllocatedAt is null || r.AllocatedAt > cutoff);
        }
    }

    public async Task<string> ReserveAsync(string orderKey, int quantity)
    {
        if (S.Reservations.ContainsKey(orderKey))
        {
            return ReservationResult.Reserved;
        }

        if (S.Backorders.Any(b => b.OrderKey == orderKey))
        {
            return ReservationResult.Short;
        }

        if (S.Locations.Count == 0)
        {
            // No ERP figure yet: nothing known to guard (the ERP itself decides when the order comes).
            return ReservationResult.Untracked;
        }

        var now = clock.GetUtcNow();
        var available = AvailableToSell;
        // First come, first served: nobody overtakes an order already waiting.
        if (S.Backorders.Count == 0 && available >= quantity)
        {
            S.WritableReservations[orderKey] = new StockReservation(orderKey, quantity, now);
            S.Journal.Record(now, "reserved", $"{quantity} for order {orderKey} ({available - quantity} left to sell)", orderKey);
            await SaveAsync();
            SchedulePush(options.Value.PushDelay);
            return ReservationResult.Reserved;
        }

        S.WritableBackorders.Add(new StockReservation(orderKey, quantity, now));
        S.Journal.Record(now, "backordered", $"{quantity} for order {orderKey}: only {Math.Max(0, available)} to sell; waits for stock ({S.Backorders.Count} waiting)", orderKey);
        await SaveAsync();
        return ReservationResult.Short;
    }

    public async Task AllocatedAsync(string orderKey, DateTimeOffset erpTime)
    {
        if (!S.Reservations.TryGetValue(orderKey, out var reservation) || reservation.AllocatedAt is not null)
        {
            return;
        }

        if (S.Locations.Values.Any(l => l.At >= erpTime))
        {
            // The ERP reported after it booked the order (its report can overtake its answer to us): counted already.
            S.WritableReservations.Remove(orderKey);
            S.Journal.Record(clock.GetUtcNow(), "allocated", $"order {orderKey}: booked by the ERP and counted in its figure", orderKey);
            await SaveAsync();
            await GrantBackordersAsync();
            SchedulePush(options.Value.PushDelay);
            return;
        }

        S.WritableReservations[orderKey] = reservation with { AllocatedAt = erpTime };
        // Ended by grace if no figure comes: drop what expired and show Shopify the result then.
        foreach (var expired in S.Reservations.Values.Except(OpenReservations).ToList())
        {
            S.WritableReservations.Remove(expired.OrderKey);
        }

        await SaveAsync();
        SchedulePush(options.Value.AllocationGrace);
    }

    public async Task ReleaseAsync(string orderKey)
    {
        var released = S.ReservationsStored?.Remove(orderKey) == true | (S.BackordersStored?.RemoveAll(b => b.OrderKey == orderKey) ?? 0) > 0;
        if (released)
        {
            S.Journal.Record(clock.GetUtcNow(), "released", $"order {orderKey} holds nothing any more", orderKey);
            await SaveAsync();
            await GrantBackordersAsync();
            SchedulePush(options.Value.PushDelay);
        }
    }

    /// <summary>Stock came (or a hold ended): waiting orders get it in the order they came, each told once.</summary>
    private async Task GrantBackordersAsync()
    {
        var granted = new List<StockReservation>();
        var available = AvailableToSell;
        while (S.Backorders.Count > 0 && available >= S.Backorders[0].Quantity)
        {
            var next = S.Backorders[0];
            S.WritableBackorders.RemoveAt(0);
            S.WritableReservations[next.OrderKey] = next with { At = clock.GetUtcNow() };
            available -= next.Quantity;
            granted.Add(next);
        }

        if (granted.Count == 0)
        {
            return;
        }

        S.Journal.Record(clock.GetUtcNow(), "reserved", $"stock came for {granted.Count} waiting order(s): {string.Join(", ", granted.Select(g => g.OrderKey))}", null);
        await SaveAsync();
        var sku = EntityKeys.Split(this.GetPrimaryKeyString()).Id;
        foreach (var order in granted)
        {
            // One-way: an order that misses it asks again when it resumes (its reservation call answers Reserved).
            GrainFactory.GetGrain<IOrderGrain>(order.OrderKey).StockReservedAsync(sku).Ignore();
        }
    }

    public async Task RestockedAsync(string key, int quantity, string? location)
    {
        if (S.RestocksSeen.Contains(key))
        {
            return;
        }

        var now = clock.GetUtcNow();
        S.WritableRestocksSeen.Add(key);
        S.WritablePendingRestocks.Add(new PendingRestock(key, quantity, location, now));
        S.Journal.Record(now, "restock", $"{quantity} taken back{(location is null ? "" : $" at {location}")} ({key}), until the ERP's next figure counts them", key);
        await SaveAsync();
        await GrantBackordersAsync();
        SchedulePush(options.Value.PushDelay);
    }

    public async Task LinkShopifyItemAsync(string shop, string inventoryItemId)
    {
        if (S.ShopifyItems.TryGetValue(shop, out var known) && known == inventoryItemId)
        {
            return;
        }

        S.WritableShopifyItems[shop] = inventoryItemId;
        S.Journal.Record(clock.GetUtcNow(), "shopify:item", $"{shop}: inventory item {inventoryItemId}", null);
        await SaveAsync();
        // Known to the tenant's directory: an ERP without stock callbacks is polled for it.
        var (tenant, sku) = EntityKeys.Split(this.GetPrimaryKeyString());
        await GrainFactory.GetGrain<ISkuDirectoryGrain>(tenant).AddAsync(sku);
        await GrainFactory.GetGrain<RetailSync.Catalog.IShopifyInventoryItemGrain>(EntityKeys.ForShop(shop, inventoryItemId)).LinkSkuAsync(this.GetPrimaryKeyString());
        SchedulePush(options.Value.PushDelay);
    }

    public async Task ShopifyLevelReportedAsync(string shop, string locationId, int available)
    {
        var key = PushKey(shop, locationId);
        var now = clock.GetUtcNow();
        S.Pushed.TryGetValue(key, out var last);
        if (S.RecentWrites.TryGetValue(key, out var recent) && recent.Contains(available)
            || S.Outbox.Unfinished.Any(e => e.Key.StartsWith(CommandPrefix(key), StringComparison.Ordinal)))
        {
            // The echo of one of our recent writes (webhooks come late and out of order) or of one in flight.
            S.Echoes++;
            return;
        }

        S.Journal.Record(now, "shopify:level", $"{shop} location {locationId}: {available} set in Shopify (we last wrote {(last is null ? "nothing" : last.Available)}); the ERP decides stock, its figure goes back", null);
        if (last is not null)
        {
            // What Shopify holds now is the compare value of the write that restores the ERP's figure.
            S.WritablePushed[key] = last with { Available = available, At = now };
        }

        await SaveAsync();
        SchedulePush(options.Value.PushDelay);
    }

    public Task<ImmutableArray<ShopifyTarget>> ShopifyTargetsAsync() =>
        Task.FromResult<ImmutableArray<ShopifyTarget>>([.. Targets().Select(t => new ShopifyTarget(t.Shop, t.Item, t.Location, t.Available))]);

    public async Task RepairDriftAsync(string shop, string locationId, int found)
    {
        var key = PushKey(shop, locationId);
        S.Journal.Record(clock.GetUtcNow(), "drift", $"{shop} location {locationId}: Shopify held {found}, not the ERP's figure: repaired", null);
        if (S.Pushed.TryGetValue(key, out var last))
        {
            // What Shopify holds is the compare value of the repairing write.
            S.WritablePushed[key] = last with { Available = found, At = clock.GetUtcNow() };
        }

        await SaveAsync();
        SchedulePush(TimeSpan.Zero);
    }

    /// <summary>What each shop's item should show per Shopify location and differs from what we last wrote there.</summary>
    private IEnumerable<(string Shop, string Item, string Location, int Available)> Desired() =>
        Targets().Where(t => !S.Pushed.TryGetValue(PushKey(t.Shop, t.Location), out var last) || last.Available != t.Available);

    /// <summary>What each shop's item should show per Shopify location: the ERP's on hand there plus restocks it has not counted yet.</summary>
    /// <remarks>Open reservations are taken from the locations in their configured order: Shopify never shows stock already promised, nor less than zero.</remarks>
    private IEnumerable<(string Shop, string Item, string Location, int Available)> Targets()
    {
        foreach (var (shop, item) in S.ShopifyItems)
        {
            var reserved = OpenReservations.Sum(r => r.Quantity);
            foreach (var (erpLocation, shopifyLocation) in options.Value.Locations)
            {
                if (!S.Locations.TryGetValue(erpLocation, out var stock))
                {
                    continue;
                }

                var restocked = S.PendingRestocks.Where(r => (r.Location ?? erpLocation) == erpLocation).Sum(r => r.Quantity);
                var here = (int)Math.Max(0, decimal.Floor(stock.OnHand) + restocked);
                var taken = Math.Min(here, reserved);
                reserved -= taken;
                yield return (shop, item, shopifyLocation, here - taken);
            }
        }
    }

    private Task SaveAsync()
    {
        S.Trim();
        return this.WriteOrForgetAsync(state);
    }

    private static string PushKey(string shop, string location) => $"{shop}|{location}";

    /// <summary>
    /// Write commands are keyed by this SKU as well as the shop and location: the dispatcher de-duplicates by key
    /// across every SKU, so a key without the SKU would make one SKU's write stand in for another's.
    /// </summary>
    private string CommandPrefix(string pushKey) => $"inv:{this.GetPrimaryKeyString()}|{pushKey}:";

    private void SchedulePush(TimeSpan delay)
    {
        // Coalescing: one timer per activation; changes inside its delay ride on the same write. A sooner
        // push replaces a later one (a grace period's timer must not hold back a stock change).
        var due = clock.GetUtcNow() + delay;
        if (push is not null && pushDue <= due)
        {
            return;
        }

        push?.Dispose();
        pushDue = due;
        push = this.RegisterGrainTimer(async () =>
        {
            push?.Dispose();
            push = null;
            await PushAsync(resend: false);
        }, new GrainTimerCreationOptions(delay, Timeout.InfiniteTimeSpan));
    }

    private async Task PushAsync(bool resend)
    {
        var now = clock.GetUtcNow();
        var planned = false;
        foreach (var (shop, item, location, available) in Desired().ToList())
        {
            var key = PushKey(shop, location);
            if (S.Outbox.Unfinished.Any(e => e.Key.StartsWith(CommandPrefix(key), StringComparison.Ordinal)))
            {
                // One write in flight per shop and location; the latest value follows when it ends.
                continue;
            }

            S.Writes++;
            var commandKey = CommandPrefix(key) + S.Writes;
            var changeFrom = S.Pushed.TryGetValue(key, out var last) ? last.Available : (int?)null;
            var command = OutboundExecutor.Command("shopify", "inventorySet",
                new ShopifyInventorySet(shop, item, location, available, changeFrom, $"{this.GetPrimaryKeyString()}:{commandKey}"), commandKey);
            S.Outbox.Plan(commandKey, command, now);
            // The ERP change this value shows, for the freshness KPI: the latest figure of the mapped location.
            S.WritableShowsErpChangeOf[commandKey] = options.Value.Locations.Where(l => l.Value == location && S.Locations.ContainsKey(l.Key))
                .Select(l => S.Locations[l.Key].At).DefaultIfEmpty(now).Max();
            planned = true;
        }

        if (planned)
        {
            // Listed, then stored, then handed: the sweeper finds writes a crash interrupted.
            await Sender.ListAsync();
            await SaveAsync();
        }

        await Sender.HandAsync(S.Outbox.Unfinished, resend);
    }

    public async Task CommandEndedAsync(CommandView command)
    {
        var now = clock.GetUtcNow();
        if (S.Outbox.End(command, now) is not { } entry)
        {
            return;
        }

        // A failed write is not raised: the next write carries the value that is right now.
        await Sender.SettleAsync(entry, command, this.GetPrimaryKeyString(), now, raise: false);
        S.Journal.Record(now, "shopify:inventorySet", entry.Succeeded ? $"done: {command.Result}" : $"failed: {command.LastError}", command.Key);
        if (entry.Succeeded)
        {
            var p = System.Text.Json.JsonSerializer.Deserialize<ShopifyInventorySet>(entry.Command.Payload, OutboundExecutor.Json)!;
            if (S.ShowsErpChangeOf.TryGetValue(entry.Key, out var changedAt))
            {
                GrainFactory.GetGrain<IKpiGrain>("kpis").InventoryFreshAsync(now - changedAt).Ignore();
            }

            var key = PushKey(p.Shop, p.LocationId);
            S.WritablePushed[key] = new ShopifyPush(p.Shop, p.InventoryItemId, p.LocationId, p.Quantity, now);
            var recent = S.RecentWrites.TryGetValue(key, out var list) ? list : S.WritableRecentWrites[key] = [];
            recent.Add(p.Quantity);
            if (recent.Count > 8)
            {
                recent.RemoveAt(0);
            }
        }

        // Only the latest writes are worth keeping on record.
        S.ShowsErpChangeOfStored?.Remove(entry.Key);
        S.Outbox.RemoveEnded(e => e != entry);
        await SaveAsync();
        if (!S.Outbox.AnyUnfinished)
        {
            Sender.Unlist(always: true);
        }

        SchedulePush(TimeSpan.Zero);
    }

    public Task CommandRetryingAsync(CommandView command) => Task.CompletedTask;

    public Task ResumeAsync() => PushAsync(resend: true);

    public async Task<CommandView?> RetryCommandAsync(string key)
    {
        if (S.Outbox.Find(key) is not { } entry)
        {
            return null;
        }

        // A failed write is not replayed as it was: the next write carries the value that is right now.
        S.Outbox.Remove(entry);
        await SaveAsync();
        SchedulePush(TimeSpan.Zero);
        return new CommandView(entry.Key, entry.Command, CommandStatus.Pending, entry.Attempts, entry.Result, null, null);
    }

    public Task<SkuView?> GetAsync()
    {
        if (S.Locations.Count == 0 && S.PendingRestocks.Count == 0 && S.ShopifyItems.Count == 0 && S.Backorders.Count == 0)
        {
            return Task.FromResult<SkuView?>(null);
        }

        var (tenant, sku) = EntityKeys.Split(this.GetPrimaryKeyString());
        return Task.FromResult<SkuView?>(new SkuView(tenant, sku, [.. S.Locations.Values.OrderBy(l => l.Location, StringComparer.Ordinal)], [.. S.PendingRestocks],
            S.Locations.Values.Sum(l => l.OnHand) + S.PendingRestocks.Sum(r => r.Quantity), S.LastErpUpdateAt, [.. S.Journal.Timeline],
            S.ShopifyItems.ToImmutableDictionary(), [.. S.Pushed.Values], S.Writes, S.Echoes,
            [.. S.Reservations.Values.OrderBy(r => r.At)], [.. S.Backorders], AvailableToSell));
    }
}
