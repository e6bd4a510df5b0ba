using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace RetailSync.Connectors.Tryton;

/// <summary>
/// Tryton ERP over JSON-RPC: customers are parties keyed by our golden customer id in <c>party.code</c>,
/// products are found by <c>code</c> = SKU, sales carry the Shopify order id in <c>reference</c>.
/// Tryton does not make <c>reference</c> unique, so every submission searches it first, and after a create
/// searches again and keeps the oldest sale of that reference (deleting its own draft if it lost a race).
/// A sale goes quote → confirm → process explicitly, so a processing error surfaces here instead of only
/// in the server log. A credit-limit warning on confirm leaves the sale in quotation and answers
/// <see cref="ErpStatuses.OnHold"/> with Tryton's message.
/// </summary>
public sealed partial class TrytonClient(HttpClient http, IOptionsMonitor<ConnectorOptions> options) : IErp
{
    public const string SystemName = TrytonRpc.SystemName;

    private const int ConflictRetries = 5;

    /// <summary>
    /// Sales per transaction: confirming processes each sale in the same request (~150 ms each when
    /// batched), so larger batches only make requests long enough to hit the call timeout.
    /// </summary>
    public const int BatchLimit = 10;
    private static readonly string[] SaleFields = ["id", "number", "reference", "state", "total_amount", "shipment_state", "invoice_state", "_timestamp"];
    private static readonly string[] PartyFields = ["id", "code", "name", "credit_limit_amount", "addresses", "contact_mechanisms", "_timestamp"];

    private readonly TrytonRpc rpc = new(http, () => options.CurrentValue.Tryton);
    private readonly ConcurrentDictionary<string, Product> products = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> currencies = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, long> countries = new(StringComparer.Ordinal);
    private long warehouse;

    private sealed record Product(long Id, long Unit, long? RevenueAccount);

    private sealed record Party(long Id, string Code, decimal? CreditLimit, long? Address, JsonObject Raw);

    /// <summary>The JSON-RPC session this adapter uses (for set-up tools and tests that speak to the same server).</summary>
    public TrytonRpc Rpc => rpc;

    public Task<ErpSalesOrderRef> SubmitSalesOrderAsync(ErpSalesOrder order, CancellationToken cancellationToken = default) =>
        SubmitOneAsync(order, cancellationToken);

    public async Task<IReadOnlyList<ErpBatchResult>> SubmitSalesOrdersAsync(IReadOnlyList<ErpSalesOrder> orders, CancellationToken cancellationToken = default)
    {
        var distinct = orders.DistinctBy(o => o.ExternalDocumentNumber).ToList();
        var results = new Dictionary<string, ErpBatchResult>(StringComparer.Ordinal);
        foreach (var chunk in distinct.Where(_ => distinct.Count > 1).Chunk(BatchLimit))
        {
            try
            {
                // The whole chunk in a handful of calls: find, create the missing, quote, confirm, process, read.
                // Tryton runs each call in one transaction, so one refusal (a credit limit, an unknown product)
                // rolls that step back for all; then each order goes its own way below and gets its own answer.
                foreach (var sale in await AdvanceAllAsync(chunk, cancellationToken))
                {
                    results[sale.ExternalDocumentNumber] = new(sale.ExternalDocumentNumber, sale, null);
                }
            }
            catch (ConnectorException ex) when (ex.Kind != FailureKind.Transient)
            {
                // Left to the one-by-one path below.
            }
        }

        foreach (var order in distinct.Where(o => !results.ContainsKey(o.ExternalDocumentNumber)))
        {
            try
            {
                results[order.ExternalDocumentNumber] = new(order.ExternalDocumentNumber, await SubmitOneAsync(order, cancellationToken), null);
            }
            catch (ConnectorException ex) when (ex.Kind != FailureKind.Transient)
            {
                results[order.ExternalDocumentNumber] = new(order.ExternalDocumentNumber, null, ex);
            }
        }

        return [.. orders.Select(o => results[o.ExternalDocumentNumber])];
    }

