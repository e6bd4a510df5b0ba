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

    /// <summary>Returns a short description of the vendor's answer; throws <see cref="ConnectorException"/> on failure.</summary>
    public async Task<string> ExecuteAsync(OutboundCommand command, CancellationToken cancellationToken)
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

                return $"{p.SObject} {result.Id} {(result.Created ? "created" : "updated")}";
            }

            case ("crm", "create"):
            {
                var p = Read<CrmCreate>(command);
                return $"{p.SObject} {await crm.CreateAsync(p.SObject, p.Fields, cancellationToken)} created";
            }

            case ("erp", "customer"):
            {
                var customer = await erp.UpsertCustomerAsync(Read<ErpCustomer>(command), cancellationToken);
                return $"customer {customer.Number}";
            }

            case ("erp", "salesOrder"):
            {
                var order = await erp.SubmitSalesOrderAsync(Read<ErpSalesOrder>(command), cancellationToken);
                return $"sales order {order.Number} ({order.Status})";
            }

            case ("erp", "creditMemo"):
                return $"credit memo {await erp.CreateCreditMemoAsync(Read<ErpCreditMemo>(command), cancellationToken)}";

            case ("shopify", "tagsAdd"):
            {
                var p = Read<ShopifyTags>(command);
                await shopify.AddOrderTagsAsync(p.Shop, p.OrderId, p.Tags, cancellationToken);
                return $"tags added to order {p.OrderId}";
            }

            case ("shopify", "inventorySet"):
            {
                var p = Read<ShopifyInventorySet>(command);
                var outcome = await shopify.SetAvailableAsync(p.Shop, p.InventoryItemId, p.LocationId, p.Quantity, p.ChangeFrom, p.IdempotencyKey, cancellationToken: cancellationToken);
                return outcome == InventorySetOutcome.Applied
                    ? $"available set to {p.Quantity}"
                    : throw new ConnectorException("shopify", FailureKind.Conflict, "CHANGE_FROM_QUANTITY_STALE", "Shopify holds another quantity than expected");
            }

            default:
                throw new ConnectorException(command.System, FailureKind.Permanent, "UNKNOWN_OPERATION", $"no executor for {command.System}/{command.Operation}");
        }
    }

    private static T Read<T>(OutboundCommand command) =>
        JsonSerializer.Deserialize<T>(command.Payload, Json) ?? throw new ConnectorException(command.System, FailureKind.Permanent, "BAD_PAYLOAD", "empty payload");
}

public sealed record CrmUpsert(string SObject, string ExternalIdField, JsonObject Record);

public sealed record CrmCreate(string SObject, JsonObject Fields);

public sealed record ShopifyTags(string Shop, string OrderId, IReadOnlyList<string> Tags);

public sealed record ShopifyInventorySet(string Shop, string InventoryItemId, string LocationId, int Quantity, int? ChangeFrom, string IdempotencyKey);
