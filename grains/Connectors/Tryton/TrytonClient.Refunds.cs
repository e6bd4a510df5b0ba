using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace RetailSync.Connectors.Tryton;

/// <summary>Credit memos (credit notes with their restock) and what a refund left in Tryton.</summary>
public sealed partial class TrytonClient
{
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
}
