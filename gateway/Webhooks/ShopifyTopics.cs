using System.Text.Json;
using RetailSync.Catalog;
using RetailSync.Customers;
using RetailSync.Intake;
using RetailSync.Orders;
using RetailSync.Refunds;
using RetailSync.Shopify;
using RetailSync.Shops;

namespace RetailSync.Gateway.Webhooks;

/// <summary>Which grain receives each Shopify topic, and the pure mapping that turns its payload into our model.</summary>
public static class ShopifyTopics
{
    public delegate Task<IntakeOutcome> Route(IGrainFactory grains, ShopifyDelivery delivery, JsonElement payload);

    private static readonly Dictionary<string, Route> Routes = new(StringComparer.Ordinal)
    {
        ["orders/create"] = ToOrder,
        ["orders/updated"] = ToOrder,
        ["orders/paid"] = ToOrder,
        ["orders/cancelled"] = ToCancelledOrder,
        ["orders/fulfilled"] = ToOrder,
        ["fulfillments/create"] = (g, d, p) =>
        {
            var fulfillment = ShopifyMapper.Fulfillment(p);
            return g.GetGrain<IOrderGrain>(EntityKeys.ForShop(d.Shop, fulfillment.OrderId)).ReceiveFulfillmentAsync(d, fulfillment);
        },
        ["refunds/create"] = (g, d, p) =>
        {
            var refund = ShopifyMapper.Refund(p);
            return g.GetGrain<IRefundGrain>(EntityKeys.ForShop(d.Shop, refund.RefundId)).ReceiveRefundAsync(d, refund);
        },
        ["returns/request"] = ToReturn,
        ["returns/approve"] = ToReturn,
        ["customers/create"] = (g, d, p) => ToCustomer(g, d, p, deleted: false),
        ["customers/update"] = (g, d, p) => ToCustomer(g, d, p, deleted: false),
        ["customers/delete"] = (g, d, p) => ToCustomer(g, d, p, deleted: true),
        ["inventory_levels/update"] = (g, d, p) =>
        {
            var level = ShopifyMapper.InventoryLevel(p);
            return g.GetGrain<IShopifyInventoryItemGrain>(EntityKeys.ForShop(d.Shop, level.InventoryItemId)).ReceiveLevelAsync(d, level);
        },
        ["inventory_items/update"] = (g, d, p) =>
        {
            var item = ShopifyMapper.InventoryItem(p);
            return g.GetGrain<IShopifyInventoryItemGrain>(EntityKeys.ForShop(d.Shop, item.InventoryItemId)).ReceiveItemAsync(d, item);
        },
        ["products/update"] = (g, d, p) =>
        {
            var product = ShopifyMapper.Product(p);
            return g.GetGrain<IShopifyProductGrain>(EntityKeys.ForShop(d.Shop, product.ProductId)).ReceiveAsync(d, product);
        },
        ["app/uninstalled"] = (g, d, p) =>
        {
            ShopifyMapper.ShopId(p);
            return g.GetGrain<IShopGrain>(d.Shop).UninstalledAsync(d);
        },
        ["customers/data_request"] = (g, d, p) => ToPrivacy(g, d, p, PrivacyRequestKind.DataRequest),
        ["customers/redact"] = (g, d, p) => ToPrivacy(g, d, p, PrivacyRequestKind.CustomerRedact),
        ["shop/redact"] = (g, d, p) => ToPrivacy(g, d, p, PrivacyRequestKind.ShopRedact),
    };

    public static bool TryGet(string topic, out Route route) => Routes.TryGetValue(topic, out route!);

    private static Task<IntakeOutcome> ToOrder(IGrainFactory grains, ShopifyDelivery delivery, JsonElement payload)
    {
        var order = ShopifyMapper.Order(payload);
        return grains.GetGrain<IOrderGrain>(EntityKeys.ForShop(delivery.Shop, order.OrderId)).ReceiveOrderAsync(delivery, order);
    }

    /// <summary>
    /// A cancellation may carry the refunds Shopify made with it: each starts its refund's saga too, with a
    /// delivery key of its own, so a retried delivery (or the refund's own refunds/create) applies it once.
    /// </summary>
    private static async Task<IntakeOutcome> ToCancelledOrder(IGrainFactory grains, ShopifyDelivery delivery, JsonElement payload)
    {
        var outcome = await ToOrder(grains, delivery, payload);
        if (payload.TryGetProperty("refunds", out var refunds) && refunds.ValueKind == JsonValueKind.Array)
        {
            foreach (var element in refunds.EnumerateArray())
            {
                var refund = ShopifyMapper.Refund(element);
                await grains.GetGrain<IRefundGrain>(EntityKeys.ForShop(delivery.Shop, refund.RefundId))
                    .ReceiveRefundAsync(delivery with { EventId = $"{delivery.DedupeKey}/refund/{refund.RefundId}", WebhookId = null }, refund);
            }
        }

        return outcome;
    }

    private static Task<IntakeOutcome> ToReturn(IGrainFactory grains, ShopifyDelivery delivery, JsonElement payload)
    {
        var @return = ShopifyMapper.Return(payload);
        return grains.GetGrain<IRefundGrain>(EntityKeys.ReturnKey(delivery.Shop, @return.ReturnId)).ReceiveReturnAsync(delivery, @return);
    }

    private static Task<IntakeOutcome> ToCustomer(IGrainFactory grains, ShopifyDelivery delivery, JsonElement payload, bool deleted)
    {
        var customer = ShopifyMapper.Customer(payload);
        return grains.GetGrain<IShopifyCustomerGrain>(EntityKeys.ForShop(delivery.Shop, customer.CustomerId)).ReceiveAsync(delivery, customer, deleted);
    }

    private static Task<IntakeOutcome> ToPrivacy(IGrainFactory grains, ShopifyDelivery delivery, JsonElement payload, PrivacyRequestKind kind) =>
        grains.GetGrain<IShopGrain>(delivery.Shop).PrivacyRequestAsync(delivery, ShopifyMapper.PrivacyRequest(kind, payload));
}
