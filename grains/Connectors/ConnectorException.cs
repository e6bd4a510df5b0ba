namespace RetailSync.Connectors;

public enum FailureKind
{
    /// <summary>Worth retrying later: throttling, outages, timeouts, lock contention.</summary>
    Transient,

    /// <summary>The vendor refused the content: retrying the same request cannot succeed until something is fixed.</summary>
    Permanent,

    /// <summary>Optimistic concurrency: the record changed since it was read; re-read and decide again.</summary>
    Conflict,
}

/// <summary>A vendor call that failed, classified for the caller and carrying the vendor's own code and message.</summary>
public sealed class ConnectorException(string system, FailureKind kind, string? vendorCode, string message, Exception? inner = null)
    : Exception($"{system}: {vendorCode ?? "error"}: {message}", inner)
{
    public string System { get; } = system;

    public FailureKind Kind { get; } = kind;

    public string? VendorCode { get; } = vendorCode;

    public string VendorMessage { get; } = message;

    /// <summary>Classifies an HTTP status the way design section 6 says: 408/429/5xx transient, 409 conflict, other 4xx permanent.</summary>
    public static FailureKind KindOf(int status) => status switch
    {
        408 or 429 or >= 500 => FailureKind.Transient,
        409 or 412 => FailureKind.Conflict,
        _ => FailureKind.Permanent,
    };
}
