using System.Text.Json.Nodes;
using RetailSync.Connectors.Tryton;

namespace RetailSync.Silo.Erp;

/// <summary>
/// The master data a Tryton database needs before it takes a sale and posts a credit note, created over
/// JSON-RPC as an administrator would: currencies, the company, a chart of accounts with default
/// receivable/payable, fiscal years with invoice sequences, a product category with accounts, products
/// and their opening stock. Run once on a fresh database.
/// </summary>
public static class TrytonSetup
{
    public static async Task PrepareAsync(TrytonRpc rpc, IReadOnlyList<TrytonProduct> products, CancellationToken cancellationToken = default)
    {
        var currencies = await rpc.CreateAsync("currency.currency", [
            new JsonObject { ["name"] = "U.S. Dollar", ["code"] = "USD", ["symbol"] = "$", ["rounding"] = TrytonRpc.Decimal(0.01m), ["digits"] = 2 },
            new JsonObject { ["name"] = "Euro", ["code"] = "EUR", ["symbol"] = "€", ["rounding"] = TrytonRpc.Decimal(0.01m), ["digits"] = 2 },
            new JsonObject { ["name"] = "Canadian Dollar", ["code"] = "CAD", ["symbol"] = "$", ["rounding"] = TrytonRpc.Decimal(0.01m), ["digits"] = 2 },
        ], cancellationToken);
        var companyParty = (await rpc.CreateAsync("party.party", [new JsonObject { ["name"] = "RetailSync Demo Retail", ["code"] = "COMPANY" }], cancellationToken))[0];
        var company = (await rpc.CreateAsync("company.company", [new JsonObject { ["party"] = companyParty, ["currency"] = currencies[0] }], cancellationToken))[0];
        var user = (await rpc.ContextAsync(cancellationToken))["user"]?.GetValue<long?>()
            ?? (await rpc.SearchReadAsync("res.user", [new JsonArray("login", "=", "admin")], ["id"], 1, cancellationToken: cancellationToken))[0]!["id"]!.GetValue<long>();
        await rpc.WriteAsync("res.user", [user], new JsonObject { ["companies"] = new JsonArray(new JsonArray("add", new JsonArray(company))), ["company"] = company },
            cancellationToken: cancellationToken);
        rpc.Reset();

        // Chart of accounts from the minimal English template, then its default receivable and payable.
        var template = await ModelDataAsync(rpc, "account", "account_template_root_en", cancellationToken);
        await rpc.WizardAsync("account.create_chart", [("create_account", new JsonObject { ["account"] = new JsonObject { ["company"] = company, ["account_template"] = template } })],
            cancellationToken);
        var receivable = await AccountAsync(rpc, company, "type.receivable", cancellationToken);
        var payable = await AccountAsync(rpc, company, "type.payable", cancellationToken);
        await rpc.WizardAsync("account.create_chart", [("create_properties", new JsonObject
        {
            ["properties"] = new JsonObject { ["company"] = company, ["account_receivable"] = receivable, ["account_payable"] = payable },
        })], cancellationToken);

        // Fiscal years (with their own move and invoice sequences) so credit notes can be posted.
        var moveType = await ModelDataAsync(rpc, "account", "sequence_type_account_move", cancellationToken);
        var invoiceType = await ModelDataAsync(rpc, "account_invoice", "sequence_type_account_invoice", cancellationToken);
        for (var year = DateTime.UtcNow.Year - 1; year <= DateTime.UtcNow.Year + 1; year++)
        {
            var move = (await rpc.CreateAsync("ir.sequence", [new JsonObject { ["name"] = $"Moves {year}", ["sequence_type"] = moveType, ["company"] = company }], cancellationToken))[0];
            var strict = await rpc.CreateAsync("ir.sequence.strict", [.. Enumerable.Range(0, 4).Select(i => new JsonObject
            {
                ["name"] = $"Invoices {year} {i}", ["sequence_type"] = invoiceType, ["company"] = company, ["prefix"] = new[] { "INV", "CN", "SINV", "SCN" }[i] + $"{year}-",
            })], cancellationToken);
            var fiscalYear = (await rpc.CreateAsync("account.fiscalyear", [new JsonObject
            {
                ["name"] = year.ToString(System.Globalization.CultureInfo.InvariantCulture), ["company"] = company,
                ["start_date"] = TrytonRpc.Date(new DateOnly(year, 1, 1)), ["end_date"] = TrytonRpc.Date(new DateOnly(year, 12, 31)),
                ["post_move_sequence"] = move,
                ["invoice_sequences"] = new JsonArray(new JsonArray("create", new JsonArray(new JsonObject
                {
                    ["company"] = company, ["out_invoice_sequence"] = strict[0], ["out_credit_note_sequence"] = strict[1],
                    ["in_invoice_sequence"] = strict[2], ["in_credit_note_sequence"] = strict[3],
                }))),
            }], cancellationToken))[0];
            await rpc.ButtonAsync("account.fiscalyear", "create_period", [fiscalYear], cancellationToken);
        }

        var category = (await rpc.CreateAsync("product.category", [new JsonObject
        {
            ["name"] = "Retail goods", ["accounting"] = true,
            ["account_revenue"] = await AccountAsync(rpc, company, "type.revenue", cancellationToken),
            ["account_expense"] = await AccountAsync(rpc, company, "type.expense", cancellationToken),
        }], cancellationToken))[0];
        var unit = (await rpc.SearchReadAsync("product.uom", [new JsonArray("symbol", "=", "u")], ["id"], 1, cancellationToken: cancellationToken))[0]!["id"]!.GetValue<long>();
        await rpc.CreateAsync("product.template", products.Select(p => new JsonObject
        {
            ["name"] = p.Sku, ["code"] = p.Sku, ["type"] = "goods", ["default_uom"] = unit, ["sale_uom"] = unit, ["salable"] = true,
            ["list_price"] = TrytonRpc.Decimal(p.Price), ["account_category"] = category,
            ["products"] = new JsonArray(new JsonArray("create", new JsonArray(new JsonObject()))),
        }), cancellationToken);
        foreach (var product in products.Where(p => p.Stock != 0))
        {
            await PutStockAsync(rpc, product.Sku, product.Stock, cancellationToken);
        }
    }