    private async Task<ErpSalesOrderRef> SubmitOneAsync(ErpSalesOrder order, CancellationToken cancellationToken)
    {
        var reference = order.ExternalDocumentNumber;
        // The party is looked up alongside (needed only when the sale is new): one round trip less per order.
        var existing = SalesByReferenceAsync([reference], cancellationToken);
        var parties = PartiesByCodeAsync([order.CustomerNumber], cancellationToken);
        await Task.WhenAll(existing, parties);
        var sale = existing.Result.TryGetValue(reference, out var found)
            ? found
            : (await CreateSalesAsync([order], parties.Result, cancellationToken))[reference];
        return await AdvanceAsync(sale, cancellationToken);
    }

    private async Task<IReadOnlyList<ErpSalesOrderRef>> AdvanceAllAsync(IReadOnlyList<ErpSalesOrder> orders, CancellationToken cancellationToken)
    {
        var references = orders.Select(o => o.ExternalDocumentNumber).ToList();
        var sales = await SalesByReferenceAsync(references, cancellationToken);
        var missing = orders.Where(o => !sales.ContainsKey(o.ExternalDocumentNumber)).ToList();
        if (missing.Count > 0)
        {
            var parties = await PartiesByCodeAsync([.. missing.Select(o => o.CustomerNumber).Distinct()], cancellationToken);
            foreach (var (reference, sale) in await CreateSalesAsync(missing, parties, cancellationToken))
            {
                sales[reference] = sale;
            }
        }

        // Each step takes every sale that is at it or before it; one read at the end.
        var drafts = Ids(sales.Values, "draft");
        long[] quotations = [.. drafts, .. Ids(sales.Values, "quotation")];
        long[] confirmed = [.. quotations, .. Ids(sales.Values, "confirmed")];
        if (drafts.Length > 0)
        {
            await rpc.ButtonAsync("sale.sale", "quote", drafts, cancellationToken);
        }

        if (quotations.Length > 0)
        {
            await rpc.ButtonAsync("sale.sale", "confirm", quotations, cancellationToken);
        }

        if (confirmed.Length > 0)
        {
            await rpc.ButtonAsync("sale.sale", "process", confirmed, cancellationToken);
            sales = await SalesByReferenceAsync(references, cancellationToken);
        }

        return [.. references.Select(r => ToSaleRef(sales[r], null))];
    }

    /// <summary>Takes one sale from whatever state a crash or an earlier refusal left it in to processing.</summary>
    private async Task<ErpSalesOrderRef> AdvanceAsync(JsonObject sale, CancellationToken cancellationToken)
    {
        var state = State(sale);
        if (state is not ("draft" or "quotation" or "confirmed"))
        {
            return ToSaleRef(sale, null);
        }

        long[] id = [Id(sale)];
        if (state == "draft")
        {
            await rpc.ButtonAsync("sale.sale", "quote", id, cancellationToken);
        }

        if (state is "draft" or "quotation")
        {
            try
            {
                await rpc.ButtonAsync("sale.sale", "confirm", id, cancellationToken);
            }
            catch (ConnectorException ex) when (ex.VendorCode == "UserWarning")
            {
                // Over the credit limit (or another warning a person must accept in Tryton): the sale waits in
                // quotation; the order is on hold with Tryton's reason, not failed.
                return ToSaleRef((await SalesByReferenceAsync([sale["reference"]!.GetValue<string>()], cancellationToken)).First().Value, ex.VendorMessage);
            }
        }

        // Confirming queues processing after the commit, where a failure is only logged: process explicitly so it surfaces here.
        await rpc.ButtonAsync("sale.sale", "process", id, cancellationToken);
        var reference = sale["reference"]!.GetValue<string>();
        return ToSaleRef((await SalesByReferenceAsync([reference], cancellationToken))[reference], null);
    }

    private static long[] Ids(IEnumerable<JsonObject> sales, string state) => [.. sales.Where(s => State(s) == state).Select(Id)];

