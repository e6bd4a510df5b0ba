using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using RetailSync.Model;

namespace RetailSync.Shopify;

/// <summary>A payload that is valid JSON but not the shape its topic promises (e.g. no id to route by).</summary>
public sealed class ShopifyPayloadException(string message) : Exception(message);

/// <summary>
/// Tolerant readers for Shopify's REST-style webhook JSON: ids may be numbers or strings (and are
/// kept as their exact digits, never through double), money may be a string or a number, and any
/// field may be missing or null.
/// </summary>
internal static class ShopifyJson
{
    public static JsonElement? Get(this JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public static JsonElement? Obj(this JsonElement e, string name) =>
        e.Get(name) is { ValueKind: JsonValueKind.Object } v ? v : null;

    public static string? Id(this JsonElement e, string name) => e.Get(name) is { } v ? IdOf(v) : null;

    public static string RequiredId(this JsonElement e, string name, string what) =>
        e.Id(name) ?? throw new ShopifyPayloadException($"{what} has no '{name}'");

    private static string? IdOf(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Number when IsDigits(v.GetRawText()) => v.GetRawText(),
        JsonValueKind.Number => throw new ShopifyPayloadException($"id {v.GetRawText()} is not an integer"),
        JsonValueKind.String when v.GetString() is { Length: > 0 } s => Key(s.StartsWith("gid://", StringComparison.Ordinal) ? GidTail(s) : s),
        _ => null,
    };

    /// <summary>An id becomes a grain key and a database key: bounded, and without control characters (PostgreSQL stores no U+0000).</summary>
    private static string Key(string id) =>
        RetailSync.Gateway.Webhooks.EdgeRules.KeyProblem("id", id) is { } problem ? throw new ShopifyPayloadException($"{problem} ({id[..Math.Min(id.Length, 40)]}…)") : id;

    /// <summary>The numeric tail of a GraphQL global id, without any query string.</summary>
    public static string GidTail(string gid)
    {
        var path = gid.Split('?', 2)[0];
        return path[(path.LastIndexOf('/') + 1)..];
    }

    private static bool IsDigits(string s) => s.Length > 0 && s.All(char.IsAsciiDigit);

    public static string? Str(this JsonElement e, string name) => e.Get(name) switch
    {
        { ValueKind: JsonValueKind.String } v when v.GetString() is { Length: > 0 } s => s,
        { ValueKind: JsonValueKind.Number } v => v.GetRawText(),
        _ => null,
    };

    public static bool Bool(this JsonElement e, string name) =>
        e.Get(name) is { } v && (v.ValueKind == JsonValueKind.True || (v.ValueKind == JsonValueKind.String && v.GetString() == "true"));

    public static decimal? Dec(this JsonElement e, string name) => e.Get(name) is { } v ? DecOf(v) : null;

    private static decimal? DecOf(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Number when decimal.TryParse(v.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        JsonValueKind.Number => throw new ShopifyPayloadException($"{v.GetRawText()} is out of range for an amount"),
        JsonValueKind.String when decimal.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        JsonValueKind.String when string.IsNullOrEmpty(v.GetString()) => null,
        JsonValueKind.String => throw new ShopifyPayloadException($"'{v.GetString()}' is not an amount"),
        _ => null,
    };

    public static int Int(this JsonElement e, string name, int fallback = 0) => e.IntOrNull(name) ?? fallback;

    public static int? IntOrNull(this JsonElement e, string name) =>
        e.Get(name) is { } v && DecOf(v) is { } d ? d is >= int.MinValue and <= int.MaxValue ? (int)d : throw OutOfRange(name, d) : null;

    public static long? Long(this JsonElement e, string name) =>
        e.Get(name) is { } v && DecOf(v) is { } d ? d is >= long.MinValue and <= long.MaxValue ? (long)d : throw OutOfRange(name, d) : null;

    private static ShopifyPayloadException OutOfRange(string name, decimal value) => new($"'{name}' {value} is out of range");

    public static DateTimeOffset? Time(this JsonElement e, string name) =>
        e.Str(name) is { } s
            ? DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
                ? t
                : throw new ShopifyPayloadException($"'{name}' is not a timestamp: {s}")
            : null;

    /// <summary>
    /// An amount with its shop and presentment sides: from <c>{name}_set</c> when present, else from
    /// the plain field in the order's currency (older payloads and some numbers-only samples).
    /// </summary>
    public static MoneyBag Bag(this JsonElement e, string name, string currency, string? presentmentCurrency = null)
    {
        if (e.Obj(name + "_set") is { } set && set.Obj("shop_money") is { } shop)
        {
            var shopMoney = MoneyOf(shop, currency);
            var presentment = set.Obj("presentment_money") is { } p ? MoneyOf(p, presentmentCurrency ?? currency) : shopMoney;
            return new MoneyBag(shopMoney, presentment);
        }

        var amount = e.Dec(name) ?? 0m;
        return new MoneyBag(new Money(amount, currency), new Money(amount, presentmentCurrency ?? currency));
    }

    private static Money MoneyOf(JsonElement m, string fallbackCurrency) =>
        new(m.Dec("amount") ?? 0m, m.Str("currency_code") ?? m.Str("currency") ?? fallbackCurrency);

    public static ImmutableArray<T> Array<T>(this JsonElement e, string name, Func<JsonElement, T> map) =>
        e.Get(name) is { ValueKind: JsonValueKind.Array } a ? [.. a.EnumerateArray().Where(x => x.ValueKind != JsonValueKind.Null).Select(map)] : [];

    public static ImmutableArray<string> Ids(this JsonElement e, string name) =>
        e.Get(name) is { ValueKind: JsonValueKind.Array } a ? [.. a.EnumerateArray().Select(IdOf).OfType<string>()] : [];

    /// <summary>Shopify sends tags as one comma-separated string.</summary>
    public static ImmutableArray<string> Tags(this JsonElement e, string name) => e.Get(name) switch
    {
        { ValueKind: JsonValueKind.String } v => [.. (v.GetString() ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
        { ValueKind: JsonValueKind.Array } a => [.. a.EnumerateArray().Select(x => x.GetString()).OfType<string>()],
        _ => [],
    };
}