    /// <summary>Books stock into the warehouse (from lost-and-found, as an inventory count would): what a warehouse clerk does.</summary>
    public static async Task PutStockAsync(TrytonRpc rpc, string sku, decimal quantity, CancellationToken cancellationToken = default)
    {
        var product = (await rpc.SearchReadAsync("product.product", [new JsonArray("code", "=", sku)], ["id", "default_uom"], 1, cancellationToken: cancellationToken))[0]!;
        var warehouse = (await rpc.SearchReadAsync("stock.location", [new JsonArray("type", "=", "warehouse")], ["id", "storage_location"], 1, "id",
            cancellationToken: cancellationToken))[0]!;
        var lost = (await rpc.SearchReadAsync("stock.location", [new JsonArray("type", "=", "lost_found")], ["id"], 1, "id", cancellationToken: cancellationToken))[0]!;
        var (from, to) = quantity >= 0 ? (lost["id"]!.GetValue<long>(), warehouse["storage_location"]!.GetValue<long>()) : (warehouse["storage_location"]!.GetValue<long>(), lost["id"]!.GetValue<long>());
        var move = (await rpc.CreateAsync("stock.move", [new JsonObject
        {
            ["product"] = product["id"]!.GetValue<long>(), ["uom"] = product["default_uom"]!.GetValue<long>(), ["quantity"] = (double)Math.Abs(quantity),
            ["from_location"] = from, ["to_location"] = to, ["company"] = (await rpc.ContextAsync(cancellationToken))["company"]!.GetValue<long>(),
            ["planned_date"] = TrytonRpc.Date(DateOnly.FromDateTime(DateTime.UtcNow)),
        }], cancellationToken))[0];
        await rpc.ButtonAsync("stock.move", "do", [move], cancellationToken);
    }

    /// <summary>Sets the party's credit limit (Tryton's sale_credit_limit checks it when a sale is confirmed).</summary>
    public static async Task SetCreditLimitAsync(TrytonRpc rpc, string partyCode, decimal limit, CancellationToken cancellationToken = default)
    {
        var party = (await rpc.SearchReadAsync("party.party", [new JsonArray("code", "=", partyCode)], ["id"], 1, cancellationToken: cancellationToken))[0]!;
        await rpc.WriteAsync("party.party", [party["id"]!.GetValue<long>()], new JsonObject { ["credit_limit_amount"] = TrytonRpc.Decimal(limit) },
            cancellationToken: cancellationToken);
    }

    private static async Task<long> ModelDataAsync(TrytonRpc rpc, string module, string id, CancellationToken cancellationToken) =>
        (await rpc.SearchReadAsync("ir.model.data", [new JsonArray("module", "=", module), new JsonArray("fs_id", "=", id)], ["db_id"], 1,
            cancellationToken: cancellationToken))[0]!["db_id"]!.GetValue<long>();

    private static async Task<long> AccountAsync(TrytonRpc rpc, long company, string type, CancellationToken cancellationToken) =>
        (await rpc.SearchReadAsync("account.account", [new JsonArray(type, "=", true), new JsonArray("company", "=", company), new JsonArray("closed", "!=", true)],
            ["id"], 1, "id", cancellationToken: cancellationToken))[0]!["id"]!.GetValue<long>();
}
