using System.Text.Json;
using System.Text.Json.Nodes;
using RetailSync.Connectors;

namespace RetailSync.Operations;

/// <summary>Runs an <see cref="OutboundCommand"/> against the port it names. Payloads are JSON so commands persist as data.</summary>
public sealed class OutboundExecutor(IShopifyAdmin shopify, ICrm crm, IErp erp)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static OutboundCommand Command<T>(string system, string operation, T payload, string? correlationId = null) =>
        new(system, operation, JsonSerializer.Serialize(payload, Json), correlationId);

    /// <summary>Returns what the vendor answered; throws <see cref="ConnectorException"/> on failure.</summary>
    public async Task<CommandResult> ExecuteAsync(OutboundCommand command, CancellationToken cancellationToken)
    {
        switch ((command.System, command.Operation))
        {
            case ("crm", "upsert"):
            {
                var p = Read<CrmUpsert>(command);
                var result = (await crm.UpsertAsync(p.SObject, p.ExternalIdField, [p.Record], cancellationToken))[0];
                if (!result.Success)
                {
                    // UNABLE_TO_LOCK_ROW is contention, not content: try again later.
                    var kind = result.ErrorCode == "UNABLE_TO_LOCK_ROW" ? FailureKind.Transient : FailureKind.Permanent;
                    throw new ConnectorException("salesforce", kind, result.ErrorCode, result.Message ?? "upsert failed");
                }

                return new($"{p.SObject} {result.Id} {(result.Created ? "created" : "updated")}", result.Id, null);
            }

            case ("crm", "create"):
            {
                var p = Read<CrmCreate>(command);
                var id = await crm.CreateAsync(p.SObject, p.Fields, cancellationToken);
                return new($"{p.SObject} {id} created", id, null);
            }

            case ("erp", "customer"):
            {
                var customer = await erp.UpsertCustomerAsync(Read<ErpCustomer>(command), cancellationToken);
                return new($"customer {customer.Number}", customer.Number, customer.Blocked);
            }

            case ("erp", "salesOrder"):
            {
                var order = await erp.SubmitSalesOrderAsync(Read<ErpSalesOrder>(command), cancellationToken);
                return new($"sales order {order.Number} ({order.Status})", order.Number, order.Status);
            }

            case ("erp", "submitOrder"):
            {
                // The customer first (idempotent by number), then the order (idempotent by external document number).
                var p = Read<ErpOrderSubmission>(command);
                if (p.Order.Lines.Any(l => string.IsNullOrWhiteSpace(l.Sku)))
                {
                    throw new ConnectorException("erp", FailureKind.Permanent, "MISSING_SKU", $"order {p.Order.ExternalDocumentNumber} has lines without a SKU; the ERP books items by SKU");
                }

                await erp.UpsertCustomerAsync(p.Customer, cancellationToken);
                var order = await erp.SubmitSalesOrderAsync(p.Order, cancellationToken);
                return new($"sales order {order.Number} ({order.Status})", order.Number, order.Status);
            }

            case ("erp", "cancelOrder"):
            {
                var number = Read<string>(command);
                var cancelled = await erp.CancelSalesOrderAsync(number, cancellationToken);
                return new(cancelled ? $"sales order {number} cancelled" : $"no sales order {number} to cancel", number, "Cancelled");
            }

            case ("shopify", "syncStatus"):
            {
                var p = Read<ShopifySyncStatus>(command);
                if (p.RemoveTags.Count > 0)
                {
                    await shopify.RemoveOrderTagsAsync(p.Shop, p.OrderId, p.RemoveTags, cancellationToken);
                }

                await shopify.AddOrderTagsAsync(p.Shop, p.OrderId, p.AddTags, cancellationToken);
                if (p.Metafields.Count > 0)
                {
                    await shopify.SetOrderMetafieldsAsync(p.Shop, p.OrderId, "retail_sync", p.Metafields, cancellationToken);
                }

                return new($"order {p.OrderId} tagged {string.Join(",", p.AddTags)}", p.OrderId, null);
            }

            case ("erp", "creditMemo"):
            {
                var number = await erp.CreateCreditMemoAsync(Read<ErpCreditMemo>(command), cancellationToken);
                return new($"credit memo {number}", number, null);
            }

            case ("shopify", "tagsAdd"):
            {
                var p = Read<ShopifyTags>(command);
                await shopify.AddOrderTagsAsync(p.Shop, p.OrderId, p.Tags, cancellationToken);
                return new($"tags added to order {p.OrderId}", p.OrderId, null);
            }

            case ("shopify", "inventorySet"):
            {
                var p = Read<ShopifyInventorySet>(command);
                var outcome = await shopify.SetAvailableAsync(p.Shop, p.InventoryItemId, p.LocationId, p.Quantity, p.ChangeFrom, p.IdempotencyKey, cancellationToken: cancellationToken);
                return outcome == InventorySetOutcome.Applied
                    ? new($"available set to {p.Quantity}", p.InventoryItemId, null)
                    : throw new ConnectorException("shopify", FailureKind.Conflict, "CHANGE_FROM_QUANTITY_STALE", "Shopify holds another quantity than expected");
            }

            default:
                throw new ConnectorException(command.System, FailureKind.Permanent, "UNKNOWN_OPERATION", $"no executor for {command.System}/{command.Operation}");
        }
    }

    private static T Read<T>(OutboundCommand command) =>
        JsonSerializer.Deserialize<T>(command.Payload, Json) ?? throw new ConnectorException(command.System, FailureKind.Permanent, "BAD_PAYLOAD", "empty payload");
}

public sealed record CommandResult(string Summary, string? ExternalId, string? ExternalStatus);

public sealed record ErpOrderSubmission(ErpCustomer Customer, ErpSalesOrder Order);

public sealed record ShopifySyncStatus(string Shop, string OrderId, IReadOnlyList<string> AddTags, IReadOnlyList<string> RemoveTags, IReadOnlyDictionary<string, string> Metafields);

public sealed record CrmUpsert(string SObject, string ExternalIdField, JsonObject Record);

public sealed record CrmCreate(string SObject, JsonObject Fields);

public sealed record ShopifyTags(string Shop, string OrderId, IReadOnlyList<string> Tags);

public sealed record ShopifyInventorySet(string Shop, string InventoryItemId, string LocationId, int Quantity, int? ChangeFrom, string IdempotencyKey);
