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

    /// <summary>
    /// The batch a command can share one vendor call with (same value: same call), or null when it
    /// goes alone: ERP order submissions ($batch) and CRM upserts of one object and external id (collections).
    /// </summary>
    /// <summary>Commands that jump their system's queue: Shopify's inventory levels (a stale level is an oversell).</summary>
    public static bool Urgent(OutboundCommand command) => command is { System: "shopify", Operation: "inventorySet" };

    public static string? BatchGroup(OutboundCommand command)
    {
        switch ((command.System, command.Operation))
        {
            case ("erp", "submitOrder"):
                return "erp:submitOrder";
            case ("erp", "customer"):
                return "erp:customer";
            case ("shopify", "inventorySet"):
                // One inventorySetQuantities per shop carries many items' levels for the cost of one mutation.
                return "shopify:inventorySet:" + JsonSerializer.Deserialize<ShopifyInventorySet>(command.Payload, Json)!.Shop;
            case ("crm", "context"):
                return "crm:context";
            case ("crm", "upsert"):
                var p = JsonSerializer.Deserialize<CrmUpsert>(command.Payload, Json);
                return p is null ? null : $"crm:upsert:{p.SObject}:{p.ExternalIdField}";
            default:
                return null;
        }
    }

    /// <summary>
    /// Runs commands of one <see cref="BatchGroup"/> in as few vendor calls as the vendor allows; one
    /// outcome per command, in order. A failure of the whole call is every command's outcome.
    /// </summary>
    public async Task<IReadOnlyList<BatchOutcome>> ExecuteBatchAsync(IReadOnlyList<OutboundCommand> commands, CancellationToken cancellationToken)
    {
        try
        {
            if (commands.Count == 1)
            {
                return [new(await ExecuteAsync(commands[0], cancellationToken), null)];
            }

            return BatchGroup(commands[0]) switch
            {
                "erp:submitOrder" => await SubmitOrdersAsync([.. commands.Select(Read<ErpOrderSubmission>)], cancellationToken),
                "erp:customer" => await CustomersAsync([.. commands.Select(Read<ErpCustomer>)], cancellationToken),
                { } inventory when inventory.StartsWith("shopify:inventorySet:", StringComparison.Ordinal) => await InventorySetsAsync(commands, cancellationToken),
                "crm:context" => await ContextsAsync([.. commands.Select(Read<string>)], cancellationToken),
                { } crm when crm.StartsWith("crm:upsert:", StringComparison.Ordinal) => await UpsertAsync([.. commands.Select(Read<CrmUpsert>)], cancellationToken),
                _ => throw new InvalidOperationException("not a batch: " + string.Join(", ", commands.Select(c => c.Operation).Distinct())),
            };
        }
        catch (Exception ex)
        {
            return [.. commands.Select(_ => new BatchOutcome(null, ex))];
        }
    }

    private async Task<IReadOnlyList<BatchOutcome>> SubmitOrdersAsync(IReadOnlyList<ErpOrderSubmission> submissions, CancellationToken cancellationToken)
    {
        var outcomes = new BatchOutcome?[submissions.Count];
        for (var i = 0; i < submissions.Count; i++)
        {
            if (MissingSku(submissions[i]) is { } error)
            {
                outcomes[i] = new(null, error);
            }
        }

        // Customers first (idempotent by number), then the orders whose customer is there (idempotent by external document number).
        var open = Enumerable.Range(0, submissions.Count).Where(i => outcomes[i] is null).ToList();
        var results = await erp.SubmitSalesOrdersWithCustomersAsync([.. open.Select(i => (submissions[i].Customer, submissions[i].Order))], cancellationToken);
        foreach (var (i, result) in open.Zip(results))
        {
            outcomes[i] = result.Order is { } order
                ? new(Submitted(order), null)
                : new(null, result.Error);
        }

        return [.. outcomes.Select(o => o!)];
    }

    /// <summary>
    /// Many SKUs' levels in one mutation (atomic in Shopify). Should any item be refused (a compare value gone stale
    /// because someone changed it in Shopify's admin), nothing was applied: every item runs on its own then, where a
    /// stale compare value is handled item by item.
    /// </summary>
    private async Task<IReadOnlyList<BatchOutcome>> InventorySetsAsync(IReadOnlyList<OutboundCommand> commands, CancellationToken cancellationToken)
    {
        var sets = commands.Select(Read<ShopifyInventorySet>).ToList();
        var key = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join('\n', sets.Select(s => s.IdempotencyKey)))))[..32];
        if (await shopify.SetAvailableManyAsync(sets[0].Shop, [.. sets.Select(s => new InventoryLevelSet(s.InventoryItemId, s.LocationId, s.Quantity, s.ChangeFrom))], key, cancellationToken))
        {
            return [.. sets.Select(s => new BatchOutcome(new($"available set to {s.Quantity}", s.InventoryItemId, null), null))];
        }

        var outcomes = new List<BatchOutcome>(commands.Count);
        foreach (var command in commands)
        {
            try
            {
                outcomes.Add(new(await ExecuteAsync(command, cancellationToken), null));
            }
            catch (Exception ex)
            {
                outcomes.Add(new(null, ex));
            }
        }

        return outcomes;
    }

    /// <summary>Golden customers to the ERP: one batched upsert (idempotent by customer number), one outcome each, in order.</summary>
    private async Task<IReadOnlyList<BatchOutcome>> CustomersAsync(IReadOnlyList<ErpCustomer> customers, CancellationToken cancellationToken)
    {
        var results = await erp.UpsertCustomersAsync(customers, cancellationToken);
        return [.. results.Select(r => r.Customer is { } c
            ? new BatchOutcome(new($"customer {c.Number}", c.Number, c.Blocked), null)
            : new BatchOutcome(null, r.Error))];
    }

    /// <summary>Many customers' CRM context in one query per hundred emails (SOQL <c>IN</c>).</summary>
    private async Task<IReadOnlyList<BatchOutcome>> ContextsAsync(IReadOnlyList<string> emails, CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, CrmContextData>(StringComparer.OrdinalIgnoreCase);
        foreach (var chunk in emails.Distinct(StringComparer.OrdinalIgnoreCase).Chunk(100))
        {
            var list = string.Join(", ", chunk.Select(e => $"'{SoqlLiteral(e)}'"));
            foreach (var row in await crm.QueryAsync($"SELECT Id, AccountId, OwnerId, Segment__c, Email FROM Contact WHERE Email IN ({list})", cancellationToken))
            {
                if (row["Email"]?.ToString() is { } email)
                {
                    found.TryAdd(email, ToContext(row));
                }
            }
        }

        return [.. emails.Select(e => new BatchOutcome(ContextResult(e, found.GetValueOrDefault(e)), null))];
    }

    private static CrmContextData ToContext(JsonObject row) =>
        new(row["Id"]?.ToString(), row["AccountId"]?.ToString(), row["OwnerId"]?.ToString(), row["Segment__c"]?.ToString());

    private static CommandResult ContextResult(string email, CrmContextData? context) => context is null
        ? new($"no CRM contact with email {email}", null, "NotFound")
        : new($"CRM contact {context.ContactId} (account {context.AccountId ?? "-"}, segment {context.Segment ?? "-"})", context.ContactId, "Found",
            JsonSerializer.Serialize(context, Json));

    private async Task<IReadOnlyList<BatchOutcome>> UpsertAsync(IReadOnlyList<CrmUpsert> upserts, CancellationToken cancellationToken)
    {
        var results = await crm.UpsertAsync(upserts[0].SObject, upserts[0].ExternalIdField, [.. upserts.Select(u => u.Record)], cancellationToken);
        return [.. upserts.Zip(results).Select(p => p.Second.Success
            ? new BatchOutcome(new($"{p.First.SObject} {p.Second.Id} {(p.Second.Created ? "created" : "updated")}", p.Second.Id, null), null)
            : new BatchOutcome(null, UpsertError(p.Second)))];
    }

    private static ConnectorException UpsertError(CrmUpsertResult result) =>
        // UNABLE_TO_LOCK_ROW is contention, not content: try again later.
        new("salesforce", result.ErrorCode == "UNABLE_TO_LOCK_ROW" ? FailureKind.Transient : FailureKind.Permanent, result.ErrorCode, result.Message ?? "upsert failed");

    /// <summary>An order the ERP holds (Tryton: over the credit limit) says why, for the order's timeline.</summary>
    /// <remarks>The data is the ERP's own time of the order (BC's lastModifiedDateTime), against which its stock figures are dated.</remarks>
    private static CommandResult Submitted(ErpSalesOrderRef order) => order.Status == ErpStatuses.OnHold
        ? new($"sales order {order.Number} on hold: {order.HoldReason}", order.Number, order.Status)
        : new($"sales order {order.Number} ({order.Status})", order.Number, order.Status, order.Raw["lastModifiedDateTime"]?.ToString());

    private static ConnectorException? MissingSku(ErpOrderSubmission p) =>
        p.Order.Lines.Any(l => string.IsNullOrWhiteSpace(l.Sku))
            ? new ConnectorException("erp", FailureKind.Permanent, "MISSING_SKU", $"order {p.Order.ExternalDocumentNumber} has lines without a SKU; the ERP books items by SKU")
            : null;

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
                    throw UpsertError(result);
                }

                return new($"{p.SObject} {result.Id} {(result.Created ? "created" : "updated")}", result.Id, null);
            }

            case ("crm", "context"):
            {
                // The sales and service context of the order's customer: their contact, account, owner and segment.
                var email = Read<string>(command);
                var rows = await crm.QueryAsync($"SELECT Id, AccountId, OwnerId, Segment__c FROM Contact WHERE Email = '{SoqlLiteral(email)}'", cancellationToken);
                return ContextResult(email, rows.Count == 0 ? null : ToContext(rows[0]));
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
                return Submitted(order);
            }

            case ("erp", "submitOrder"):
            {
                // The customer first (idempotent by number), then the order (idempotent by external document number);
                // the ERP reads both in one call where it can.
                var p = Read<ErpOrderSubmission>(command);
                if (MissingSku(p) is { } missing)
                {
                    throw missing;
                }

                var result = (await erp.SubmitSalesOrdersWithCustomersAsync([(p.Customer, p.Order)], cancellationToken))[0];
                return result.Order is { } order ? Submitted(order) : throw (Exception?)result.Error ?? new InvalidOperationException("the ERP gave neither an order nor an error");
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

            case ("shopify", "fulfill"):
            {
                var p = Read<ShopifyFulfillment>(command);
                try
                {
                    var id = await shopify.CreateFulfillmentAsync(p.Shop, p.OrderId, p.TrackingCompany, p.TrackingNumber, p.QuantitiesBySku, cancellationToken);
                    return new($"fulfillment {id} ({p.TrackingCompany} {p.TrackingNumber})", id, null);
                }
                catch (ConnectorException ex) when (ex.VendorCode == "NOTHING_TO_FULFILL")
                {
                    // Shopify already shows these lines fulfilled: a retry after an answer we never got, or
                    // the merchant fulfilled them in Shopify's admin. The ERP's shipment is told either way.
                    return new($"nothing left to fulfil in Shopify ({p.TrackingCompany} {p.TrackingNumber})", null, null);
                }
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
                if (outcome == InventorySetOutcome.Applied)
                {
                    return new($"available set to {p.Quantity}", p.InventoryItemId, null);
                }

                // Shopify holds another value than we last gave it (someone changed it in Shopify's admin). Stock
                // is the ERP's to decide: its figure is written over it, and the override is said in the result.
                await shopify.SetAvailableAsync(p.Shop, p.InventoryItemId, p.LocationId, p.Quantity, null, p.IdempotencyKey + ":authority", cancellationToken: cancellationToken);
                return new($"available set to {p.Quantity} over a value changed in Shopify since {p.ChangeFrom} (the ERP decides stock)", p.InventoryItemId, "overridden");
            }

            default:
                throw new ConnectorException(command.System, FailureKind.Permanent, "UNKNOWN_OPERATION", $"no executor for {command.System}/{command.Operation}");
        }
    }

    /// <summary>SOQL string literal: backslash and quote escaped, as Salesforce documents.</summary>
    private static string SoqlLiteral(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal);

    private static T Read<T>(OutboundCommand command) =>
        JsonSerializer.Deserialize<T>(command.Payload, Json) ?? throw new ConnectorException(command.System, FailureKind.Permanent, "BAD_PAYLOAD", "empty payload");
}

