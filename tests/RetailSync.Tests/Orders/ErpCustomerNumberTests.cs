using CsCheck;
using RetailSync.Orders;

namespace RetailSync.Tests.Orders;

/// <summary>ERP customer numbers made from Shopify ids fit Business Central's Code[20] and stay one per source.</summary>
public sealed class ErpCustomerNumberTests
{
    [Theory]
    [InlineData("115310627314723950", "SH-VJE7EVZ0LM6")]
    [InlineData("0", "SH-0")]
    [InlineData("35", "SH-Z")]
    [InlineData("36", "SH-10")]
    [InlineData("18446744073709551615", "SH-3W5E11264SGSF")]
    public void a_numeric_shopify_id_is_written_in_base_36_after_sh(string id, string number) =>
        Assert.Equal(number, OrderPropagation.ShopifyCustomerNumber(id));

    [Fact]
    public void every_numeric_id_gets_its_own_number_of_at_most_20_characters() =>
        Gen.ULong.Select(Gen.ULong).Where(p => p.Item1 != p.Item2).Sample(pair =>
        {
            var (a, b) = (OrderPropagation.ShopifyCustomerNumber(pair.Item1.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                OrderPropagation.ShopifyCustomerNumber(pair.Item2.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            return a.Length <= OrderPropagation.MaxCustomerNumber && b.Length <= OrderPropagation.MaxCustomerNumber && a != b;
        });

    [Theory]
    [InlineData("sandbox.myshopify.com", "WEB-SANDBOX")]
    [InlineData("sixteen-chars-ab.myshopify.com", "WEB-SIXTEEN-CHARS-AB")]
    public void a_short_shop_name_is_kept_whole_for_its_web_guests(string shop, string number) =>
        Assert.Equal(number, OrderPropagation.WebGuestsNumber(shop));

    [Fact]
    public void long_names_are_cut_with_a_hash_so_two_long_shops_with_one_prefix_stay_apart()
    {
        var first = OrderPropagation.WebGuestsNumber("the-very-long-outdoor-store-eu.myshopify.com");
        var second = OrderPropagation.WebGuestsNumber("the-very-long-outdoor-store-us.myshopify.com");
        Assert.Equal(20, first.Length);
        Assert.StartsWith("WEB-THE-VERY-", first, StringComparison.Ordinal);
        Assert.Equal('-', first[13]);
        Assert.NotEqual(first, second);
        Assert.Equal(first, OrderPropagation.WebGuestsNumber("the-very-long-outdoor-store-eu.myshopify.com"));
        var other = OrderPropagation.ShopifyCustomerNumber("gid-not-a-number-0123456789");
        Assert.Equal(20, other.Length);
        Assert.StartsWith("SH-GID-NOT-A", other, StringComparison.Ordinal);
        Assert.Equal("SH-GID-SHORT", OrderPropagation.ShopifyCustomerNumber("gid-short"));
    }
}
