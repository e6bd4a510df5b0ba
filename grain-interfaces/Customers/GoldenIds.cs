using System.Security.Cryptography;

namespace RetailSync.Customers;

/// <summary>
/// Golden ids: "G" and 16 Crockford base-32 characters (48 bits of milliseconds, 32 random bits), so they
/// sort by creation time (the older customer survives a merge) and fit a Business Central customer number (20).
/// </summary>
public static class GoldenIds
{
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    /// <summary>Whether <paramref name="value"/> has the shape of a golden id (an ERP customer number we gave).</summary>
    public static bool IsGolden(string? value) =>
        value is { Length: 17 } && value[0] == 'G' && value.AsSpan(1).IndexOfAnyExcept(Alphabet) < 0;

    public static string New(TimeProvider? clock = null)
    {
        var ms = (ulong)(clock ?? TimeProvider.System).GetUtcNow().ToUnixTimeMilliseconds();
        var random = (ulong)RandomNumberGenerator.GetInt32(int.MaxValue) << 1 | (uint)RandomNumberGenerator.GetInt32(2);
        var high = ms << 16 | random >> 16;
        var low = random & 0xFFFF;
        Span<char> text = stackalloc char[17];
        text[0] = 'G';
        // 80 bits as 16 characters of 5 bits, most significant first.
        for (var i = 0; i < 16; i++)
        {
            var shift = 75 - (5 * i);
            var bits = shift >= 16 ? (high >> (shift - 16)) & 31 : ((high << (16 - shift)) | (low >> shift)) & 31;
            text[i + 1] = Alphabet[(int)bits];
        }

        return new string(text);
    }
}
