using System.Text.Json.Nodes;

namespace RetailSync.Connectors;

/// <summary>What grains may ask of Shopify's Admin API. Adapters speak GraphQL behind it.</summary>
public interface IShopifyAdmin
{
    Task AddOrderTagsAsync(string shop, string orderId, IReadOnlyList<string> tags, CancellationToken cancellationToken = default);

    Task RemoveOrderTagsAsync(string shop, string orderId, IReadOnlyList<string> tags, CancellationToken cancellationToken = default);

    Task SetOrderMetafieldAsync(string shop, string orderId, string ns, string key, string value, CancellationToken cancellationToken = default);

    /// <summary>Several metafields of one order in one (atomic) metafieldsSet call.</summary>
    Task SetOrderMetafieldsAsync(string shop, string orderId, string ns, IReadOnlyDictionary<string, string> values, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sets available stock if Shopify still holds <paramref name="changeFrom"/> (null skips the check);
    /// a replay with the same idempotency key is not applied twice.
    /// </summary>
    Task<InventorySetOutcome> SetAvailableAsync(string shop, string inventoryItemId, string locationId, int quantity, int? changeFrom,
        string idempotencyKey, string reason = "correction", CancellationToken cancellationToken = default);

    /// <summary>
    /// Fulfils the order's open fulfillment orders with tracking: the given quantities per SKU, or
    /// everything still to fulfil when <paramref name="quantitiesBySku"/> is null. Returns the fulfillment id.
    /// </summary>
    Task<string> CreateFulfillmentAsync(string shop, string orderId, string? trackingCompany, string? trackingNumber,
        IReadOnlyDictionary<string, int>? quantitiesBySku = null, CancellationToken cancellationToken = default);

    /// <summary>The <c>available</c> quantity Shopify holds for an inventory item at a location; null when it is not stocked there.</summary>
    Task<int?> GetAvailableAsync(string shop, string inventoryItemId, string locationId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sets many items' available quantities in one <c>inventorySetQuantities</c> (atomic): true when applied; false
    /// when Shopify refused any item (a stale compare value), in which case nothing was applied.
    /// </summary>
    Task<bool> SetAvailableManyAsync(string shop, IReadOnlyList<InventoryLevelSet> levels, string idempotencyKey, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<ShopifyRefundSummary>> GetRefundsAsync(string shop, string orderId, CancellationToken cancellationToken = default);

    Task<OrdersPage> ListOrdersUpdatedSinceAsync(string shop, DateTimeOffset since, string? after, int first = 100, CancellationToken cancellationToken = default);
}

public enum InventorySetOutcome
{
    Applied,

    /// <summary>Shopify holds another value than the one we expected: re-read, decide by authority, retry.</summary>
    Stale,
}

public sealed record ShopifyRefundSummary(string RefundId, DateTimeOffset CreatedAt, decimal Amount, string Currency, IReadOnlyList<ShopifyRefundLine> Lines);

public sealed record ShopifyRefundLine(string? Sku, int Quantity, string RestockType);

public sealed record OrdersPage(IReadOnlyList<ShopifyOrderSummary> Orders, bool HasNextPage, string? EndCursor);

public sealed record ShopifyOrderSummary(string OrderId, string? Name, DateTimeOffset UpdatedAt, IReadOnlyList<string> Tags);

/// <summary>What grains may ask of the CRM. The Salesforce adapter speaks REST behind it.</summary>
public interface ICrm
{
    /// <summary>Upserts by external id, batching as the vendor allows; one result per record, in order.</summary>
    Task<IReadOnlyList<CrmUpsertResult>> UpsertAsync(string sObject, string externalIdField, IReadOnlyList<JsonObject> records, CancellationToken cancellationToken = default);

    Task<string> CreateAsync(string sObject, JsonObject fields, CancellationToken cancellationToken = default);

    Task UpdateAsync(string sObject, string id, JsonObject fields, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<JsonObject>> QueryAsync(string soql, CancellationToken cancellationToken = default);
}

public sealed record CrmUpsertResult(string? Id, bool Success, bool Created, string? ErrorCode, string? Message);

/// <summary>What grains may ask of the ERP: the financial and stock truth.</summary>
public interface IErp
{
    Task<ErpCustomerRef> UpsertCustomerAsync(ErpCustomer customer, CancellationToken cancellationToken = default);

    /// <summary>
    /// Upserts many customers in as few vendor calls as it allows; one result per customer, in order
    /// (a customer's own failure is its result's error, not an exception for all).
    /// </summary>
    Task<IReadOnlyList<ErpCustomerResult>> UpsertCustomersAsync(IReadOnlyList<ErpCustomer> customers, CancellationToken cancellationToken = default);

    /// <summary>Creates the sales order once: an existing one with the same external document number is returned instead.</summary>
    Task<ErpSalesOrderRef> SubmitSalesOrderAsync(ErpSalesOrder order, CancellationToken cancellationToken = default);

    /// <summary>Submits many orders in as few vendor calls as it allows (Business Central: $batch of 100).</summary>
    Task<IReadOnlyList<ErpBatchResult>> SubmitSalesOrdersAsync(IReadOnlyList<ErpSalesOrder> orders, CancellationToken cancellationToken = default);

    /// <summary>
    /// Each order's customer first (idempotent by number), then the orders whose customer is there (idempotent by
    /// external document number); one result per submission, in order. An ERP that can read many things in one
    /// call does the lookups of both together.
    /// </summary>
    async Task<IReadOnlyList<ErpBatchResult>> SubmitSalesOrdersWithCustomersAsync(IReadOnlyList<(ErpCustomer Customer, ErpSalesOrder Order)> submissions, CancellationToken cancellationToken = default)
    {
        var customers = await UpsertCustomersAsync([.. submissions.Select(s => s.Customer)], cancellationToken);
        return await ErpSubmissions.SubmitWhereCustomerIsThereAsync(submissions, customers, orders => SubmitSalesOrdersAsync(orders, cancellationToken));
    }

    Task<ErpSalesOrderRef?> FindSalesOrderAsync(string externalDocumentNumber, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads the order, asks <paramref name="decide"/> what to change (null: nothing) and writes it with
    /// the ETag it read; when someone else wrote first, reads and decides again.
    /// </summary>
    Task<ErpSalesOrderRef> UpdateSalesOrderAsync(string externalDocumentNumber, Func<ErpSalesOrderRef, JsonObject?> decide, CancellationToken cancellationToken = default);

    /// <summary>Deletes the unshipped sales order (with its ETag); false when there is none.</summary>
    Task<bool> CancelSalesOrderAsync(string externalDocumentNumber, CancellationToken cancellationToken = default);

    Task<string> CreateCreditMemoAsync(ErpCreditMemo memo, CancellationToken cancellationToken = default);

    Task<decimal?> GetInventoryAsync(string sku, CancellationToken cancellationToken = default);
}

public sealed record ErpCustomer(string Number, string DisplayName, string? Email, string? Phone, string? AddressLine1, string? City, string? PostalCode, string? Country);

public sealed record ErpCustomerResult(string Number, ErpCustomerRef? Customer, ConnectorException? Error);

public sealed record ErpCustomerRef(string Id, string Number, decimal CreditLimit, string Blocked);

/// <param name="Restock">On a credit memo: the goods come back into stock (false: written off). Ignored on sales orders.</param>
public sealed record ErpLine(string Sku, decimal Quantity, decimal UnitPrice, bool Restock = true);

public sealed record ErpSalesOrder(string ExternalDocumentNumber, string CustomerNumber, DateOnly OrderDate, string Currency, IReadOnlyList<ErpLine> Lines);

/// <summary>A sales order as the ERP holds it; <see cref="HoldReason"/> is set when its status is <see cref="ErpStatuses.OnHold"/>.</summary>
public sealed record ErpSalesOrderRef(string Id, string Number, string ExternalDocumentNumber, string Status, decimal Total, string ETag, JsonObject Raw,
    string? HoldReason = null);

public static class ErpStatuses
{
    /// <summary>The ERP took the order but holds it for a person's decision (a credit limit): not accepted, not refused.</summary>
    public const string OnHold = "OnHold";
}

public sealed record ErpBatchResult(string ExternalDocumentNumber, ErpSalesOrderRef? Order, ConnectorException? Error);

public static class ErpSubmissions
{
    /// <summary>Submits the orders whose customer was upserted; the others fail with their customer's error.</summary>
    public static async Task<IReadOnlyList<ErpBatchResult>> SubmitWhereCustomerIsThereAsync(IReadOnlyList<(ErpCustomer Customer, ErpSalesOrder Order)> submissions,
        IReadOnlyList<ErpCustomerResult> customers, Func<IReadOnlyList<ErpSalesOrder>, Task<IReadOnlyList<ErpBatchResult>>> submit)
    {
        var results = new ErpBatchResult?[submissions.Count];
        for (var i = 0; i < submissions.Count; i++)
        {
            if (customers[i].Error is { } error)
            {
                results[i] = new ErpBatchResult(submissions[i].Order.ExternalDocumentNumber, null, error);
            }
        }

        var open = Enumerable.Range(0, submissions.Count).Where(i => results[i] is null).ToList();
        var submitted = open.Count == 0 ? [] : await submit([.. open.Select(i => submissions[i].Order)]);
        foreach (var (i, result) in open.Zip(submitted))
        {
            results[i] = result;
        }

        return [.. results.Select(r => r!)];
    }
}

public sealed record ErpCreditMemo(string ExternalDocumentNumber, string CustomerNumber, DateOnly Date, IReadOnlyList<ErpLine> Lines);

/// <summary>One item's level in a batched inventory set: the target and the value we last gave Shopify (null: no check).</summary>
public sealed record InventoryLevelSet(string InventoryItemId, string LocationId, int Quantity, int? ChangeFrom);
