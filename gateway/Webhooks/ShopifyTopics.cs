using System.Text.Json;
using RetailSync.Catalog;
using RetailSync.Customers;
using RetailSync.Intake;
using RetailSync.Orders;
using RetailSync.Refunds;
using RetailSync.Shopify;
using RetailSync.Shops;

namespace RetailSync.Gateway.Webhooks;

/// <summary>
/// Which grain receives each Shopify topic, and the pure mapping that turns its payload into our model.
/// A route maps at once (a payload that cannot be mapped throws <see cref="ShopifyPayloadException"/>
/// before anything is recorded) and returns the grain call to make, which holds no reference to the
/// JSON: the webhook inbox calls it after the body's document is gone.
/// </summary>
public static class ShopifyTopics
{
    public delegate Task<IntakeOutcome> Apply(IGrainFactory grains);

    public delegate Apply Route(ShopifyDelivery delivery, JsonElement payload);

    private static readonly Dictionary<string, Route> Routes = new(StringComparer.Ordinal)
    {
        ["orders/create"] = ToOrder,
        ["orders/updated"] = ToOrder,
        ["orders/paid"] = ToOrder,
        ["orders/cancelled"] = ToCancelledOrder,
        ["orders/fulfilled"] = ToOrder,
        ["fulfillments/create"] = (d, p) =>
        {
            var fulfillment = ShopifyMapper.Fulfillment(p);
            return g => g.GetGrain<IOrderGrain>(EntityKeys.ForShop(d.Shop, fulfillment.OrderId)).ReceiveFulfillmentAsync(d, fulfillment);
        },
        ["refunds/create"] = (d, p) =>
        {
            var refund = ShopifyMapper.Refund(p);
            return g => g.GetGrain<IRefundGrain>(EntityKeys.ForShop(d.Shop, refund.RefundId)).ReceiveRefundAsync(d, refund);
        },
        ["returns/request"] = ToReturn,
        ["returns/approve"] = ToReturn,
        ["customers/create"] = (d, p) => ToCustomer(d, p, deleted: false),
        ["customers/update"] = (d, p) => ToCustomer(d, p, deleted: false),
        ["customers/delete"] = (d, p) => ToCustomer(d, p, deleted: true),
        ["inventory_levels/update"] = (d, p) =>
        {
            var level = ShopifyMapper.InventoryLevel(p);
            return g => g.GetGrain<IShopifyInventoryItemGrain>(EntityKeys.ForShop(d.Shop, level.InventoryItemId)).ReceiveLevelAsync(d, level);
        },
        ["inventory_items/update"] = (d, p) =>
        {
            var item = ShopifyMapper.InventoryItem(p);
            return g => g.GetGrain<IShopifyInventoryItemGrain>(EntityKeys.ForShop(d.Shop, item.InventoryItemId)).ReceiveItemAsync(d, item);
        },
        ["products/update"] = (d, p) =>
        {
            var product = ShopifyMapper.Product(p);
            return g => g.GetGrain<IShopifyProductGrain>(EntityKeys.ForShop(d.Shop, product.ProductId)).ReceiveAsync(d, product);
        },
        ["app/uninstalled"] = (d, p) =>
        {
            ShopifyMapper.ShopId(p);
            return g => g.GetGrain<IShopGrain>(d.Shop).UninstalledAsync(d);
        },
        ["customers/data_request"] = (d, p) => ToPrivacy(d, p, PrivacyRequestKind.DataRequest),
        ["customers/redact"] = (d, p) => ToPrivacy(d, p, PrivacyRequestKind.CustomerRedact),
        ["shop/redact"] = (d, p) => ToPrivacy(d, p, PrivacyRequestKind.ShopRedact),
    };

    public static bool TryGet(string topic, out Route route) => Routes.TryGetValue(topic, out route!);

    private static Apply ToOrder(ShopifyDelivery delivery, JsonElement payload)
    {
        var order = ShopifyMapper.Order(payload);
        return g => g.GetGrain<IOrderGrain>(EntityKeys.ForShop(delivery.Shop, order.OrderId)).ReceiveOrderAsync(delivery, order);
    }

    /// <summary>
    /// A cancellation may carry the refunds Shopify made with it: each starts its refund's saga too, with a
    /// delivery key of its own, so a retried delivery (or the refund's own refunds/create) applies it once.
    /// </summary>
    private static Apply ToCancelledOrder(ShopifyDelivery delivery, JsonElement payload)
    {
        var order = ToOrder(delivery, payload);
        var refunds = payload.TryGetProperty("refunds", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Select(ShopifyMapper.Refund).ToList()
            : [];
        return async g =>
        {
            var outcome = await order(g);
            foreach (var refund in refunds)
            {
                await g.GetGrain<IRefundGrain>(EntityKeys.ForShop(delivery.Shop, refund.RefundId))
                    .ReceiveRefundAsync(delivery with { EventId = $"{delivery.DedupeKey}/refund/{refund.RefundId}", WebhookId = null }, refund);
            }

            return outcome;
        };
    }

    private static Apply ToReturn(ShopifyDelivery delivery, JsonElement payload)
    {
        var @return = ShopifyMapper.Return(payload);
        return g => g.GetGrain<IRefundGrain>(EntityKeys.ReturnKey(delivery.Shop, @return.ReturnId)).ReceiveReturnAsync(delivery, @return);
    }

    private static Apply ToCustomer(ShopifyDelivery delivery, JsonElement payload, bool deleted)
    {
        var customer = ShopifyMapper.Customer(payload);
        return g => g.GetGrain<IShopifyCustomerGrain>(EntityKeys.ForShop(delivery.Shop, customer.CustomerId)).ReceiveAsync(delivery, customer, deleted);
    }

    /// <summary>
    /// Privacy requests erase data, and the topic header is not signed: the body must be one Shopify sends for
    /// this shop (its <c>shop_domain</c>, a <c>shop_id</c>) and, for a person, name that person.
    /// </summary>
    private static Apply ToPrivacy(ShopifyDelivery delivery, JsonElement payload, PrivacyRequestKind kind)
    {
        if (!string.Equals(payload.Str("shop_domain"), delivery.Shop, StringComparison.OrdinalIgnoreCase) || payload.Id("shop_id") is null)
        {
            throw new ShopifyPayloadException($"a privacy request must name this shop: shop_domain {delivery.Shop} and its shop_id");
        }

        if (kind != PrivacyRequestKind.ShopRedact && payload.Obj("customer")?.Id("id") is null)
        {
            throw new ShopifyPayloadException("a customer's privacy request must name the customer (customer.id)");
        }

        var request = ShopifyMapper.PrivacyRequest(kind, payload);
        return g => g.GetGrain<IShopGrain>(delivery.Shop).PrivacyRequestAsync(delivery, request);
    }
}
