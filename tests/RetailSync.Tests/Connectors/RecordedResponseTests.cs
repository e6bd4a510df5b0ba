using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using RetailSync.Connectors;
using RetailSync.Connectors.BusinessCentral;
using RetailSync.Connectors.Salesforce;
using RetailSync.Connectors.Shopify;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Connectors;

/// <summary>
/// Each adapter against vendor-shaped answers recorded from the vendors' documentation (see
/// notes on the shapes in each test): success, throttled, validation error, server error, timeout.
/// </summary>
public sealed class RecordedResponseTests
{
    private static readonly IOptionsMonitor<ConnectorOptions> Options = new StaticOptions<ConnectorOptions>(new ConnectorOptions
    {
        Shopify = { Endpoint = "https://{shop}", AccessToken = "t" },
        Salesforce = { InstanceUrl = "https://acme.my.salesforce.com", AccessToken = "t" },
        BusinessCentral = { BaseUrl = "https://api.businesscentral.dynamics.com/v2.0/production/api/v2.0", CompanyId = Guid.Parse("9f3c1a52-6d0e-4b8a-9a61-0c2f6d1e7a10"), AccessToken = "t" },
    });

    private const string Cost = "\"extensions\":{\"cost\":{\"requestedQueryCost\":10,\"actualQueryCost\":10,\"throttleStatus\":{\"maximumAvailable\":2000.0,\"currentlyAvailable\":1990,\"restoreRate\":100.0}}}";

    private static string Data(string data) => "{\"data\":" + data + "," + Cost + "}";

    private static (ShopifyAdminClient Client, Recorded Handler) Shopify(params Func<HttpResponseMessage>[] answers)
    {
        var handler = new Recorded(answers);
        var http = new HttpClient(handler);
        var clock = new FakeTimeProviderThatRuns();
        return (new ShopifyAdminClient(http, Options, new ShopifyTokens(http, Options, clock), clock, NullLogger<ShopifyAdminClient>.Instance), handler);
    }

    private static (SalesforceClient Client, Recorded Handler) Salesforce(params Func<HttpResponseMessage>[] answers)
    {
        var handler = new Recorded(answers);
        var http = new HttpClient(handler);
        return (new SalesforceClient(http, Options, new SalesforceSession(http, Options), NullLogger<SalesforceClient>.Instance), handler);
    }

    private static (BusinessCentralClient Client, Recorded Handler) BusinessCentral(params Func<HttpResponseMessage>[] answers)
    {
        var handler = new Recorded(answers);
        return (new BusinessCentralClient(new HttpClient(handler), Options, new BusinessCentralTokens(Options)), handler);
    }

    private static Func<HttpResponseMessage> Json(HttpStatusCode status, string body, params (string, string)[] headers) => () =>
    {
        var response = new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        foreach (var (name, value) in headers)
        {
            response.Headers.TryAddWithoutValidation(name, value);
        }

        return response;
    };

    private static Func<HttpResponseMessage> TimedOut() => () => throw new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout", new TimeoutException());

