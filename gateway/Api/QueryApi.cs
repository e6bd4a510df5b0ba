using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using RetailSync.Catalog;
using RetailSync.Customers;
using RetailSync.Intake;
using RetailSync.Inventory;
using RetailSync.Model;
using RetailSync.Orders;
using RetailSync.Refunds;
using RetailSync.Shops;

namespace RetailSync.Gateway.Api;

/// <summary>Read side of the contract: "where is this order?" and friends, one grain call each.</summary>
public static class QueryApi
{
    public static IEndpointRouteBuilder MapQueryApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").AddEndpointFilter<ApiKeyFilter>();
        api.MapGet("/orders/{shop}/{orderId}", async Task<Results<Ok<OrderView>, ProblemHttpResult>> (string shop, string orderId, IClusterClient grains) =>
            Found(await grains.GetGrain<IOrderGrain>(EntityKeys.ForShop(shop, orderId)).GetAsync(), $"order {orderId} of {shop}"));
        api.MapGet("/refunds/{shop}/{refundId}", async Task<Results<Ok<RefundView>, ProblemHttpResult>> (string shop, string refundId, IClusterClient grains) =>
            Found(await grains.GetGrain<IRefundGrain>(EntityKeys.ForShop(shop, refundId)).GetAsync(), $"refund {refundId} of {shop}"));
        // Before the per-SKU route: "drift" is the tenant's last ERP-vs-Shopify comparison, not a SKU.
        api.MapGet("/inventory/{tenant}/drift", async Task<Results<Ok<DriftReport>, ProblemHttpResult>> (string tenant, IClusterClient grains) =>
            Found(await grains.GetGrain<IDriftCheckGrain>(tenant).LastAsync(), $"a drift check of {tenant}"));
        api.MapGet("/inventory/{tenant}/{sku}", async Task<Results<Ok<SkuView>, ProblemHttpResult>> (string tenant, string sku, IClusterClient grains) =>
            Found(await grains.GetGrain<ISkuGrain>(EntityKeys.ForShop(tenant, sku)).GetAsync(), $"SKU {sku} of {tenant}"));
        api.MapGet("/returns/{shop}/{returnId}", async Task<Results<Ok<RefundView>, ProblemHttpResult>> (string shop, string returnId, IClusterClient grains) =>
            Found(await grains.GetGrain<IRefundGrain>(EntityKeys.ReturnKey(shop, returnId)).GetAsync(), $"return {returnId} of {shop}"));
        api.MapGet("/shops/{shop}", async (string shop, IClusterClient grains) =>
            TypedResults.Ok(await grains.GetGrain<IShopGrain>(shop.ToLowerInvariant()).GetAsync()));
        // A customers/data_request answered: the person's data as held now, as a file to hand to the shop.
        api.MapGet("/shops/{shop}/data-requests/{dataRequestId}", async Task<Results<Ok<PersonalDataDocument>, ProblemHttpResult>> (
            string shop, string dataRequestId, HttpResponse response, IClusterClient grains) =>
        {
            var document = await grains.GetGrain<IShopGrain>(shop.ToLowerInvariant()).DataRequestDocumentAsync(dataRequestId);
            if (document is not null)
            {
                var name = dataRequestId.All(char.IsAsciiLetterOrDigit) ? $"data-request-{dataRequestId}.json" : "data-request.json";
                response.Headers.ContentDisposition = $"attachment; filename=\"{name}\"";
                response.Headers.CacheControl = "no-store";
            }

            return Found(document, $"data request {dataRequestId} of {shop}");
        });

        var shopify = api.MapGroup("/sources/shopify/{shop}");
        shopify.MapGet("/customers/{customerId}", async Task<Results<Ok<ShopifyCustomerView>, ProblemHttpResult>> (string shop, string customerId, IClusterClient grains) =>
            Found(await grains.GetGrain<IShopifyCustomerGrain>(EntityKeys.ForShop(shop, customerId)).GetAsync(), $"Shopify customer {customerId} of {shop}"));
        shopify.MapGet("/products/{productId}", async Task<Results<Ok<Product>, ProblemHttpResult>> (string shop, string productId, IClusterClient grains) =>
            Found(await grains.GetGrain<IShopifyProductGrain>(EntityKeys.ForShop(shop, productId)).GetAsync(), $"product {productId} of {shop}"));
        shopify.MapGet("/inventory-items/{itemId}", async (string shop, string itemId, IClusterClient grains) =>
            TypedResults.Ok(await grains.GetGrain<IShopifyInventoryItemGrain>(EntityKeys.ForShop(shop, itemId)).GetAsync()));
        return app;
    }

    private static Results<Ok<T>, ProblemHttpResult> Found<T>(T? value, string what) where T : class =>
        value is null
            ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"No {what} is known.")
            : TypedResults.Ok(value);
}