    /// <summary>
    /// Creates the sales and returns, per reference, the sale that stands: the oldest one (a newer duplicate we
    /// made in a race with another submission is deleted).
    /// </summary>
    private async Task<Dictionary<string, JsonObject>> CreateSalesAsync(IReadOnlyList<ErpSalesOrder> orders, Dictionary<string, Party> parties,
        CancellationToken cancellationToken)
    {
        var values = new List<JsonObject>();
        foreach (var order in orders)
        {
            if (!parties.TryGetValue(order.CustomerNumber, out var party))
            {
                throw new ConnectorException(SystemName, FailureKind.Permanent, "UserError", $"no party with code {order.CustomerNumber} for sale {order.ExternalDocumentNumber}");
            }

            values.Add(await SaleValuesAsync(order, party, cancellationToken));
        }

        var ids = await rpc.CreateAsync("sale.sale", values, cancellationToken);
        var winners = await SalesByReferenceAsync([.. orders.Select(o => o.ExternalDocumentNumber)], cancellationToken);
        var lost = ids.Where(id => !winners.Values.Any(w => Id(w) == id)).ToList();
        if (lost.Count > 0)
        {
            // Another submission of the same order created its sale first (concurrent retries, two silos).
            await rpc.ModelAsync("sale.sale", "delete", [TrytonRpc.Ids(lost)], null, cancellationToken);
        }

        return winners;
    }

    private async Task<JsonObject> SaleValuesAsync(ErpSalesOrder order, Party party, CancellationToken cancellationToken)
    {
        var lines = new JsonArray();
        foreach (var line in order.Lines)
        {
            var product = await ProductAsync(line.Sku, cancellationToken);
            lines.Add(new JsonObject
            {
                ["type"] = "line", ["product"] = product.Id, ["unit"] = product.Unit, ["description"] = line.Sku,
                ["quantity"] = (double)line.Quantity, ["unit_price"] = TrytonRpc.Decimal(line.UnitPrice),
            });
        }

        var values = new JsonObject
        {
            ["company"] = await CompanyAsync(cancellationToken), ["party"] = party.Id, ["currency"] = await CurrencyAsync(order.Currency, cancellationToken),
            ["warehouse"] = await WarehouseAsync(cancellationToken), ["reference"] = order.ExternalDocumentNumber,
            ["sale_date"] = TrytonRpc.Date(order.OrderDate), ["lines"] = new JsonArray(new JsonArray("create", lines)),
        };
        if (party.Address is { } address)
        {
            values["invoice_address"] = address;
            values["shipment_address"] = address;
        }

        return values;
    }

    public async Task<ErpSalesOrderRef?> FindSalesOrderAsync(string externalDocumentNumber, CancellationToken cancellationToken = default) =>
        (await SalesByReferenceAsync([externalDocumentNumber], cancellationToken)).TryGetValue(externalDocumentNumber, out var sale) ? ToSaleRef(sale, null) : null;

    public async Task<ErpSalesOrderRef> UpdateSalesOrderAsync(string externalDocumentNumber, Func<ErpSalesOrderRef, JsonObject?> decide, CancellationToken cancellationToken = default)
    {
        for (var attempt = 0; ; attempt++)
        {
            var current = await FindSalesOrderAsync(externalDocumentNumber, cancellationToken)
                ?? throw new ConnectorException(SystemName, FailureKind.Permanent, "UserError", $"no sale with reference {externalDocumentNumber}");
            if (decide(current) is not { } changes)
            {
                return current;
            }

            try
            {
                var id = long.Parse(current.Id, System.Globalization.CultureInfo.InvariantCulture);
                await rpc.WriteAsync("sale.sale", [id], changes, new Dictionary<long, string> { [id] = current.ETag }, cancellationToken);
                return (await FindSalesOrderAsync(externalDocumentNumber, cancellationToken))!;
            }
            catch (ConnectorException ex) when (ex.Kind == FailureKind.Conflict && attempt < ConflictRetries)
            {
                // "Records were modified in the meanwhile": decide again on what Tryton holds now.
            }
        }
    }

