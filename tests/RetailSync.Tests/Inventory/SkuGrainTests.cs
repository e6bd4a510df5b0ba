using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Inventory;

/// <summary>ERP stock truth per SKU in the embedded default: the sandbox ERP counts stock and calls back.</summary>
[Collection(SandboxCollection.Name)]
public sealed class SkuGrainTests(SandboxHostFixture sandbox) : IAsyncLifetime
{
    private const string Tenant = "sandbox";

    public async Task InitializeAsync()
    {
        await sandbox.ResetAsync();
        sandbox.BcSim.SeedItem("IPOD2008PINK", "iPod Nano 8GB pink", 199m, 100m);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<JsonElement> StockAsync(string sku, decimal onHand, string location = "MAIN")
    {
        var response = await sandbox.Http.PostAsJsonAsync("/sandbox/erp/stock", new { sku, location, onHand });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(200, answer.GetProperty("callback").GetProperty("status").GetInt32());
        return answer;
    }

    private static HttpRequestMessage Callback(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/erp/bc") { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-RetailSync-Hmac-Sha256", Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes("sandbox-erp-secret"), bytes)));
        return request;
    }

    [Fact]
    public async Task an_older_erp_figure_arriving_late_is_recorded_not_applied()
    {
        var first = (await StockAsync("IPOD2008PINK", 10)).GetProperty("version").GetInt64();
        await StockAsync("IPOD2008PINK", 7);
        await StockAsync("IPOD2008PINK", 3, location: "EAST");

        // The first count's callback is delivered again, late (and once more, as a duplicate).
        var late = $$"""{"eventId":"late-{{first}}","type":"stock.changed","sku":"IPOD2008PINK","location":"MAIN","onHand":10,"version":{{first}}}""";
        Assert.Equal("stale", (await (await sandbox.Http.SendAsync(Callback(late))).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("effect").GetString());
        Assert.Equal("duplicate", (await (await sandbox.Http.SendAsync(Callback(late))).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await sandbox.Http.SendAsync(Callback("""{"eventId":"x","type":"stock.changed","sku":"IPOD2008PINK"}"""))).StatusCode);

        var (status, sku) = await sandbox.Http.GetApiAsync($"/api/v1/inventory/{Tenant}/IPOD2008PINK");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(10m, sku.GetProperty("onHand").GetDecimal());
        var main = sku.GetProperty("locations").EnumerateArray().Single(l => l.GetProperty("location").GetString() == "MAIN");
        Assert.Equal(7m, main.GetProperty("onHand").GetDecimal());
        Assert.Contains(sku.GetProperty("timeline").EnumerateArray(), e => e.GetProperty("detail").GetString()!.Contains("is not newer", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.NotFound, (await sandbox.Http.GetApiAsync($"/api/v1/inventory/{Tenant}/NO-SUCH-SKU")).Status);
    }
}
