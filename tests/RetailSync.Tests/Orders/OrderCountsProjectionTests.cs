using CsCheck;
using RetailSync.Orders;
using RetailSync.Platform;

namespace RetailSync.Tests.Orders;

/// <summary>The orders-by-status projection's rules, without a grain: events applied to a state, counts read from it.</summary>
public sealed class OrderCountsProjectionTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    private static OrderStatusChanged Changed(string order, OrderStatus? from, OrderStatus to, int sequence, string tenant = "t1", int atSeconds = 0) =>
        new(order, tenant, T0.AddSeconds(atSeconds == 0 ? sequence : atSeconds), from, to, sequence, TimeSpan.FromSeconds(sequence));

    private static OrderAccepted Accepted(string order, double sinceReceivedMs, string tenant = "t1", int atSeconds = 2) =>
        new(order, tenant, T0.AddSeconds(atSeconds), "SO-" + order, TimeSpan.FromMilliseconds(sinceReceivedMs));

    /// <summary>One order's way to the ERP's acceptance, as its grain records it.</summary>
    private static OrderEvent[] AcceptedOrder(string order = "shop/1", string tenant = "t1", double latencyMs = 1500) =>
    [
        Changed(order, null, OrderStatus.Received, 0, tenant),
        Changed(order, OrderStatus.Received, OrderStatus.SubmittedToErp, 1, tenant),
        Changed(order, OrderStatus.SubmittedToErp, OrderStatus.Accepted, 2, tenant),
        Accepted(order, latencyMs, tenant),
    ];

    private static OrderCountsState Project(IEnumerable<OrderEvent> events)
    {
        var s = new OrderCountsState();
        foreach (var e in events)
        {
            OrderCountsProjection.Apply(s, e);
        }

        return s;
    }

    private static Dictionary<string, long> ByStatus(OrderCountsState s) => OrderCountsProjection.Counts(s).ByStatus.ToDictionary();

    /// <summary>An order event the projection has no rule for.</summary>
    private sealed record Noted(string Order, string Tenant, DateTimeOffset At) : OrderEvent(Order, Tenant, At);

    [Fact]
    public void an_event_the_projection_does_not_know_changes_nothing()
    {
        var s = Project(AcceptedOrder());
        var applied = s.EventsApplied;

        Assert.False(OrderCountsProjection.Apply(s, new Noted("shop/1", "t1", T0.AddHours(1))));

        Assert.Equal(applied, s.EventsApplied);
        Assert.Equal(T0.AddSeconds(2), s.AsOf);
    }

    [Fact]
    public void one_order_received_submitted_and_accepted_counts_once_as_accepted()
    {
        var s = new OrderCountsState();
        var applied = AcceptedOrder().Select(e => OrderCountsProjection.Apply(s, e)).ToList();

        Assert.Equal([true, true, true, true], applied);
        var counts = OrderCountsProjection.Counts(s);
        Assert.Equal(new Dictionary<string, long> { ["Accepted"] = 1 }, counts.ByStatus.ToDictionary());
        Assert.Equal(1, counts.ByStatus.Values.Sum());
        Assert.Equal(new Dictionary<string, long> { ["Accepted"] = 1 }, Assert.Single(counts.ByTenant, t => t.Key == "t1").Value.ToDictionary());
        Assert.Single(counts.ByTenant);
        Assert.Equal(4, counts.EventsApplied);
        Assert.Equal(T0.AddSeconds(2), counts.AsOf);
        Assert.Equal(1500, counts.AcceptanceP50Ms);
        Assert.Equal(1500, counts.AcceptanceP99Ms);
        Assert.Null(counts.StoredAt);
    }

    [Fact]
    public void each_status_on_the_way_is_counted_while_the_order_is_in_it()
    {
        var s = new OrderCountsState();
        var events = AcceptedOrder();

        OrderCountsProjection.Apply(s, events[0]);
        Assert.Equal(new Dictionary<string, long> { ["Received"] = 1 }, ByStatus(s));
        OrderCountsProjection.Apply(s, events[1]);
        Assert.Equal(new Dictionary<string, long> { ["SubmittedToErp"] = 1 }, ByStatus(s));
    }

    [Fact]
    public void a_duplicate_of_any_event_changes_nothing()
    {
        var s = Project(AcceptedOrder());
        var before = OrderCountsProjection.Counts(s);

        var again = AcceptedOrder().Select(e => OrderCountsProjection.Apply(s, e)).ToList();

        Assert.Equal([false, false, false, false], again);
        var after = OrderCountsProjection.Counts(s);
        Assert.Equal(before.ByStatus.ToDictionary(), after.ByStatus.ToDictionary());
        Assert.Equal(4, after.EventsApplied);
        Assert.Single(s.Acceptance);
        Assert.Equal(before.AsOf, after.AsOf);
    }

    [Fact]
    public void a_later_change_delivered_first_wins_over_the_earlier_ones()
    {
        var events = AcceptedOrder();
        var s = new OrderCountsState();

        Assert.True(OrderCountsProjection.Apply(s, events[2]));
        Assert.False(OrderCountsProjection.Apply(s, events[1]));
        Assert.False(OrderCountsProjection.Apply(s, events[0]));

        Assert.Equal(new Dictionary<string, long> { ["Accepted"] = 1 }, ByStatus(s));
        Assert.Equal(1, OrderCountsProjection.Counts(s).EventsApplied);
        Assert.Equal(2, s.Orders["shop/1"].Sequence);
    }

    [Fact]
    public void the_newest_event_applied_dates_the_projection_whatever_order_it_came_in()
    {
        var s = new OrderCountsState();
        OrderCountsProjection.Apply(s, Changed("shop/1", null, OrderStatus.Received, 0, atSeconds: 50));
        OrderCountsProjection.Apply(s, Changed("shop/2", null, OrderStatus.Received, 0, atSeconds: 10));
        Assert.Equal(T0.AddSeconds(50), OrderCountsProjection.Counts(s).AsOf);

        // An older change of a known order is not applied and does not date it either.
        OrderCountsProjection.Apply(s, Changed("shop/1", OrderStatus.Received, OrderStatus.SubmittedToErp, 1, atSeconds: 60));
        OrderCountsProjection.Apply(s, Changed("shop/1", null, OrderStatus.Received, 0, atSeconds: 90));
        Assert.Equal(T0.AddSeconds(60), OrderCountsProjection.Counts(s).AsOf);
    }

    [Fact]
    public void counts_are_kept_per_tenant_and_in_all()
    {
        var s = Project([
            .. AcceptedOrder("a/1", "a"),
            .. AcceptedOrder("a/2", "a"),
            Changed("a/2", OrderStatus.Accepted, OrderStatus.Backordered, 3, "a"),
            .. AcceptedOrder("b/1", "b").Take(2),
        ]);

        var counts = OrderCountsProjection.Counts(s);
        Assert.Equal(new Dictionary<string, long> { ["Accepted"] = 1, ["Backordered"] = 1, ["SubmittedToErp"] = 1 }, counts.ByStatus.ToDictionary());
        Assert.Equal(["a", "b"], counts.ByTenant.Keys.Order());
        Assert.Equal(new Dictionary<string, long> { ["Accepted"] = 1, ["Backordered"] = 1 }, counts.ByTenant["a"].ToDictionary());
        Assert.Equal(new Dictionary<string, long> { ["SubmittedToErp"] = 1 }, counts.ByTenant["b"].ToDictionary());
    }

    [Fact]
    public void acceptance_p50_and_p99_come_from_the_accepted_events()
    {
        var s = Project(Enumerable.Range(1, 100).SelectMany(i => AcceptedOrder($"shop/{i}", latencyMs: 10 * (101 - i))));

        var counts = OrderCountsProjection.Counts(s);
        Assert.Equal(500, counts.AcceptanceP50Ms);
        Assert.Equal(990, counts.AcceptanceP99Ms);
        Assert.Equal(100, counts.ByStatus["Accepted"]);
    }

    [Fact]
    public void percentiles_of_few_samples_are_the_nearest_rank()
    {
        Assert.Null(Percentiles.Of([], 0.5));
        Assert.Equal(100, Percentiles.Of([100, 300], 0.5));
        Assert.Equal(300, Percentiles.Of([100, 300], 0.99));
        Assert.Equal(200, Percentiles.Of([100, 200, 300], 0.5));
        Assert.Equal(300, Percentiles.Of([100, 200, 300], 1.0));

        var none = OrderCountsProjection.Counts(Project(AcceptedOrder().Take(3)));
        Assert.Null(none.AcceptanceP50Ms);
        Assert.Null(none.AcceptanceP99Ms);
    }

    [Fact]
    public void an_order_accepted_again_counts_its_latency_once_and_a_negative_one_as_zero()
    {
        var s = Project([
            .. AcceptedOrder("shop/1", latencyMs: 400),
            Changed("shop/1", OrderStatus.Accepted, OrderStatus.Backordered, 3),
            Changed("shop/1", OrderStatus.Backordered, OrderStatus.Accepted, 4),
            Accepted("shop/1", 9000, atSeconds: 4),
            .. AcceptedOrder("shop/2", latencyMs: -50),
        ]);

        Assert.Equal([400, 0], s.Acceptance);
        Assert.Equal(2, OrderCountsProjection.Counts(s).ByStatus["Accepted"]);
    }

    [Fact]
    public void an_acceptance_before_its_status_change_counts_the_latency_and_waits_for_the_status()
    {
        var s = new OrderCountsState();
        var events = AcceptedOrder();

        Assert.True(OrderCountsProjection.Apply(s, events[3]));
        var early = OrderCountsProjection.Counts(s);
        Assert.Empty(early.ByStatus);
        Assert.Empty(early.ByTenant);
        Assert.Equal(1500, early.AcceptanceP50Ms);

        Assert.True(OrderCountsProjection.Apply(s, events[2]));
        Assert.False(OrderCountsProjection.Apply(s, events[3]));
        Assert.Equal(new Dictionary<string, long> { ["Accepted"] = 1 }, ByStatus(s));
        Assert.Single(s.Acceptance);
    }

    [Fact]
    public void the_latency_samples_keep_the_newest()
    {
        var s = new OrderCountsState();
        for (var i = 0; i < OrderCountsProjection.LatencySamples + 5; i++)
        {
            OrderCountsProjection.Apply(s, Accepted($"shop/{i}", i));
        }

        Assert.Equal(OrderCountsProjection.LatencySamples, s.Acceptance.Count);
        Assert.Equal(5, s.Acceptance[0]);
        Assert.Equal(OrderCountsProjection.LatencySamples + 4, s.Acceptance[^1]);
    }

    [Fact]
    public void a_restatement_keeps_the_sum_and_rebuilds_an_order_the_projection_lost()
    {
        var s = Project(AcceptedOrder());
        var restated = new OrderStatusChanged("shop/1", "t1", T0.AddMinutes(5), OrderStatus.Accepted, OrderStatus.Accepted, 2, TimeSpan.FromMinutes(5));

        // What the order grain restates: its latest sequence, which the projection has.
        Assert.False(OrderCountsProjection.Apply(s, restated));
        Assert.Equal(new Dictionary<string, long> { ["Accepted"] = 1 }, ByStatus(s));
        Assert.Equal(4, s.EventsApplied);

        // A restatement newer than what the projection holds (it missed a change) moves it, still one order.
        var behind = Project(AcceptedOrder().Take(2));
        Assert.True(OrderCountsProjection.Apply(behind, restated));
        Assert.Equal(new Dictionary<string, long> { ["Accepted"] = 1 }, ByStatus(behind));
        Assert.True(OrderCountsProjection.Apply(behind, restated with { Sequence = 3 }));
        Assert.Equal(new Dictionary<string, long> { ["Accepted"] = 1 }, ByStatus(behind));
        Assert.Equal(3, behind.Orders["shop/1"].Sequence);

        // A projection that lost the order altogether gets it back from the restatement alone.
        var lost = Project([restated]);
        Assert.Equal(new Dictionary<string, long> { ["Accepted"] = 1 }, ByStatus(lost));
        Assert.Equal("t1", lost.Orders["shop/1"].Tenant);
    }

    /// <summary>Four orders' events as their grains record them (the decider's own), one of them restated, in two tenants.</summary>
    private static OrderEvent[] Lifecycles()
    {
        var refunded = new OrderHarness(1).Fulfilled();
        refunded.RefundAll();
        var cancelled = new OrderHarness(2).WaitingForStock();
        cancelled.CancelInShopify();
        var rejected = new OrderHarness(3).OnHold();
        rejected.Erp(RetailSync.Erp.ErpOrderEventTypes.Rejected);
        var accepted = new OrderHarness(4).Accepted();
        return
        [
            .. refunded.S.Unpublished!,
            .. cancelled.S.Unpublished!.Select(e => e with { Tenant = "other" }),
            .. rejected.S.Unpublished!,
            .. accepted.S.Unpublished!,
            OrderDecider.Restated(accepted.S, accepted.Key, accepted.Tick(TimeSpan.FromMinutes(10))),
        ];
    }

    private static string Describe(OrderCounts c) =>
        $"{string.Join(",", c.ByStatus.OrderBy(x => x.Key).Select(x => $"{x.Key}={x.Value}"))}"
        + $" | {string.Join(";", c.ByTenant.OrderBy(t => t.Key).Select(t => $"{t.Key}:{string.Join(",", t.Value.OrderBy(x => x.Key).Select(x => $"{x.Key}={x.Value}"))}"))}"
        + $" | p50 {c.AcceptanceP50Ms} p99 {c.AcceptanceP99Ms}";

    [Fact]
    public void any_order_of_delivery_with_duplicates_gives_the_counts_of_delivery_in_order()
    {
        var events = Lifecycles();
        var inOrder = OrderCountsProjection.Counts(Project(events));
        Assert.Equal(new Dictionary<string, long> { ["Refunded"] = 1, ["Cancelled"] = 1, ["Rejected"] = 1, ["Accepted"] = 1 }, inOrder.ByStatus.ToDictionary());
        Assert.Equal(new Dictionary<string, long> { ["Cancelled"] = 1 }, inOrder.ByTenant["other"].ToDictionary());
        Assert.Equal(3, inOrder.ByTenant[OrderHarness.Tenant].Values.Sum());
        Assert.Equal(2, events.OfType<OrderAccepted>().Count());
        var expected = Describe(inOrder);

        Gen.Int[0, events.Length - 1].Array[0, events.Length]
            .SelectMany(duplicates => Gen.Shuffle(events.Concat(duplicates.Select(i => events[i])).ToArray()))
            .Sample(delivered => Assert.Equal(expected, Describe(OrderCountsProjection.Counts(Project(delivered)))), iter: 2000, threads: 1,
                print: delivered => string.Join(" ", delivered.Select(e => e is OrderStatusChanged c ? $"{c.Order}#{c.Sequence}" : $"{e.Order}:accepted")));
    }
}
