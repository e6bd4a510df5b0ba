namespace RetailSync.Platform;

/// <summary>Names of the Orleans providers every silo registers, whatever the hosting mode.</summary>
public static class StorageNames
{
    /// <summary>Grain state of business entities.</summary>
    public const string State = "state";

    /// <summary>Stream provider for domain events consumed by projections.</summary>
    public const string Events = "events";

    /// <summary>Orleans' own stream subscription store.</summary>
    public const string PubSub = "PubSubStore";
}
