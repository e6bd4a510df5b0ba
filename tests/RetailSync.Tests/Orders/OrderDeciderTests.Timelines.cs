using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using RetailSync.Inventory;
using RetailSync.Model;
using RetailSync.Orders;

namespace RetailSync.Tests.Orders;

/// <summary>
/// The timeline is what an operator reads to trace an order: its wording is output, and a change in it is a change in
/// behaviour. Every scenario's timeline, the exceptions its last step raises or resolves and the payloads it plans are
/// compared with <c>OrderTimelines.approved.txt</c>. After a deliberate change, run with
/// <c>RETAILSYNC_APPROVE_TIMELINES=1</c> to write the file anew and review its diff.
/// </summary>
public sealed partial class OrderDeciderTests
{
    private static IEnumerable<(string Name, Func<(OrderHarness, OrderDecision)> Run)> TimelineScenarios()
    {
        foreach (var ((from, trigger), scenario) in Scenarios.OrderBy(s => s.Key.From).ThenBy(s => s.Key.Trigger))
        {
            yield return ($"{from} --{trigger}-->", () =>
            {
                var h = scenario.Arrange();
                return (h, scenario.Act(h));
            });
        }

        yield return ("oversell held for operations, then stock comes", () =>
        {
            var h = new OrderHarness(rules: new OrderRules(TimeSpan.FromSeconds(5), OversellActions.Exception));
            h.Receive();
            h.Stock(ReservationResult.Short);
            return (h, h.StockLater());
        });
        yield return ("oversell held for operations, an operator submits it anyway", () =>
        {
            var h = new OrderHarness(rules: new OrderRules(TimeSpan.FromSeconds(5), OversellActions.Exception));
            h.Receive();
            var raised = h.Stock(ReservationResult.Short);
            Assert.Single(raised.Raise);
            return (h, h.Retry(h.OversellKey).Decision);
        });
        yield return ("the CRM context does not come in time", () =>
        {
            var h = new OrderHarness();
            h.Receive();
            h.Stock(ReservationResult.Reserved);
            h.Buyer();
            h.Tick(TimeSpan.FromSeconds(10));
            h.Send();
            return (h, h.Succeed(OrderDecider.SubmitOrder, OrderHarness.ErpNumber, "Open"));
        });
        yield return ("the golden customer does not come in time", () =>
        {
            var h = new OrderHarness();
            h.Receive();
            h.Stock(ReservationResult.Reserved);
            h.Succeed("context");
            h.Tick(TimeSpan.FromSeconds(10));
            h.Send();
            return (h, h.Succeed(OrderDecider.SubmitOrder, OrderHarness.ErpNumber, "Open"));
        });
        yield return ("no buyer, unresolved buyer, stock not answered", () =>
        {
            var h = new OrderHarness(shape: o => OrderHarness.TwoLinesOfThreeUnits(o) with { Customer = null, Email = null });
            h.Receive();
            OrderDecider.StockNotAnswered(h.S, "TimeoutException", h.Tick());
            OrderDecider.BuyerNotResolved(h.S, "TimeoutException: resolver", h.Tick());
            return (h, h.Stock(ReservationResult.Untracked));
        });
        yield return ("cancelled in Shopify after shipment", () =>
        {
            var h = new OrderHarness().Fulfilled();
            var cancelled = h.CancelInShopify();
            var raised = OrderDecider.CancelAfterShipment(h.S, h.Tick());
            return (h, new OrderDecision { Outcome = cancelled.Outcome, Raise = { raised } });
        });
        yield return ("the ERP cancels without saying why", () =>
        {
            var h = new OrderHarness().Accepted();
            h.CancelInShopify();
            var entry = h.Pending("cancelOrder");
            return (h, OrderDecider.CommandEnded(h.S, h.Key, new RetailSync.Operations.CommandView(entry.Key, entry.Command, RetailSync.Operations.CommandStatus.Succeeded, 1, null, null, null), h.Tick()));
        });
        yield return ("a refused submission, retried, then a stale and a duplicate payload", () =>
        {
            var h = new OrderHarness().Rejected();
            h.Retry(h.SubmitKey);
            var delivery = h.Delivery("orders/updated");
            h.Receive(h.Later(2), delivery);
            h.Receive(h.Later(1));
            return (h, h.Receive(h.Later(2), delivery));
        });
        yield return ("a shipment with tracking, an ERP event with a reason, a partial refund", () =>
        {
            var h = new OrderHarness().Accepted();
            h.Erp(RetailSync.Erp.ErpOrderEventTypes.OnHold, reason: "credit review");
            h.Erp(RetailSync.Erp.ErpOrderEventTypes.Released);
            h.Ship(1, "SH-9");
            h.Erp(RetailSync.Erp.ErpOrderEventTypes.Rejected, reason: "too late");
            return (h, h.Refund("R-7", ImmutableDictionary<string, int>.Empty.Add(h.Order.Lines[0].LineId, 1)));
        });
        yield return ("a fulfilment from Shopify, then the buyer's data redacted", () =>
        {
            var h = new OrderHarness().Accepted();
            h.Tick();
            var fulfillment = new Fulfillment("F-1", h.OrderId, "success", "DHL", ["TRK-2"], [], [new FulfillmentLine(h.Order.Lines[0].LineId, OrderHarness.Sku, 1)], null, h.Now, h.Now);
            var decision = OrderDecider.Fulfillment(h.S, h.Delivery("fulfillments/create"), fulfillment);
            OrderDecider.Redact(h.S, "customers/redact", h.Tick());
            return (h, decision);
        });
    }

