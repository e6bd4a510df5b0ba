using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Refunds;

/// <summary>A refund that cannot complete within its deadline becomes an operations exception (and keeps waiting).</summary>
public sealed class RefundDeadlineTests
{
    [Fact]
    public async Task a_refund_whose_order_never_arrives_is_raised_for_operations_after_its_deadline()
    {
        await using var host = await InProcessHost.StartEmbeddedAsync("--RetailSync:Dashboard:Enabled=false",
            "--RetailSync:Refunds:Deadline=00:00:02", "--RetailSync:Outbound:SweepPeriod=00:00:01", "--RetailSync:Outbound:SweepAge=00:00:01");
        var refund = JsonNode.Parse(ShopifyFixtures.Bytes("refunds_create__hookdeck-2024-10.json"))!.AsObject();
        var refundId = Random.Shared.NextInt64(1_000_000_000, 9_000_000_000).ToString(CultureInfo.InvariantCulture);
        refund["id"] = long.Parse(refundId, CultureInfo.InvariantCulture);
        refund["order_id"] = 4_040_404_040L;
        Assert.Equal(HttpStatusCode.OK, (await host.Http.SendAsync(ShopifyFixtures.Delivery("refunds/create", Encoding.UTF8.GetBytes(refund.ToJsonString())))).StatusCode);

        var id = $"refund:deadline:{ShopifyFixtures.Shop}:{refundId}";
        await Eventually.TrueAsync(async () =>
        {
            var (_, exceptions) = await host.Http.GetApiAsync("/api/v1/ops/exceptions");
            return exceptions.GetProperty("items").EnumerateArray().Any(e => e.GetProperty("id").GetString() == id
                && e.GetProperty("vendorMessage").GetString()!.Contains("has not arrived", StringComparison.Ordinal));
        }, TimeSpan.FromSeconds(30), "deadline exception raised");
        var (_, view) = await host.Http.GetApiAsync($"/api/v1/refunds/{ShopifyFixtures.Shop}/{refundId}");
        Assert.Equal("WaitingForOrder", view.GetProperty("status").GetString());
        Assert.Single(view.GetProperty("timeline").EnumerateArray(), e => e.GetProperty("detail").GetString()!.StartsWith("deadline passed", StringComparison.Ordinal));
    }
}
