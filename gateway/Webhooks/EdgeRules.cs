namespace RetailSync.Gateway.Webhooks;

/// <summary>
/// What a caller's keys and times may be, checked before anything is recorded: a key becomes part of a
/// grain's identity, a database key and a dedupe key, so an overlong one breaks the inbox's batched insert
/// and a control character (U+0000) cannot be stored by PostgreSQL at all; a time far in the future would
/// make that source's values win every later comparison.
/// </summary>
public static class EdgeRules
{
    public const int MaxKeyLength = 256;

    /// <summary>How far ahead of our clock a caller's timestamp may be (clock skew), and no further.</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(10);

    /// <summary>Why <paramref name="value"/> is not an acceptable key, or null (absent keys are the caller's rule to require).</summary>
    public static string? KeyProblem(string name, string? value) => value switch
    {
        null => null,
        { Length: > MaxKeyLength } => $"{name} is longer than {MaxKeyLength} characters.",
        _ when value.Any(char.IsControl) => $"{name} contains a control character.",
        _ => null,
    };

    public static string? FirstKeyProblem(params (string Name, string? Value)[] keys) =>
        keys.Select(k => KeyProblem(k.Name, k.Value)).FirstOrDefault(p => p is not null);

    public static string? TimeProblem(string name, DateTimeOffset? value, DateTimeOffset now) =>
        value > now + MaxClockSkew ? $"{name} {value:O} is in the future." : null;
}
