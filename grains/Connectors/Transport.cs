namespace RetailSync.Connectors;

internal static class Transport
{
    /// <summary>
    /// Sends through the system's pipeline; what never got an answer (network errors, timeouts, an open
    /// circuit) is a transient failure. The caller's own cancellation still propagates as such.
    /// </summary>
    public static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpRequestMessage request, string system, CancellationToken cancellationToken,
        bool? configured = null)
    {
        // Token-based adapters are configured when they carry a token; session-based ones (Tryton) say so themselves.
        configured ??= !string.IsNullOrEmpty(request.Headers.Authorization?.Parameter
            ?? (request.Headers.TryGetValues("X-Shopify-Access-Token", out var values) ? values.FirstOrDefault() : null));
        if (configured != true || request.RequestUri is not { IsAbsoluteUri: true })
        {
            // Not configured: say so in the exception queue rather than call anywhere.
            throw new ConnectorException(system, FailureKind.Permanent, "NOT_CONFIGURED",
                $"RetailSync:Connectors for {system} has no endpoint or access token");
        }

        try
        {
            return await http.SendAsync(request, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException
            or Polly.CircuitBreaker.BrokenCircuitException or Polly.Timeout.TimeoutRejectedException or Polly.RateLimiting.RateLimiterRejectedException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new ConnectorException(system, FailureKind.Transient, ex.GetType().Name, ex.Message, ex);
        }
    }

    /// <summary>
    /// The answer's JSON, or null when the body is empty. Parsed from its UTF-8 bytes: a large answer (a
    /// $batch of sales orders) is not first turned into a string twice its size.
    /// </summary>
    public static async Task<System.Text.Json.Nodes.JsonNode?> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var json = bytes.AsSpan();
        // As ReadAsStringAsync did: a UTF-8 byte order mark is not part of the JSON.
        json = json.StartsWith("\uFEFF"u8) ? json[3..] : json;
        json = json.Trim(" \t\r\n"u8);
        return json.IsEmpty ? null : System.Text.Json.Nodes.JsonNode.Parse(json);
    }
}
