using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using RetailSync.Testing;

namespace RetailSync.Benchmarks;

/// <summary>
/// Orders through the embedded default while every vendor's tokens live <c>--lifetime</c> seconds (20 by default):
/// Shopify's client-credentials tokens, Salesforce's sessions and Business Central's Entra ID tokens all expire several
/// times during the run. Every order must end accepted by the ERP, tagged in Shopify and written to the CRM, nothing in
/// the exception queue but the stewards' merge candidates, one ERP sales order and one CRM order per Shopify order;
/// prints how many tokens each vendor issued.
/// </summary>
public static class TokenExpiryScenario
{
    private const string Shop = EmbeddedBench.Shop;

    public static async Task<int> RunAsync(string[] args)
    {
        var orders = int.Parse(BenchOptions.Option(args, "orders", "1000"), CultureInfo.InvariantCulture);
        var rate = double.Parse(BenchOptions.Option(args, "rate", "15"), CultureInfo.InvariantCulture);
        var lifetime = int.Parse(BenchOptions.Option(args, "lifetime", "20"), CultureInfo.InvariantCulture);
        var signed = new SignedOrders(EmbeddedBench.Secret);
        await using var bench = await EmbeddedBench.StartAsync(orders, $"--RetailSync:Sandbox:TokenLifetime=00:00:{lifetime:00}");
        var http = bench.Http;

        var started = DateTime.UtcNow;
        var (_, refused, sent) = await PacedSender.SendAsync(http, orders, rate, n => signed.Create(Shop, n));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {orders} orders sent in {sent:F1} s ({refused} refused), tokens living {lifetime} s"));

        // Every order through all three systems, or the deadline.
        var unfinished = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(120);
        for (var n = 0; n < orders; n++)
        {
            var id = (SignedOrders.Base + n).ToString(CultureInfo.InvariantCulture);
            var done = await Eventually.ValueAsync(async () =>
            {
                var order = await http.GetFromJsonAsync<JsonElement>($"/api/v1/orders/{Shop}/{id}");
                return Through(order) ? (bool?)true : null;
            }, deadline, TimeSpan.FromMilliseconds(200));
            if (done is null)
            {
                unfinished.Add(id);
            }
        }

        var elapsed = (DateTime.UtcNow - started).TotalSeconds;
        var raised = (await http.GetFromJsonAsync<JsonElement>("/api/v1/ops/exceptions?includeResolved=true")).GetProperty("items").EnumerateArray().ToList();
        // The generated buyers share names and addresses, so identity raises merge candidates for the stewards: data to
        // decide, not a failed call. Every other exception is a command that could not be carried out.
        var candidates = raised.Count(e => e.GetProperty("system").GetString() == "identity");
        var exceptions = raised.Count - candidates;
        foreach (var kind in raised.Where(e => e.GetProperty("system").GetString() != "identity").GroupBy(e => $"{e.GetProperty("system").GetString()} {e.GetProperty("operation").GetString()} {e.GetProperty("vendorCode").GetString()}: {e.GetProperty("vendorMessage").GetString()}").Take(5))
        {
            Console.WriteLine($"    exception x{kind.Count()}: {kind.Key}");
        }
        var state = await http.GetFromJsonAsync<JsonElement>("/sandbox/state");
        var erpOrders = state.GetProperty("bc").GetProperty("salesOrders").EnumerateArray().Select(o => o.GetProperty("externalDocumentNumber").GetString()).ToList();
        var crmOrders = state.GetProperty("salesforce").GetProperty("records").TryGetProperty("Order", out var crm)
            ? crm.EnumerateArray().Select(o => o.GetProperty("Shopify_Order_Id__c").GetString()).ToList()
            : [];
        var tokens = await http.GetFromJsonAsync<JsonElement>("/sandbox/state/tokens");
        var lost = orders - erpOrders.Distinct(StringComparer.Ordinal).Count();
        var duplicated = (erpOrders.Count - erpOrders.Distinct(StringComparer.Ordinal).Count()) + (crmOrders.Count - crmOrders.Distinct(StringComparer.Ordinal).Count());
        var expiries = elapsed / lifetime;
        await Report.WriteAsync("token-expiry", [],
        [
            ("orders / rate / token lifetime", string.Create(CultureInfo.InvariantCulture, $"{orders} / {rate} per s / {lifetime} s ({expiries:F1} lifetimes over the run)")),
            ("orders not through ERP, Shopify and CRM by the deadline", unfinished.Count.ToString(CultureInfo.InvariantCulture)),
            ("failed commands in the exception queue (and merge candidates)", $"{exceptions} ({candidates})"),
            ("lost / duplicated (ERP sales orders, CRM orders)", $"{lost} / {duplicated} ({erpOrders.Count} ERP, {crmOrders.Count} CRM)"),
            ("tokens issued: Shopify / Salesforce / Business Central", $"{tokens.GetProperty("shopify").GetInt32()} / {tokens.GetProperty("salesforce").GetInt32()} / {tokens.GetProperty("bc").GetInt32()}"),
        ], new { orders, rate, lifetime });
        return unfinished.Count == 0 && exceptions == 0 && lost == 0 && duplicated == 0 && refused == 0 ? 0 : 1;
    }

    /// <summary>Accepted by the ERP, its status synced to Shopify and the order written to the CRM.</summary>
    private static bool Through(JsonElement order)
    {
        if (order.ValueKind != JsonValueKind.Object || !order.TryGetProperty("timeline", out var timeline))
        {
            return false;
        }

        bool accepted = false, shopify = false, crm = false;
        foreach (var entry in timeline.EnumerateArray())
        {
            var kind = entry.GetProperty("kind").GetString();
            var detail = entry.GetProperty("detail").GetString() ?? "";
            accepted |= kind == "status" && detail.Contains("→ Accepted", StringComparison.Ordinal);
            shopify |= kind == "shopify:syncStatus" && detail.StartsWith("done", StringComparison.Ordinal);
            crm |= kind == "crm:upsert" && detail.StartsWith("done", StringComparison.Ordinal);
        }

        return accepted && shopify && crm;
    }
}
