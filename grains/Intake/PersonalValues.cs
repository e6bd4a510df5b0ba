namespace RetailSync.Intake;

/// <summary>Masking a person's values wherever they were copied into text (payloads, vendor messages).</summary>
public static class PersonalValues
{
    public const string Mask = "[redacted]";

    /// <summary>The values worth masking: two characters or fewer match too much that is not the person's.</summary>
    public static IReadOnlyList<string> Of(IEnumerable<string?> values) =>
        [.. values.OfType<string>().Where(v => v.Length > 2).Distinct(StringComparer.OrdinalIgnoreCase).OrderByDescending(v => v.Length)];

    /// <summary>The text with every value replaced by <see cref="Mask"/> (longest first, so a name inside an email goes with it).</summary>
    public static string MaskIn(string text, IReadOnlyList<string> values)
    {
        foreach (var value in values)
        {
            text = text.Replace(value, Mask, StringComparison.OrdinalIgnoreCase);
        }

        return text;
    }
}
