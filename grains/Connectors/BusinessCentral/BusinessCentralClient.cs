using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace RetailSync.Connectors.BusinessCentral;

/// <summary>
/// Business Central API v2.0 adapter: customers, salesOrders (with lines) keyed by
/// <c>externalDocumentNumber</c>, items' inventory, salesCreditMemos; <c>If-Match</c> on updates with
/// re-read and re-decide on 409 <c>Request_EntityChanged</c>; <c>$batch</c> of up to 100 operations.
/// </summary>
public sealed class BusinessCentralClient(HttpClient http, IOptionsMonitor<ConnectorOptions> options, BusinessCentralTokens tokens) : IErp
{
    public const string SystemName = "bc";
    public const int BatchLimit = 100;
    private const int ConflictRetries = 5;

    public async Task<ErpCustomerRef> UpsertCustomerAsync(ErpCustomer customer, CancellationToken cancellationToken = default)
    {
        var fields = CustomerFields(customer);
        for (var attempt = 0; ; attempt++)
        {
            var existing = await FirstAsync("customers", $"number eq {Literal(customer.Number)}", null, cancellationToken);
            if (existing is not null && fields.All(f => existing[f.Key]?.ToString() == f.Value?.ToString()))
            {
                // Nothing to change: many orders of one customer (or of web guests) must not contend for it.
                return ToCustomerRef(existing);
            }

            try
            {
                var written = existing is null
                    ? await SendAsync(HttpMethod.Post, Company("customers"), WithNumber(fields, customer.Number), null, cancellationToken)
                    : await SendAsync(HttpMethod.Patch, Company($"customers({existing["id"]})"), fields, existing["@odata.etag"]!.GetValue<string>(), cancellationToken);
                return ToCustomerRef(written!.AsObject());
            }
            catch (ConnectorException ex) when (ex.Kind == FailureKind.Conflict && attempt < ConflictRetries)
            {
                // Someone changed the customer (or created it: same number) since we read: read again and re-apply.
            }
        }
    }

    public async Task<IReadOnlyList<ErpCustomerResult>> UpsertCustomersAsync(IReadOnlyList<ErpCustomer> customers, CancellationToken cancellationToken = default) =>
        await UpsertCustomersAsync(customers, await ReadAsync(customers.Select(c => CustomerRead(c.Number)), cancellationToken), cancellationToken);

    /// <summary>
    /// One $batch reads the customers and looks the orders up together (a returning buyer's order takes two calls,
    /// not three); then one writes the customers that are missing or differ, one creates the orders not there yet.
    /// </summary>
    public async Task<IReadOnlyList<ErpBatchResult>> SubmitSalesOrdersWithCustomersAsync(IReadOnlyList<(ErpCustomer Customer, ErpSalesOrder Order)> submissions, CancellationToken cancellationToken = default)
    {
        var read = await ReadAsync(submissions.Select(s => CustomerRead(s.Customer.Number)).Concat(submissions.Select(s => OrderRead(s.Order.ExternalDocumentNumber))), cancellationToken);
        var customers = await UpsertCustomersAsync([.. submissions.Select(s => s.Customer)], read, cancellationToken);
        return await ErpSubmissions.SubmitWhereCustomerIsThereAsync(submissions, customers, orders => SubmitSalesOrdersAsync(orders, read, cancellationToken));
    }

    /// <summary>The answers to GET requests by key, read in as few $batch calls as its limit allows.</summary>
    private async Task<IReadOnlyDictionary<string, JsonObject>> ReadAsync(IEnumerable<(string Key, string Url)> lookups, CancellationToken cancellationToken)
    {
        var read = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var chunk in lookups.DistinctBy(l => l.Key).Chunk(BatchLimit))
        {
            var answers = await BatchAsync([.. chunk.Select((l, i) => BatchRequest(i.ToString(CultureInfo.InvariantCulture), "GET", l.Url, null))], cancellationToken);
            foreach (var (lookup, answer) in chunk.Zip(answers))
            {
                read[lookup.Key] = answer;
            }
        }