/// <summary>One command's outcome in a batch: a result, or the exception it failed with.</summary>
public sealed record BatchOutcome(CommandResult? Result, Exception? Error);

/// <param name="Data">What a read returned, as JSON, for the owner to take in (e.g. <see cref="CrmContextData"/>).</param>
public sealed record CommandResult(string Summary, string? ExternalId, string? ExternalStatus, string? Data = null);

public sealed record CrmContextData(string? ContactId, string? AccountId, string? OwnerId, string? Segment);

public sealed record ErpOrderSubmission(ErpCustomer Customer, ErpSalesOrder Order);

public sealed record ShopifySyncStatus(string Shop, string OrderId, IReadOnlyList<string> AddTags, IReadOnlyList<string> RemoveTags, IReadOnlyDictionary<string, string> Metafields);

public sealed record CrmUpsert(string SObject, string ExternalIdField, JsonObject Record);

public sealed record CrmCreate(string SObject, JsonObject Fields);

public sealed record ShopifyFulfillment(string Shop, string OrderId, string? TrackingCompany, string? TrackingNumber, IReadOnlyDictionary<string, int> QuantitiesBySku);

public sealed record ShopifyTags(string Shop, string OrderId, IReadOnlyList<string> Tags);

public sealed record ShopifyInventorySet(string Shop, string InventoryItemId, string LocationId, int Quantity, int? ChangeFrom, string IdempotencyKey);