    [Fact]
    public async Task shopify_success_sends_the_documented_request()
    {
        var (client, handler) = Shopify(Json(HttpStatusCode.OK, Data("""{"tagsAdd":{"node":{"id":"gid://shopify/Order/1"},"userErrors":[]}}""")));
        await client.AddOrderTagsAsync("acme.myshopify.com", "1", ["a"]);
        var request = Assert.Single(handler.Requests);
        Assert.Equal("https://acme.myshopify.com/admin/api/2026-01/graphql.json", request.Url);
        Assert.Equal("t", request.Headers["X-Shopify-Access-Token"]);
        Assert.Contains("tagsAdd(id: $id, tags: $tags)", request.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task shopify_throttled_is_waited_out_and_retried()
    {
        var (client, handler) = Shopify(
            Json(HttpStatusCode.OK, """{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED","documentation":"https://shopify.dev/api/usage/rate-limits"}}],"extensions":{"cost":{"requestedQueryCost":10,"actualQueryCost":null,"throttleStatus":{"maximumAvailable":1000.0,"currentlyAvailable":6,"restoreRate":50.0}}}}"""),
            Json(HttpStatusCode.OK, Data("""{"tagsAdd":{"node":{"id":"gid://shopify/Order/1"},"userErrors":[]}}""")));
        await client.AddOrderTagsAsync("acme.myshopify.com", "1", ["a"]);
        Assert.Equal(2, handler.Requests.Count);
    }

    [Fact]
    public async Task shopify_user_errors_are_permanent_and_stale_inventory_is_an_outcome()
    {
        var (client, _) = Shopify(
            Json(HttpStatusCode.OK, Data("""{"inventorySetQuantities":{"inventoryAdjustmentGroup":null,"userErrors":[{"code":"INVALID_REASON","field":["input","reason"],"message":"The specified reason is invalid."}]}}""")),
            Json(HttpStatusCode.OK, Data("""{"inventorySetQuantities":{"inventoryAdjustmentGroup":null,"userErrors":[{"code":"CHANGE_FROM_QUANTITY_STALE","field":["input","quantities","0","changeFromQuantity"],"message":"The changeFromQuantity value does not match persisted value."}]}}""")));
        var invalid = await Assert.ThrowsAsync<ConnectorException>(() => client.SetAvailableAsync("s", "1", "2", 3, 4, "k"));
        Assert.Equal((FailureKind.Permanent, "INVALID_REASON"), (invalid.Kind, invalid.VendorCode));
        Assert.Equal(InventorySetOutcome.Stale, await client.SetAvailableAsync("s", "1", "2", 3, 4, "k2"));
    }

    [Fact]
    public async Task shopify_server_errors_and_timeouts_are_transient()
    {
        var (client, _) = Shopify(Json(HttpStatusCode.InternalServerError, """{"errors":"Internal Server Error"}"""), TimedOut());
        Assert.Equal(FailureKind.Transient, (await Assert.ThrowsAsync<ConnectorException>(() => client.AddOrderTagsAsync("s", "1", ["a"]))).Kind);
        Assert.Equal(FailureKind.Transient, (await Assert.ThrowsAsync<ConnectorException>(() => client.AddOrderTagsAsync("s", "1", ["a"]))).Kind);
    }

    [Fact]
    public async Task salesforce_success_throttled_validation_server_error_and_timeout()
    {
        var (client, handler) = Salesforce(
            Json(HttpStatusCode.OK, """[{"id":"003Hs00000Abc12IAB","success":true,"errors":[],"created":true},{"id":null,"success":false,"created":false,"errors":[{"statusCode":"REQUIRED_FIELD_MISSING","message":"Required fields are missing: [LastName]","fields":["LastName"]}]}]""", ("Sforce-Limit-Info", "api-usage=10018/100000")),
            Json(HttpStatusCode.Forbidden, """[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"""),
            Json(HttpStatusCode.BadRequest, """[{"message":"Email is required for loyalty members","errorCode":"FIELD_CUSTOM_VALIDATION_EXCEPTION","fields":["Email"]}]"""),
            Json(HttpStatusCode.ServiceUnavailable, """[{"message":"Service Unavailable","errorCode":"SERVER_UNAVAILABLE"}]"""),
            TimedOut());
        var results = await client.UpsertAsync("Contact", "RetailSync_Id__c", [new JsonObject { ["RetailSync_Id__c"] = "a", ["LastName"] = "A" }, new JsonObject { ["RetailSync_Id__c"] = "b" }]);
        Assert.True(results[0].Created);
        Assert.Equal("REQUIRED_FIELD_MISSING", results[1].ErrorCode);
        Assert.Equal((10018L, 100000L), client.ApiUsage);
        Assert.Equal(HttpMethod.Patch.Method, handler.Requests[0].Method);
        Assert.EndsWith("/services/data/v62.0/composite/sobjects/Contact/RetailSync_Id__c", handler.Requests[0].Url, StringComparison.Ordinal);
        Assert.Contains("\"allOrNone\":false", handler.Requests[0].Body, StringComparison.Ordinal);
        Assert.Contains("\"attributes\":{\"type\":\"Contact\"}", handler.Requests[0].Body, StringComparison.Ordinal);

        var throttled = await Assert.ThrowsAsync<ConnectorException>(() => client.CreateAsync("Case", []));
        Assert.Equal((FailureKind.Transient, "REQUEST_LIMIT_EXCEEDED"), (throttled.Kind, throttled.VendorCode));
        var invalid = await Assert.ThrowsAsync<ConnectorException>(() => client.CreateAsync("Case", []));
        Assert.Equal((FailureKind.Permanent, "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Email is required for loyalty members"), (invalid.Kind, invalid.VendorCode, invalid.VendorMessage));
        Assert.Equal(FailureKind.Transient, (await Assert.ThrowsAsync<ConnectorException>(() => client.CreateAsync("Case", []))).Kind);
        Assert.Equal(FailureKind.Transient, (await Assert.ThrowsAsync<ConnectorException>(() => client.CreateAsync("Case", []))).Kind);
    }

    [Fact]
    public async Task business_central_success_throttled_conflict_validation_server_error_and_timeout()
    {
        const string Order = """{"@odata.etag":"W/\"JzE5OzE2NTc1MzQ1MjgzMzQ2MzQwNDkxOzAwOyc=\"","id":"b6f4017a-0000-0000-0000-000000000001","number":"S-ORD101005","externalDocumentNumber":"SHOP-1001","status":"Open","totalAmountIncludingTax":398}""";
        var (client, handler) = BusinessCentral(
            Json(HttpStatusCode.OK, "{\"value\":[" + Order + "]}"),
            Json(HttpStatusCode.TooManyRequests, """{"error":{"code":"Application_TooManyRequests","message":"Too many requests reached.  CorrelationId:  1."}}"""),
            Json(HttpStatusCode.OK, "{\"value\":[" + Order + "]}"),
            Json(HttpStatusCode.Conflict, """{"error":{"code":"Request_EntityChanged","message":"Another user has already changed the record.  CorrelationId:  2."}}"""),
            Json(HttpStatusCode.OK, "{\"value\":[" + Order + "]}"),
            Json(HttpStatusCode.OK, Order),
            Json(HttpStatusCode.OK, """{"value":[]}"""),
            Json(HttpStatusCode.BadRequest, """{"error":{"code":"Application_DialogException","message":"A customerNumber or a customerID must be provided.  CorrelationId:  3."}}"""),
            Json(HttpStatusCode.InternalServerError, """{"error":{"code":"Internal_ServerError","message":"x"}}"""),
            TimedOut());

        Assert.Equal("S-ORD101005", (await client.SubmitSalesOrderAsync(new ErpSalesOrder("SHOP-1001", "C1", new DateOnly(2026, 1, 1), "USD", []))).Number);
        var throttled = await Assert.ThrowsAsync<ConnectorException>(() => client.FindSalesOrderAsync("SHOP-1001"));
        Assert.Equal((FailureKind.Transient, "Application_TooManyRequests"), (throttled.Kind, throttled.VendorCode));

        var updated = await client.UpdateSalesOrderAsync("SHOP-1001", _ => new JsonObject { ["shipToName"] = "x" });
        Assert.Equal("S-ORD101005", updated.Number);
        var patches = handler.Requests.Where(r => r.Method == "PATCH").ToList();
        Assert.Equal(2, patches.Count);
        Assert.All(patches, p => Assert.Equal("W/\"JzE5OzE2NTc1MzQ1MjgzMzQ2MzQwNDkxOzAwOyc=\"", p.Headers["If-Match"]));

        var invalid = await Assert.ThrowsAsync<ConnectorException>(() => client.SubmitSalesOrderAsync(new ErpSalesOrder("SHOP-2", "", new DateOnly(2026, 1, 1), "USD", [])));
        Assert.Equal((FailureKind.Permanent, "Application_DialogException"), (invalid.Kind, invalid.VendorCode));
        Assert.Equal(FailureKind.Transient, (await Assert.ThrowsAsync<ConnectorException>(() => client.FindSalesOrderAsync("x"))).Kind);
        Assert.Equal(FailureKind.Transient, (await Assert.ThrowsAsync<ConnectorException>(() => client.FindSalesOrderAsync("x"))).Kind);
    }

    [Fact]
    public async Task an_unconfigured_connector_refuses_without_calling_anywhere()
    {
        var empty = new StaticOptions<ConnectorOptions>(new ConnectorOptions());
        var handler = new Recorded([]);
        var shopify = new ShopifyAdminClient(new HttpClient(handler), empty, new ShopifyTokens(new HttpClient(handler), empty, TimeProvider.System), TimeProvider.System, NullLogger<ShopifyAdminClient>.Instance);
        var crm = new SalesforceClient(new HttpClient(handler), empty, new SalesforceSession(new HttpClient(handler), empty), NullLogger<SalesforceClient>.Instance);
        var erp = new BusinessCentralClient(new HttpClient(handler), empty, new BusinessCentralTokens(empty));

        foreach (var call in new Func<Task>[] { () => shopify.AddOrderTagsAsync("s", "1", ["a"]), () => crm.QueryAsync("SELECT Id FROM Contact"), () => erp.FindSalesOrderAsync("1") })
        {
            var ex = await Assert.ThrowsAsync<ConnectorException>(call);
            Assert.Equal((FailureKind.Permanent, "NOT_CONFIGURED"), (ex.Kind, ex.VendorCode));
        }

        Assert.Empty(handler.Requests);
    }

    private sealed class Recorded(Func<HttpResponseMessage>[] answers) : HttpMessageHandler
    {
        private int next;

        public List<(string Method, string Url, string Body, Dictionary<string, string> Headers)> Requests { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
            Requests.Add((request.Method.Method, request.RequestUri!.ToString(), body, request.Headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value))));
            return answers[next++]();
        }
    }


    /// <summary>A fake clock whose delays complete at once by advancing it: throttling waits cost no test time.</summary>
    private sealed class FakeTimeProviderThatRuns : TimeProvider
    {
        private readonly FakeTimeProvider fake = new(DateTimeOffset.UtcNow);

        public override DateTimeOffset GetUtcNow() => fake.GetUtcNow();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = fake.CreateTimer(callback, state, dueTime, period);
            if (dueTime > TimeSpan.Zero && dueTime != Timeout.InfiniteTimeSpan)
            {
                fake.Advance(dueTime);
            }

            return timer;
        }
    }
}