        return read;
    }

    private (string Key, string Url) CustomerRead(string number) => (CustomerKey(number), CustomerLookup(number));

    private (string Key, string Url) OrderRead(string externalDocumentNumber) => (OrderKey(externalDocumentNumber), OrderLookup(externalDocumentNumber));

    private static string CustomerKey(string number) => "customer:" + number;

    private static string OrderKey(string externalDocumentNumber) => "order:" + externalDocumentNumber;

    private string CustomerLookup(string number) => CompanyRelative($"customers?$filter=number eq {Literal(number)}&$top=1");

    private string OrderLookup(string externalDocumentNumber) =>
        CompanyRelative($"salesOrders?$filter=externalDocumentNumber eq {Literal(externalDocumentNumber)}&$expand=salesOrderLines");

    /// <param name="read">The customers' lookups, answered (<see cref="CustomerRead"/>).</param>
    private async Task<IReadOnlyList<ErpCustomerResult>> UpsertCustomersAsync(IReadOnlyList<ErpCustomer> customers, IReadOnlyDictionary<string, JsonObject> read, CancellationToken cancellationToken)
    {
        var results = new Dictionary<string, ErpCustomerResult>(StringComparer.Ordinal);
        foreach (var chunk in customers.DistinctBy(c => c.Number).Chunk(BatchLimit))
        {
            // Read already; one $batch writes those that are missing or differ (each with the ETag it read).
            var found = chunk.Select(c => read[CustomerKey(c.Number)]);
            var writes = new List<(ErpCustomer Customer, JsonObject Request)>();
            foreach (var (customer, response) in chunk.Zip(found))
            {
                var existing = response["status"]!.GetValue<int>() == 200 && response["body"]?["value"] is JsonArray { Count: > 0 } value ? value[0]!.AsObject() : null;
                var fields = CustomerFields(customer);
                if (existing is not null && fields.All(f => existing[f.Key]?.ToString() == f.Value?.ToString()))
                {
                    results[customer.Number] = new ErpCustomerResult(customer.Number, ToCustomerRef(existing), null);
                    continue;
                }

                var id = writes.Count.ToString(CultureInfo.InvariantCulture);
                var request = existing is null
                    ? BatchRequest(id, "POST", CompanyRelative("customers"), WithNumber(fields, customer.Number))
                    : BatchRequest(id, "PATCH", CompanyRelative($"customers({existing["id"]})"), fields);
                if (existing is not null)
                {
                    request["headers"]!["If-Match"] = existing["@odata.etag"]!.GetValue<string>();
                }

                writes.Add((customer, request));
            }

            var written = writes.Count == 0 ? [] : await BatchAsync([.. writes.Select(w => w.Request)], cancellationToken);
            foreach (var ((customer, _), response) in writes.Zip(written))
            {
                var status = response["status"]!.GetValue<int>();
                if (status is 200 or 201)
                {
                    results[customer.Number] = new ErpCustomerResult(customer.Number, ToCustomerRef(response["body"]!.AsObject()), null);
                    continue;
                }

                var error = Error(status, response["body"]);
                if (error.Kind != FailureKind.Conflict)
                {
                    results[customer.Number] = new ErpCustomerResult(customer.Number, null, error);
                    continue;
                }

                // Created or changed by someone else since the read: the single path reads and decides again.
                try
                {
                    results[customer.Number] = new ErpCustomerResult(customer.Number, await UpsertCustomerAsync(customer, cancellationToken), null);
                }
                catch (ConnectorException ex) when (ex.Kind == FailureKind.Permanent)
                {
                    results[customer.Number] = new ErpCustomerResult(customer.Number, null, ex);
                }
            }
        }

        return [.. customers.Select(c => results[c.Number])];
    }

    /// <summary>
    /// Names and address lines cut to the lengths of Business Central's Customer fields (which refuses longer values), as
    /// Microsoft's own Shopify connector does; an email is never cut (a shortened address is someone else's), so a longer
    /// one is refused and raised.
    /// </summary>
    private static JsonObject CustomerFields(ErpCustomer customer) => new()
    {
        ["displayName"] = Fit(customer.DisplayName, 100), ["email"] = customer.Email, ["phoneNumber"] = Fit(customer.Phone, 30),
        ["addressLine1"] = Fit(customer.AddressLine1, 100), ["city"] = Fit(customer.City, 30), ["postalCode"] = Fit(customer.PostalCode, 20),
        ["country"] = Fit(customer.Country, 10),
    };

    private static string? Fit(string? value, int length) => value is { } v && v.Length > length ? v[..length] : value;

    public async Task<ErpSalesOrderRef> SubmitSalesOrderAsync(ErpSalesOrder order, CancellationToken cancellationToken = default)
    {
        if (await FindSalesOrderAsync(order.ExternalDocumentNumber, cancellationToken) is { } existing)
        {
            return existing;
        }

        var created = await SendAsync(HttpMethod.Post, Company("salesOrders"), SalesOrderBody(order), null, cancellationToken);
        return ToRef(created!.AsObject());
    }

    public async Task<IReadOnlyList<ErpBatchResult>> SubmitSalesOrdersAsync(IReadOnlyList<ErpSalesOrder> orders, CancellationToken cancellationToken = default) =>
        await SubmitSalesOrdersAsync(orders, await ReadAsync(orders.Select(o => OrderRead(o.ExternalDocumentNumber)), cancellationToken), cancellationToken);

    /// <param name="read">The orders' lookups, answered (<see cref="OrderRead"/>).</param>
    private async Task<IReadOnlyList<ErpBatchResult>> SubmitSalesOrdersAsync(IReadOnlyList<ErpSalesOrder> orders, IReadOnlyDictionary<string, JsonObject> read, CancellationToken cancellationToken)
    {
        var results = new List<ErpBatchResult>(orders.Count);
        foreach (var chunk in orders.Chunk(BatchLimit))
        {
            // The lookups found the ones already there (a retry after a lost answer); one $batch creates the rest.
            var found = chunk.Select(o => read[OrderKey(o.ExternalDocumentNumber)]);
            var existing = new Dictionary<string, ErpSalesOrderRef>(StringComparer.Ordinal);
            foreach (var (order, response) in chunk.Zip(found))
            {
                if (response["status"]!.GetValue<int>() == 200 && response["body"]?["value"] is JsonArray { Count: > 0 } value)
                {
                    existing[order.ExternalDocumentNumber] = ToRef(value[0]!.AsObject());
                }
            }

            var missing = chunk.Where(o => !existing.ContainsKey(o.ExternalDocumentNumber)).ToList();
            var creates = missing.Select((o, i) => BatchRequest(i.ToString(CultureInfo.InvariantCulture), "POST", CompanyRelative("salesOrders"), SalesOrderBody(o))).ToList();
            var created = creates.Count == 0 ? [] : await BatchAsync(creates, cancellationToken);
            var byNumber = missing.Zip(created).ToDictionary(p => p.First.ExternalDocumentNumber, p => p.Second, StringComparer.Ordinal);
            foreach (var order in chunk)
            {
                if (existing.TryGetValue(order.ExternalDocumentNumber, out var found1))
                {
                    results.Add(new ErpBatchResult(order.ExternalDocumentNumber, found1, null));
                    continue;
                }

                var response = byNumber[order.ExternalDocumentNumber];
                var status = response["status"]!.GetValue<int>();
                results.Add(status is 200 or 201
                    ? new ErpBatchResult(order.ExternalDocumentNumber, ToRef(response["body"]!.AsObject()), null)
                    : new ErpBatchResult(order.ExternalDocumentNumber, null, Error(status, response["body"])));
            }
        }

        return results;
    }

    public async Task<ErpSalesOrderRef?> FindSalesOrderAsync(string externalDocumentNumber, CancellationToken cancellationToken = default) =>
        await FirstAsync("salesOrders", $"externalDocumentNumber eq {Literal(externalDocumentNumber)}", "salesOrderLines", cancellationToken) is { } found
            ? ToRef(found)
            : null;

    public async Task<ErpSalesOrderRef> UpdateSalesOrderAsync(string externalDocumentNumber, Func<ErpSalesOrderRef, JsonObject?> decide, CancellationToken cancellationToken = default)
    {
        for (var attempt = 0; ; attempt++)
        {
            var current = await FindSalesOrderAsync(externalDocumentNumber, cancellationToken)
                ?? throw new ConnectorException(SystemName, FailureKind.Permanent, "Internal_RecordNotFound", $"no sales order with external document number {externalDocumentNumber}");
            if (decide(current) is not { } changes)
            {
                return current;
            }

            try
            {
                var updated = await SendAsync(HttpMethod.Patch, Company($"salesOrders({current.Id})"), changes, current.ETag, cancellationToken);
                return ToRef(updated!.AsObject());
            }
            catch (ConnectorException ex) when (ex.Kind == FailureKind.Conflict && attempt < ConflictRetries)
            {
                // Request_EntityChanged: the ERP changed the order meanwhile; decide again on what it holds now.
            }
        }
    }

    public async Task<bool> CancelSalesOrderAsync(string externalDocumentNumber, CancellationToken cancellationToken = default)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (await FindSalesOrderAsync(externalDocumentNumber, cancellationToken) is not { } current)
            {
                return false;
            }

            try
            {
                await SendAsync(HttpMethod.Delete, Company($"salesOrders({current.Id})"), null, current.ETag, cancellationToken);
                return true;
            }
            catch (ConnectorException ex) when (ex.Kind == FailureKind.Conflict && attempt < ConflictRetries)
            {
                // Changed since we read it: read again (it may have been shipped meanwhile, which the ERP then refuses).
            }
        }
    }

    public async Task<string> CreateCreditMemoAsync(ErpCreditMemo memo, CancellationToken cancellationToken = default)
    {
        if (await FirstAsync("salesCreditMemos", $"externalDocumentNumber eq {Literal(memo.ExternalDocumentNumber)}", null, cancellationToken) is { } existing)
        {
            return existing["number"]!.GetValue<string>();
        }

        var body = new JsonObject
        {
            ["externalDocumentNumber"] = memo.ExternalDocumentNumber,
            ["customerNumber"] = memo.CustomerNumber,
            ["creditMemoDate"] = memo.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["salesCreditMemoLines"] = CreditMemoLines(memo),
        };
        var created = await SendAsync(HttpMethod.Post, Company("salesCreditMemos"), body, null, cancellationToken);
        return created!["number"]!.GetValue<string>();
    }

    public async Task<decimal?> GetInventoryAsync(string sku, CancellationToken cancellationToken = default) =>
        (await FirstAsync("items", $"number eq {Literal(sku)}", null, cancellationToken))?["inventory"]?.GetValue<decimal>();

    private static JsonObject SalesOrderBody(ErpSalesOrder order) => new()
    {
        ["externalDocumentNumber"] = order.ExternalDocumentNumber,
        ["customerNumber"] = order.CustomerNumber,
        ["orderDate"] = order.OrderDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        ["currencyCode"] = order.Currency,
        ["salesOrderLines"] = Lines(order.Lines),
    };

    private static JsonArray Lines(IEnumerable<ErpLine> lines) => new([.. lines.Select(l => (JsonNode)new JsonObject
    {
        ["lineType"] = "Item", ["lineObjectNumber"] = l.Sku, ["quantity"] = l.Quantity, ["unitPrice"] = l.UnitPrice,
    })]);

    /// <summary>
    /// Goods taken back are Item lines (posting the memo puts them back in stock); goods written off are
    /// booked to the write-off G/L account instead, so no stock comes back.
    /// </summary>
    private JsonArray CreditMemoLines(ErpCreditMemo memo)
    {
        var writeOff = options.CurrentValue.BusinessCentral.WriteOffAccount;
        if (memo.Lines.Any(l => !l.Restock) && string.IsNullOrEmpty(writeOff))
        {
            throw new ConnectorException(SystemName, FailureKind.Permanent, "NOT_CONFIGURED",
                "RetailSync:Connectors:BusinessCentral:WriteOffAccount is not set: a refund's written-off goods have no account to go to");
        }

        return new([.. memo.Lines.Select(l => (JsonNode)(l.Restock
            ? new JsonObject { ["lineType"] = "Item", ["lineObjectNumber"] = l.Sku, ["quantity"] = l.Quantity, ["unitPrice"] = l.UnitPrice }
            : new JsonObject
            {
                ["lineType"] = "Account", ["lineObjectNumber"] = writeOff, ["description"] = $"Write-off {l.Sku}",
                ["quantity"] = l.Quantity, ["unitPrice"] = l.UnitPrice,
            }))]);
    }

    private static JsonObject WithNumber(JsonObject fields, string number)
    {
        var copy = (JsonObject)fields.DeepClone();
        copy["number"] = number;
        return copy;
    }

    private static ErpCustomerRef ToCustomerRef(JsonObject c) => new(c["id"]!.GetValue<string>(), c["number"]!.GetValue<string>(),
        c["creditLimit"]?.GetValue<decimal>() ?? 0, c["blocked"]?.GetValue<string>() ?? " ");

    private static ErpSalesOrderRef ToRef(JsonObject o) => new(
        o["id"]!.GetValue<string>(), o["number"]!.GetValue<string>(), o["externalDocumentNumber"]?.GetValue<string>() ?? "",
        o["status"]?.GetValue<string>() ?? "", o["totalAmountIncludingTax"]?.GetValue<decimal>() ?? 0, o["@odata.etag"]!.GetValue<string>(), o);

    private async Task<JsonObject?> FirstAsync(string set, string filter, string? expand, CancellationToken cancellationToken)
    {
        var url = Company($"{set}?$filter={Uri.EscapeDataString(filter)}&$top=1" + (expand is null ? "" : "&$expand=" + expand));
        var list = await SendAsync(HttpMethod.Get, url, null, null, cancellationToken);
        return (list?["value"] as JsonArray)?.FirstOrDefault()?.AsObject();
    }

    private static JsonObject BatchRequest(string id, string method, string url, JsonObject? body)
    {
        var request = new JsonObject { ["method"] = method, ["id"] = id, ["url"] = url, ["headers"] = new JsonObject { ["Content-Type"] = "application/json" } };
        if (body is not null)
        {
            request["body"] = body;
        }

        return request;
    }

    private async Task<List<JsonObject>> BatchAsync(List<JsonObject> requests, CancellationToken cancellationToken)
    {
        var answer = await SendAsync(HttpMethod.Post, $"{options.CurrentValue.BusinessCentral.BaseUrl.TrimEnd('/')}/$batch",
            new JsonObject { ["requests"] = new JsonArray([.. requests]) }, null, cancellationToken);
        var responses = (answer?["responses"] as JsonArray ?? []).OfType<JsonObject>().ToDictionary(r => r["id"]!.GetValue<string>(), StringComparer.Ordinal);
        return [.. requests.Select(r => responses[r["id"]!.GetValue<string>()])];
    }

    private string CompanyRelative(string relative) => $"companies({options.CurrentValue.BusinessCentral.CompanyId})/{relative}";

    private string Company(string relative) => $"{options.CurrentValue.BusinessCentral.BaseUrl.TrimEnd('/')}/{CompanyRelative(relative)}";

    private static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>One call; a 401 with an app registration gets a new token and is sent once more, then counts as transient.</summary>
    private async Task<JsonNode?> SendAsync(HttpMethod method, string url, JsonObject? body, string? ifMatch, CancellationToken cancellationToken)
    {
        string? failed = null;
        for (var attempt = 1; ; attempt++)
        {
            var token = await tokens.TokenAsync(failed, cancellationToken);
            using var request = new HttpRequestMessage(method, url);
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            if (body is not null)
            {
                request.Content = JsonContent.Create(body);
            }

            if (ifMatch is not null)
            {
                request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
            }

            var response = await Transport.SendAsync(http, request, SystemName, cancellationToken);
            using (response)
            {
                var node = await Transport.ReadJsonAsync(response, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return node;
                }

                var status = (int)response.StatusCode;
                if (status == 401 && tokens.CanRenew)
                {
                    if (attempt == 1)
                    {
                        failed = token;
                        continue;
                    }

                    throw new ConnectorException(SystemName, FailureKind.Transient, "401", "Business Central refused a token Entra ID had just issued");
                }

                throw Error(status, node);
            }
        }
    }

    private static ConnectorException Error(int status, JsonNode? body) =>
        new(SystemName, ConnectorException.KindOf(status), body?["error"]?["code"]?.GetValue<string>() ?? status.ToString(CultureInfo.InvariantCulture),
            body?["error"]?["message"]?.GetValue<string>() ?? body?.ToJsonString() ?? "no body");
}
