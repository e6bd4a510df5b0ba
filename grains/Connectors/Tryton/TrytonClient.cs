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
public sealed class TrytonClient(HttpClient http, IOptionsMonitor<ConnectorOptions> options) : IErp
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
    private long warehouse;

    private sealed record Product(long Id, long Unit, long? RevenueAccount);

    private sealed record Party(long Id, string Code, decimal? CreditLimit, long? Address, JsonObject Raw);

    /// <summary>The JSON-RPC session this adapter uses (for set-up tools and tests that speak to the same server).</summary>
    public TrytonRpc Rpc => rpc;

    public async Task<ErpCustomerRef> UpsertCustomerAsync(ErpCustomer customer, CancellationToken cancellationToken = default) =>
        (await UpsertCustomersAsync([customer], cancellationToken))[0] switch
        {
            { Customer: { } found } => found,
            { Error: { } error } => throw error,
            _ => throw new InvalidOperationException("no result"),
        };

    public async Task<IReadOnlyList<ErpCustomerResult>> UpsertCustomersAsync(IReadOnlyList<ErpCustomer> customers, CancellationToken cancellationToken = default)
    {
        var distinct = customers.DistinctBy(c => c.Number).ToList();
        var results = new Dictionary<string, ErpCustomerResult>(StringComparer.Ordinal);
        var known = await PartiesByCodeAsync([.. distinct.Select(c => c.Number)], cancellationToken);
        var missing = new List<ErpCustomer>();
        foreach (var customer in distinct)
        {
            if (!known.TryGetValue(customer.Number, out var party))
            {
                missing.Add(customer);
                continue;
            }

            results[customer.Number] = await Catch(customer, () => UpdatePartyAsync(party, customer, cancellationToken));
        }

        // Not known by our id: the same person may be in the ERP already (entered by hand, or a guest before
        // we had an id for them). Found by email, the party takes our id as its code; else it is created. A
        // party that carries another golden id is someone else sharing the inbox (a family's address): never taken.
        var toCreate = new List<ErpCustomer>();
        foreach (var customer in missing)
        {
            var byEmail = string.IsNullOrEmpty(customer.Email) ? null : await FindPartyByEmailAsync(customer.Email, adoptableOnly: true, cancellationToken);
            if (byEmail is null)
            {
                toCreate.Add(customer);
                continue;
            }

            results[customer.Number] = await Catch(customer, async () =>
            {
                await rpc.WriteAsync("party.party", [byEmail.Id], new JsonObject { ["code"] = customer.Number }, Timestamp(byEmail), cancellationToken);
                return await UpdatePartyAsync((await PartiesByCodeAsync([customer.Number], cancellationToken))[customer.Number], customer, cancellationToken);
            });
        }

        if (toCreate.Count > 0)
        {
            try
            {
                // One call creates them all; if Tryton refuses one (an invalid phone number), each is tried alone for its own answer.
                await rpc.CreateAsync("party.party", toCreate.Select(PartyValues), cancellationToken);
                var created = await PartiesByCodeAsync([.. toCreate.Select(c => c.Number)], cancellationToken);
                foreach (var customer in toCreate)
                {
                    results[customer.Number] = new(customer.Number, ToRef(created[customer.Number]), null);
                }
            }
            catch (ConnectorException ex) when (ex.Kind != FailureKind.Transient && toCreate.Count > 1)
            {
                foreach (var customer in toCreate)
                {
                    results[customer.Number] = await Catch(customer, async () =>
                    {
                        await rpc.CreateAsync("party.party", [PartyValues(customer)], cancellationToken);
                        return ToRef((await PartiesByCodeAsync([customer.Number], cancellationToken))[customer.Number]);
                    });
                }
            }
            catch (ConnectorException ex) when (ex.Kind != FailureKind.Transient)
            {
                results[toCreate[0].Number] = new(toCreate[0].Number, null, ex);
            }
        }

        return [.. customers.Select(c => results[c.Number])];

        static async Task<ErpCustomerResult> Catch(ErpCustomer customer, Func<Task<ErpCustomerRef>> run)
        {
            try
            {
                return new(customer.Number, await run(), null);
            }
            catch (ConnectorException ex) when (ex.Kind != FailureKind.Transient)
            {
                return new(customer.Number, null, ex);
            }
        }
    }

    /// <summary>The party whose code is our customer number, or null.</summary>
    public async Task<ErpCustomerRef?> FindCustomerAsync(string number, CancellationToken cancellationToken = default) =>
        (await PartiesByCodeAsync([number], cancellationToken)).TryGetValue(number, out var party) ? ToRef(party) : null;

    /// <summary>The party that has this email among its contact mechanisms, or null.</summary>
    public async Task<ErpCustomerRef?> FindCustomerByEmailAsync(string email, CancellationToken cancellationToken = default) =>
        await FindPartyByEmailAsync(email, adoptableOnly: false, cancellationToken) is { } party ? ToRef(party) : null;

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

    /// <summary>
    /// A customer credit note: an out invoice with negative quantities, keyed by its reference, then posted.
    /// Returns the posted number (or, when posting is refused, the error: the draft is found and posted on retry).
    /// </summary>
    public async Task<string> CreateCreditMemoAsync(ErpCreditMemo memo, CancellationToken cancellationToken = default)
    {
        var existing = await CreditNoteAsync(memo.ExternalDocumentNumber, cancellationToken);
        if (existing is null)
        {
            var party = (await PartiesByCodeAsync([memo.CustomerNumber], cancellationToken)).GetValueOrDefault(memo.CustomerNumber)
                ?? throw new ConnectorException(SystemName, FailureKind.Permanent, "UserError", $"no party with code {memo.CustomerNumber} for credit note {memo.ExternalDocumentNumber}");
            var lines = new JsonArray();
            foreach (var line in memo.Lines)
            {
                var product = await ProductAsync(line.Sku, cancellationToken);
                lines.Add(new JsonObject
                {
                    ["type"] = "line", ["product"] = product.Id, ["unit"] = product.Unit, ["description"] = line.Sku,
                    ["quantity"] = -(double)line.Quantity, ["unit_price"] = TrytonRpc.Decimal(line.UnitPrice),
                    ["account"] = product.RevenueAccount ?? throw new ConnectorException(SystemName, FailureKind.Permanent, "UserError", $"product {line.Sku} has no revenue account"),
                });
            }

            var values = new JsonObject
            {
                ["type"] = "out", ["company"] = await CompanyAsync(cancellationToken), ["party"] = party.Id, ["currency"] = await CurrencyAsync(await CompanyCurrencyCodeAsync(cancellationToken), cancellationToken),
                ["journal"] = await JournalAsync(cancellationToken), ["account"] = await ReceivableAsync(party, cancellationToken),
                ["reference"] = memo.ExternalDocumentNumber, ["invoice_date"] = TrytonRpc.Date(memo.Date), ["lines"] = new JsonArray(new JsonArray("create", lines)),
            };
            if (party.Address is { } address)
            {
                values["invoice_address"] = address;
            }

            await rpc.CreateAsync("account.invoice", [values], cancellationToken);
            existing = (await CreditNoteAsync(memo.ExternalDocumentNumber, cancellationToken))!;
        }

        if (existing["state"]!.GetValue<string>() == "draft")
        {
            await rpc.ButtonAsync("account.invoice", "post", [Id(existing)], cancellationToken);
            existing = (await CreditNoteAsync(memo.ExternalDocumentNumber, cancellationToken))!;
        }

        if (memo.Lines.Any(l => l.Restock))
        {
            await RestockAsync(memo, cancellationToken);
        }

        return existing["number"]?.GetValue<string>() ?? existing["id"]!.ToString();
    }

    /// <summary>
    /// Goods taken back come into the warehouse through a customer return shipment (received, then done),
    /// keyed by the memo's reference so a retry finishes the same one. Written-off goods get none.
    /// </summary>
    private async Task RestockAsync(ErpCreditMemo memo, CancellationToken cancellationToken)
    {
        var shipment = await ReturnShipmentAsync(memo.ExternalDocumentNumber, cancellationToken);
        if (shipment is null)
        {
            var party = (await PartiesByCodeAsync([memo.CustomerNumber], cancellationToken))[memo.CustomerNumber];
            var warehouse = (await rpc.ModelAsync("stock.location", "read", [new JsonArray(await WarehouseAsync(cancellationToken)), new JsonArray("input_location")], null, cancellationToken))![0]!;
            var customerLocation = (await rpc.SearchReadAsync("stock.location", [new JsonArray("type", "=", "customer")], ["id"], 1, "id", cancellationToken: cancellationToken))[0]!["id"]!.GetValue<long>();
            var company = await CompanyAsync(cancellationToken);
            var currency = await CurrencyAsync(await CompanyCurrencyCodeAsync(cancellationToken), cancellationToken);
            var moves = new JsonArray();
            foreach (var line in memo.Lines.Where(l => l.Restock))
            {
                var product = await ProductAsync(line.Sku, cancellationToken);
                moves.Add(new JsonObject
                {
                    ["product"] = product.Id, ["uom"] = product.Unit, ["quantity"] = (double)line.Quantity, ["company"] = company,
                    ["from_location"] = customerLocation, ["to_location"] = warehouse["input_location"]!.GetValue<long>(),
                    ["unit_price"] = TrytonRpc.Decimal(line.UnitPrice), ["currency"] = currency,
                });
            }

            var values = new JsonObject
            {
                ["customer"] = party.Id, ["warehouse"] = await WarehouseAsync(cancellationToken), ["company"] = company,
                ["reference"] = memo.ExternalDocumentNumber, ["incoming_moves"] = new JsonArray(new JsonArray("create", moves)),
            };
            if (party.Address is { } address)
            {
                values["delivery_address"] = address;
            }

            await rpc.CreateAsync("stock.shipment.out.return", [values], cancellationToken);
            shipment = (await ReturnShipmentAsync(memo.ExternalDocumentNumber, cancellationToken))!;
        }

        if (shipment["state"]!.GetValue<string>() == "draft")
        {
            await AcceptingWarningsAsync("stock.shipment.out.return", "receive", Id(shipment), cancellationToken);
        }

        if (shipment["state"]!.GetValue<string>() is "draft" or "received")
        {
            await AcceptingWarningsAsync("stock.shipment.out.return", "done", Id(shipment), cancellationToken);
        }
    }

    /// <summary>
    /// Runs a button, accepting the warnings Tryton raises on the way that this flow expects (a return's
    /// moves have no sale origin: the refund is their origin): each is recorded once for our user, as a
    /// person clicking "yes" would, and the button runs again.
    /// </summary>
    private async Task AcceptingWarningsAsync(string model, string button, long id, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await rpc.ButtonAsync(model, button, [id], cancellationToken);
                return;
            }
            catch (ConnectorException ex) when (ex.VendorCode == "UserWarning" && attempt < 3 && ex.Data[TrytonRpc.WarningName] is string name && name.Length > 0)
            {
                await rpc.CreateAsync("res.user.warning", [new JsonObject { ["user"] = await rpc.UserIdAsync(cancellationToken), ["name"] = name, ["always"] = false }], cancellationToken);
            }
        }
    }

    /// <summary>The customer return shipment with this reference (the oldest one), with its state.</summary>
    public async Task<JsonObject?> ReturnShipmentAsync(string reference, CancellationToken cancellationToken = default) =>
        (await rpc.SearchReadAsync("stock.shipment.out.return", [new JsonArray("reference", "=", reference)], ["id", "state", "reference"], 1, "id",
            cancellationToken: cancellationToken)).FirstOrDefault()?.AsObject();

    /// <summary>The credit note with this reference (the oldest one), with state, number and total.</summary>
    public async Task<JsonObject?> CreditNoteAsync(string reference, CancellationToken cancellationToken = default) =>
        (await rpc.SearchReadAsync("account.invoice", [new JsonArray("reference", "=", reference), new JsonArray("type", "=", "out")],
            ["id", "number", "state", "total_amount", "reference"], 1, "id", cancellationToken: cancellationToken)).FirstOrDefault()?.AsObject();

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

    private async Task<Dictionary<string, Party>> PartiesByCodeAsync(IReadOnlyList<string> codes, CancellationToken cancellationToken)
    {
        var found = await rpc.SearchReadAsync("party.party", [new JsonArray("code", "in", new JsonArray([.. codes.Select(c => (JsonNode)c)]))], PartyFields,
            cancellationToken: cancellationToken);
        return found.OfType<JsonObject>().Select(ToParty).ToDictionary(p => p.Code, StringComparer.Ordinal);
    }

    /// <param name="adoptableOnly">Skip parties that carry a golden id: they are another customer of ours.</param>
    private async Task<Party?> FindPartyByEmailAsync(string email, bool adoptableOnly, CancellationToken cancellationToken)
    {
        // party.email is not searchable; the contact mechanism is.
        var found = await rpc.SearchReadAsync("party.party", [new JsonArray("contact_mechanisms.value", "=", email.Trim())], PartyFields, 10, "id",
            cancellationToken: cancellationToken);
        return found.OfType<JsonObject>().Select(ToParty).FirstOrDefault(p => !adoptableOnly || !RetailSync.Customers.GoldenIds.IsGolden(p.Code));
    }

    private async Task<ErpCustomerRef> UpdatePartyAsync(Party party, ErpCustomer customer, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var mechanisms = await rpc.SearchReadAsync("party.contact_mechanism", [new JsonArray("party", "=", party.Id)], ["type", "value"], cancellationToken: cancellationToken);
            var values = new JsonObject();
            if (party.Raw["name"]?.GetValue<string>() != customer.DisplayName)
            {
                values["name"] = customer.DisplayName;
            }

            var add = Mechanisms(customer).Where(m => !mechanisms.OfType<JsonObject>().Any(e => e["value"]?.GetValue<string>() == m["value"]!.GetValue<string>())).ToList();
            if (add.Count > 0)
            {
                values["contact_mechanisms"] = new JsonArray(new JsonArray("create", new JsonArray([.. add])));
            }

            if (party.Address is null && Address(customer) is { } address)
            {
                values["addresses"] = new JsonArray(new JsonArray("create", new JsonArray(address)));
            }

            if (values.Count == 0)
            {
                return ToRef(party);
            }

            try
            {
                await rpc.WriteAsync("party.party", [party.Id], values, Timestamp(party), cancellationToken);
                return ToRef((await PartiesByCodeAsync([party.Code], cancellationToken))[party.Code]);
            }
            catch (ConnectorException ex) when (ex.Kind == FailureKind.Conflict && attempt < ConflictRetries)
            {
                party = (await PartiesByCodeAsync([party.Code], cancellationToken))[party.Code];
            }
        }
    }

    private static JsonObject PartyValues(ErpCustomer customer)
    {
        var values = new JsonObject { ["code"] = customer.Number, ["name"] = customer.DisplayName };
        if (Mechanisms(customer).ToList() is { Count: > 0 } mechanisms)
        {
            values["contact_mechanisms"] = new JsonArray(new JsonArray("create", new JsonArray([.. mechanisms])));
        }

        values["addresses"] = new JsonArray(new JsonArray("create", new JsonArray(Address(customer) ?? new JsonObject())));
        return values;
    }

    private static IEnumerable<JsonObject> Mechanisms(ErpCustomer customer)
    {
        if (!string.IsNullOrWhiteSpace(customer.Email))
        {
            yield return new JsonObject { ["type"] = "email", ["value"] = customer.Email.Trim() };
        }

        if (!string.IsNullOrWhiteSpace(customer.Phone))
        {
            yield return new JsonObject { ["type"] = "phone", ["value"] = customer.Phone.Trim() };
        }
    }

    private static JsonObject? Address(ErpCustomer customer) =>
        customer.AddressLine1 is null && customer.City is null && customer.PostalCode is null
            ? null
            : new JsonObject { ["street"] = customer.AddressLine1, ["city"] = customer.City, ["postal_code"] = customer.PostalCode };

    private static Party ToParty(JsonObject p) => new(
        p["id"]!.GetValue<long>(), p["code"]!.GetValue<string>(),
        p["credit_limit_amount"] is { } limit ? TrytonRpc.ToDecimal(limit) : null,
        p["addresses"] is JsonArray { Count: > 0 } addresses ? addresses.Min(a => a!.GetValue<long>()) : null, p);

    private static ErpCustomerRef ToRef(Party party) => new(party.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), party.Code, party.CreditLimit ?? 0, " ");

    private static Dictionary<long, string> Timestamp(Party party) => new() { [party.Id] = party.Raw["_timestamp"]!.GetValue<string>() };

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