    [Fact]
    public void each_scenario_writes_the_approved_timeline()
    {
        var text = new StringBuilder();
        foreach (var (name, run) in TimelineScenarios())
        {
            var (h, decision) = run();
            text.Append("== ").Append(name).Append(" ").Append(h.S.Status).Append('\n');
            foreach (var e in h.S.Journal.Timeline)
            {
                text.Append(Seconds(e.At)).Append(' ').Append(e.Kind).Append(" | ").Append(e.Detail).Append(" | ").Append(e.CorrelationId ?? "-").Append('\n');
            }

            foreach (var raised in decision.Raise)
            {
                text.Append("raise ").Append(raised.Id).Append(" | ").Append(raised.System).Append(':').Append(raised.Operation)
                    .Append(" | ").Append(raised.Payload).Append(" | ").Append(raised.VendorCode).Append(" | ").Append(raised.VendorMessage).Append('\n');
            }

            foreach (var (id, resolution) in decision.Resolve)
            {
                text.Append("resolve ").Append(id).Append(" | ").Append(resolution).Append('\n');
            }

            foreach (var entry in h.S.Outbox.Entries)
            {
                text.Append("command ").Append(entry.Key).Append(" | ").Append(entry.Command.CorrelationId ?? "-").Append(" | ").Append(entry.Command.Payload).Append('\n');
            }

            foreach (var (system, sync) in h.S.Systems.OrderBy(x => x.Key, StringComparer.Ordinal))
            {
                text.Append("system ").Append(system).Append(" | ").Append(sync.Status).Append(" | ").Append(sync.ExternalId ?? "-").Append(" | ").Append(sync.Error ?? "-").Append('\n');
            }
        }

        var approved = ApprovedPath();
        if (Environment.GetEnvironmentVariable("RETAILSYNC_APPROVE_TIMELINES") == "1")
        {
            File.WriteAllText(approved, text.ToString());
            return;
        }

        Assert.True(File.Exists(approved), $"{approved} is missing: run once with RETAILSYNC_APPROVE_TIMELINES=1 and review it");
        var expected = File.ReadAllText(approved).ReplaceLineEndings("\n").Split('\n');
        var actual = text.ToString().Split('\n');
        // The first differing line, not two 40 KB strings: what changed is what the reader needs.
        var at = Enumerable.Range(0, Math.Min(expected.Length, actual.Length)).FirstOrDefault(i => expected[i] != actual[i], -1);
        Assert.True(at < 0 && expected.Length == actual.Length,
            at < 0 ? $"line count {actual.Length} differs from the approved {expected.Length}" : $"line {at + 1}:\napproved: {expected[at]}\nactual:   {actual[at]}");
    }

    private static string Seconds(DateTimeOffset at) => "+" + (at - OrderHarness.Start).TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";

    private static string ApprovedPath([CallerFilePath] string source = "") => Path.Combine(Path.GetDirectoryName(source)!, "OrderTimelines.approved.txt");
}