    public async Task<bool> CancelSalesOrderAsync(string externalDocumentNumber, CancellationToken cancellationToken = default)
    {
        if (!(await SalesByReferenceAsync([externalDocumentNumber], cancellationToken)).TryGetValue(externalDocumentNumber, out var sale))
        {
            return false;
        }

        switch (State(sale))
        {
            case "cancelled":
                return true;
            case "draft" or "quotation":
                await rpc.ButtonAsync("sale.sale", "cancel", [Id(sale)], cancellationToken);
                return true;
            default:
                // Tryton cancels only sales not yet confirmed; a confirmed one has a shipment and an invoice
                // that a person must cancel (or ship) in Tryton.
                throw new ConnectorException(SystemName, FailureKind.Permanent, "UserError",
                    $"sale {sale["number"]} is {State(sale)}: Tryton cancels draft or quotation sales only; cancel its shipment and invoice in Tryton");
        }
    }

    public async Task<decimal?> GetInventoryAsync(string sku, CancellationToken cancellationToken = default) =>
        (await GetStockAsync(sku, cancellationToken))?.Quantity;

    /// <summary>On hand (<c>quantity</c>) and expected (<c>forecast_quantity</c>, after planned moves) in the warehouse.</summary>
    public async Task<TrytonStock?> GetStockAsync(string sku, CancellationToken cancellationToken = default)
    {
        var found = await rpc.SearchReadAsync("product.product", [new JsonArray("code", "=", sku)], ["id", "quantity", "forecast_quantity"], 1,
            context: new JsonObject { ["locations"] = new JsonArray(await WarehouseAsync(cancellationToken)) }, cancellationToken: cancellationToken);
        return found.FirstOrDefault() is JsonObject p
            ? new TrytonStock(sku, TrytonRpc.ToDecimal(p["quantity"]), TrytonRpc.ToDecimal(p["forecast_quantity"]))
            : null;
    }

    private async Task<Dictionary<string, JsonObject>> SalesByReferenceAsync(IReadOnlyList<string> references, CancellationToken cancellationToken)
    {
        var found = await rpc.SearchReadAsync("sale.sale", [new JsonArray("reference", "in", new JsonArray([.. references.Select(r => (JsonNode)r)]))],
            SaleFields, order: "id", cancellationToken: cancellationToken);
        var byReference = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var sale in found.OfType<JsonObject>())
        {
            // Ordered by id: the first of a reference is the oldest, the one every submitter keeps.
            byReference.TryAdd(sale["reference"]!.GetValue<string>(), sale);
        }

