namespace RetailSync.Platform;

/// <summary>
/// What this cluster keeps, read from the stores themselves: erasing a shop walks what is stored, not what an index
/// happens to remember, so nothing written by a grain that crashed before telling anyone is missed.
/// </summary>
public interface IStoredData
{
    /// <summary>The keys of the grains whose state of this name is stored and whose key starts with the prefix.</summary>
    Task<IReadOnlyList<string>> KeysAsync(string stateName, string keyPrefix, CancellationToken cancellationToken = default);

    /// <summary>
    /// Drops what the webhook inbox still holds of a shop (bodies of deliveries not yet forwarded, which would bring
    /// erased data back) except the shop's own redaction request; answers how many deliveries were dropped.
    /// </summary>
    Task<int> DropWebhookBodiesAsync(string shop, CancellationToken cancellationToken = default);
}
