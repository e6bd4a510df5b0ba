namespace RetailSync.Intake;

/// <summary>Grain keys: natural external ids prefixed by the shop or tenant that owns them.</summary>
public static class EntityKeys
{
    public static string ForShop(string shop, string id) => $"{shop.ToLowerInvariant()}/{id}";

    public static string ReturnKey(string shop, string returnId) => ForShop(shop, "return-" + returnId);

    public static (string Scope, string Id) Split(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? ("", key) : (key[..slash], key[(slash + 1)..]);
    }
}