        return byReference;
    }

    private static long Id(JsonObject record) => record["id"]!.GetValue<long>();

    private static string State(JsonObject sale) => sale["state"]!.GetValue<string>();

    private static ErpSalesOrderRef ToSaleRef(JsonObject sale, string? holdReason)
    {
        var raw = (JsonObject)sale.DeepClone();
        return new(Id(sale).ToString(System.Globalization.CultureInfo.InvariantCulture), sale["number"]?.GetValue<string>() ?? $"draft-{Id(sale)}",
            sale["reference"]!.GetValue<string>(), holdReason is null ? State(sale) : ErpStatuses.OnHold, TrytonRpc.ToDecimal(sale["total_amount"]),
            sale["_timestamp"]?.GetValue<string>() ?? "", raw, holdReason);
    }

    private async Task<Product> ProductAsync(string sku, CancellationToken cancellationToken)
    {
        if (products.TryGetValue(sku, out var cached))
        {
            return cached;
        }

        var found = await rpc.SearchReadAsync("product.product", [new JsonArray("code", "=", sku)], ["id", "sale_uom", "default_uom", "account_category"], 1,
            cancellationToken: cancellationToken);
        if (found.FirstOrDefault() is not JsonObject p)
        {
            throw new ConnectorException(SystemName, FailureKind.Permanent, "UserError", $"no product with code {sku}");
        }

        long? revenue = null;
        if (p["account_category"]?.GetValue<long?>() is { } category)
        {
            var read = await rpc.ModelAsync("product.category", "read", [new JsonArray(category), new JsonArray("account_revenue")], null, cancellationToken);
            revenue = read?[0]?["account_revenue"]?.GetValue<long?>();
        }

        var product = new Product(Id(p), (p["sale_uom"] ?? p["default_uom"])!.GetValue<long>(), revenue);
        products[sku] = product;
        return product;
    }

    private async Task<long> CompanyAsync(CancellationToken cancellationToken) =>
        (await rpc.ContextAsync(cancellationToken))["company"]?.GetValue<long?>()
            ?? throw new ConnectorException(SystemName, FailureKind.Permanent, "UserError", $"user {options.CurrentValue.Tryton.User} has no company in Tryton");

    private async Task<string> CompanyCurrencyCodeAsync(CancellationToken cancellationToken)
    {
        var company = await rpc.ModelAsync("company.company", "read", [new JsonArray(await CompanyAsync(cancellationToken)), new JsonArray("currency")], null, cancellationToken);
        var currency = await rpc.ModelAsync("currency.currency", "read", [new JsonArray(company![0]!["currency"]!.GetValue<long>()), new JsonArray("code")], null, cancellationToken);
        return currency![0]!["code"]!.GetValue<string>();
    }

    private async Task<long> CurrencyAsync(string code, CancellationToken cancellationToken)
    {
        if (currencies.TryGetValue(code, out var id))
        {
            return id;
        }

        var found = await rpc.SearchReadAsync("currency.currency", [new JsonArray("code", "=", code.ToUpperInvariant())], ["id"], 1, cancellationToken: cancellationToken);
        id = found.FirstOrDefault() is JsonObject c ? Id(c)
            : throw new ConnectorException(SystemName, FailureKind.Permanent, "UserError", $"Tryton has no currency {code}");
        currencies[code] = id;
        return id;
    }

    private async Task<long> WarehouseAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref warehouse) is var cached and > 0)
        {
            return cached;
        }

        var code = options.CurrentValue.Tryton.WarehouseCode;
        var found = await rpc.SearchReadAsync("stock.location", [new JsonArray("type", "=", "warehouse"), new JsonArray("code", "=", code)], ["id"], 1,
            cancellationToken: cancellationToken);
        var id = found.FirstOrDefault() is JsonObject w ? Id(w)
            : throw new ConnectorException(SystemName, FailureKind.Permanent, "UserError", $"Tryton has no warehouse with code {code}");
        Volatile.Write(ref warehouse, id);
        return id;
    }

    private async Task<long> JournalAsync(CancellationToken cancellationToken) =>
        (await rpc.SearchReadAsync("account.journal", [new JsonArray("type", "=", "revenue")], ["id"], 1, "id", cancellationToken: cancellationToken))
            .FirstOrDefault() is JsonObject j ? Id(j) : throw new ConnectorException(SystemName, FailureKind.Permanent, "UserError", "Tryton has no revenue journal");

    private async Task<long> ReceivableAsync(Party party, CancellationToken cancellationToken)
    {
        var read = await rpc.ModelAsync("party.party", "read", [new JsonArray(party.Id), new JsonArray("account_receivable")], null, cancellationToken);
        if (read?[0]?["account_receivable"]?.GetValue<long?>() is { } own)
        {
            return own;
        }

        var configuration = await rpc.ModelAsync("account.configuration", "read", [new JsonArray(1), new JsonArray("default_account_receivable")], null, cancellationToken);
        return configuration?[0]?["default_account_receivable"]?.GetValue<long?>()
            ?? throw new ConnectorException(SystemName, FailureKind.Permanent, "UserError", "Tryton has no default receivable account (run the chart of accounts wizard)");
    }
}

public sealed record TrytonStock(string Sku, decimal Quantity, decimal ForecastQuantity);
