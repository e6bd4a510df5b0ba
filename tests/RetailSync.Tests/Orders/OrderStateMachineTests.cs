using RetailSync.Orders;

namespace RetailSync.Tests.Orders;

public sealed class OrderStateMachineTests
{
    private static readonly HashSet<(OrderStatus, OrderTrigger, OrderStatus)> Expected =
    [
        (OrderStatus.Received, OrderTrigger.SubmitToErp, OrderStatus.SubmittedToErp),
        (OrderStatus.SubmittedToErp, OrderTrigger.ErpAccepted, OrderStatus.Accepted),
        (OrderStatus.SubmittedToErp, OrderTrigger.ErpBackordered, OrderStatus.Backordered),
        (OrderStatus.SubmittedToErp, OrderTrigger.ErpRejected, OrderStatus.Rejected),
        (OrderStatus.SubmittedToErp, OrderTrigger.ErpOnHold, OrderStatus.OnHold),
        (OrderStatus.OnHold, OrderTrigger.ErpAccepted, OrderStatus.Accepted),
        (OrderStatus.OnHold, OrderTrigger.ErpRejected, OrderStatus.Rejected),
        (OrderStatus.Backordered, OrderTrigger.ErpAccepted, OrderStatus.Accepted),
        (OrderStatus.Accepted, OrderTrigger.ErpBackordered, OrderStatus.Backordered),
        (OrderStatus.Accepted, OrderTrigger.ErpOnHold, OrderStatus.OnHold),
        (OrderStatus.Rejected, OrderTrigger.ErpAccepted, OrderStatus.Accepted),
        (OrderStatus.SubmittedToErp, OrderTrigger.StockShort, OrderStatus.Backordered),
        (OrderStatus.Backordered, OrderTrigger.StockReserved, OrderStatus.SubmittedToErp),
        (OrderStatus.Accepted, OrderTrigger.ShippedPartially, OrderStatus.PartiallyFulfilled),
        (OrderStatus.Accepted, OrderTrigger.ShippedFully, OrderStatus.Fulfilled),
        (OrderStatus.Backordered, OrderTrigger.ShippedPartially, OrderStatus.PartiallyFulfilled),
        (OrderStatus.Backordered, OrderTrigger.ShippedFully, OrderStatus.Fulfilled),
        (OrderStatus.PartiallyFulfilled, OrderTrigger.ShippedPartially, OrderStatus.PartiallyFulfilled),
        (OrderStatus.PartiallyFulfilled, OrderTrigger.ShippedFully, OrderStatus.Fulfilled),
        (OrderStatus.SubmittedToErp, OrderTrigger.Cancel, OrderStatus.Cancelled),
        (OrderStatus.Accepted, OrderTrigger.Cancel, OrderStatus.Cancelled),
        (OrderStatus.Backordered, OrderTrigger.Cancel, OrderStatus.Cancelled),
        (OrderStatus.OnHold, OrderTrigger.Cancel, OrderStatus.Cancelled),
        (OrderStatus.Rejected, OrderTrigger.Cancel, OrderStatus.Cancelled),
        (OrderStatus.Accepted, OrderTrigger.Refund, OrderStatus.Refunded),
        (OrderStatus.PartiallyFulfilled, OrderTrigger.Refund, OrderStatus.Refunded),
        (OrderStatus.Fulfilled, OrderTrigger.Refund, OrderStatus.Refunded),
        (OrderStatus.Cancelled, OrderTrigger.Refund, OrderStatus.Refunded),
    ];

    public static TheoryData<OrderStatus, OrderTrigger> EveryCombination()
    {
        var data = new TheoryData<OrderStatus, OrderTrigger>();
        foreach (var status in Enum.GetValues<OrderStatus>())
        {
            foreach (var trigger in Enum.GetValues<OrderTrigger>())
            {
                data.Add(status, trigger);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EveryCombination))]
    public void every_transition_is_either_listed_or_refused(OrderStatus status, OrderTrigger trigger)
    {
        var legal = Expected.FirstOrDefault(e => e.Item1 == status && e.Item2 == trigger);
        Assert.Equal(legal != default, OrderStateMachine.TryFire(status, trigger, out var next));
        if (legal != default)
        {
            Assert.Equal(legal.Item3, next);
        }
    }

    [Fact]
    public void the_table_has_no_transition_the_tests_do_not_know() =>
        Assert.Equal(Expected.OrderBy(e => e.ToString()), OrderStateMachine.Legal.OrderBy(e => e.ToString()));

    [Fact]
    public void nothing_leaves_refunded_and_a_shipped_order_cannot_be_cancelled()
    {
        Assert.DoesNotContain(OrderStateMachine.Legal, t => t.From == OrderStatus.Refunded);
        Assert.False(OrderStateMachine.TryFire(OrderStatus.Fulfilled, OrderTrigger.Cancel, out _));
        Assert.False(OrderStateMachine.TryFire(OrderStatus.PartiallyFulfilled, OrderTrigger.Cancel, out _));
    }
}
