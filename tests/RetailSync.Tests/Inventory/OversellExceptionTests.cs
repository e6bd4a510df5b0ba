using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using RetailSync.Sandbox.BusinessCentral;
using RetailSync.Sandbox.Shopify;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Inventory;

/// <summary>The oversell guard configured to ask operations (<c>Inventory:Oversell = Exception</c>) instead of backordering.</summary>
public sealed class OversellExceptionTests : IAsyncLifetime
{
    private const string Shop = ShopifyFixtures.Shop;
    private InProcessHost host = null!;

    public async Task InitializeAsync() => host = await InProcessHost.StartEmbeddedAsync(
        "--RetailSync:Dashboard:Enabled=false",
        "--RetailSync:Inventory:Oversell=Exception",
        "--RetailSync:Outbound:RetryBaseDelay=00:00:00.100",
        "--RetailSync:Outbound:MaxDelay=00:00:01");

    public async Task DisposeAsync() => await host.DisposeAsync();

    private async Task<string?> StatusAsync(long id)
    {
        var (status, order) = await host.Http.GetApiAsync($"/api/v1/orders/{Shop}/{id}");
        return status == HttpStatusCode.OK ? order.GetProperty("status").GetString() : null;
    }

    [Fact]
    public async Task an_order_past_the_stock_waits_for_an_operator_whose_retry_submits_it_anyway()
    {
        var sku = "SCARCE-" + Guid.NewGuid().ToString("N")[..6];
        host.App.Services.GetRequiredService<BusinessCentralSimulator>().SeedItem(sku, "Scarce", 50m, 0m);
        (await host.Http.PostAsJsonAsync("/sandbox/erp/stock", new { sku, location = "MAIN", onHand = 1 })).EnsureSuccessStatusCode();
        var id = Random.Shared.NextInt64(1_000_000_000, 8_000_000_000);
        host.App.Services.GetRequiredService<ShopifySimulator>().SeedOrder(id.ToString(CultureInfo.InvariantCulture), "#" + id);
        Assert.Equal(HttpStatusCode.OK, (await host.Http.SendAsync(ShopifyFixtures.Delivery("orders/create", ShopifyFixtures.OrderOfOneLine(id, sku, 3)))).StatusCode);

        var exceptionId = $"order:oversell:{Shop}:{id}";
        await Eventually.TrueAsync(async () => (await host.Http.GetApiAsync($"/api/v1/ops/exceptions/{Uri.EscapeDataString(exceptionId)}")).Status == HttpStatusCode.OK,
            TimeSpan.FromSeconds(20), "the oversell exception");
        // Held, not backordered, not in the ERP.
        Assert.Equal("SubmittedToErp", await StatusAsync(id));
        Assert.DoesNotContain(host.App.Services.GetRequiredService<BusinessCentralSimulator>().Entities("salesOrders"),
            o => o["externalDocumentNumber"]!.GetValue<string>() == id.ToString(CultureInfo.InvariantCulture));

        using var retry = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/ops/exceptions/{Uri.EscapeDataString(exceptionId)}/retry");
        retry.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "dev-api-key");
        Assert.Equal(HttpStatusCode.OK, (await host.Http.SendAsync(retry)).StatusCode);
        await Eventually.TrueAsync(async () => await StatusAsync(id) == "Accepted", TimeSpan.FromSeconds(20), "accepted after the operator's retry");
        var (_, exception) = await host.Http.GetApiAsync($"/api/v1/ops/exceptions/{Uri.EscapeDataString(exceptionId)}");
        Assert.NotEqual("Open", exception.GetProperty("status").GetString());
    }
}
