using System.Collections.Immutable;
using Orleans.Concurrency;

namespace RetailSync.Operations;

/// <summary>
/// The operations exception queue (one per cluster, key <c>ops</c>): every permanent failure, with
/// the payload, the vendor's error and a retry action.
/// </summary>
[Alias("RetailSync.Operations.IExceptionQueueGrain")]
public interface IExceptionQueueGrain : IGrainWithStringKey
{
    /// <summary>Adds or refreshes an exception (same id: the same failing command).</summary>
    [Alias("Raise")]
    Task RaiseAsync(OpsException exception);

    [Alias("List")]
    Task<ImmutableArray<OpsException>> ListAsync(bool includeResolved);

    [Alias("Get")]
    Task<OpsException?> GetAsync(string id);

    [Alias("Resolve")]
    Task ResolveAsync(string id, string resolution);

    /// <summary>
    /// A person's data erased from an owner's exceptions: payloads go (a retry resends the owner's own command) and the
    /// given values are masked in vendor messages, which often echo them.
    /// </summary>
    [Alias("Redact")]
    Task RedactAsync(string ownerKey, ImmutableArray<string> personalValues);
}

[GenerateSerializer, Immutable, Alias("RetailSync.Operations.OpsException")]
public sealed record OpsException(
    [property: Id(0)] string Id,
    [property: Id(1)] string System,
    [property: Id(2)] string Operation,
    [property: Id(3)] string Payload,
    [property: Id(4)] string? VendorCode,
    [property: Id(5)] string VendorMessage,
    [property: Id(6)] int Attempts,
    [property: Id(7)] string? CorrelationId,
    [property: Id(8)] string OwnerKey,
    [property: Id(9)] DateTimeOffset RaisedAt,
    [property: Id(10)] string Status,
    [property: Id(11)] DateTimeOffset? ResolvedAt,
    [property: Id(12)] string? Resolution,
    [property: Id(13)] string? Owner = null);

/// <param name="ReplyTo">The grain (as a <see cref="GrainId"/> string) told through <see cref="ICommandOwner"/> when the command ends.</param>
[GenerateSerializer, Immutable, Alias("RetailSync.Operations.OutboundCommand")]
public sealed record OutboundCommand(
    [property: Id(0)] string System,
    [property: Id(1)] string Operation,
    [property: Id(2)] string Payload,
    [property: Id(3)] string? CorrelationId,
    [property: Id(4)] string? ReplyTo = null);

/// <summary>A grain that owns outbound commands and learns how they ended.</summary>
[Alias("RetailSync.Operations.ICommandOwner")]
public interface ICommandOwner : IGrainWithStringKey
{
    /// <summary>
    /// One-way, so the command never waits on its owner; an owner that misses it asks the command
    /// itself (on activation and by reminder).
    /// </summary>
    [OneWay, Alias("CommandEnded")]
    Task CommandEndedAsync(CommandView command);

    /// <summary>A command failed transiently and waits for its next attempt (shown as <c>Retrying</c>).</summary>
    [OneWay, Alias("CommandRetrying")]
    Task CommandRetryingAsync(CommandView command);

    /// <summary>Sends every unfinished command again (the outbox sweeper's nudge after a crash).</summary>
    [OneWay, Alias("Resume")]
    Task ResumeAsync();

    /// <summary>Runs a failed command again (operator retry from the exception queue); null when there is no such command.</summary>
    [Alias("RetryCommand")]
    Task<CommandView?> RetryCommandAsync(string key);
}

public static class CommandStatus
{
    public const string Pending = "Pending";
    public const string Retrying = "Retrying";
    public const string Succeeded = "Succeeded";
    public const string Failed = "Failed";
}

[GenerateSerializer, Immutable, Alias("RetailSync.Operations.CommandView")]
public sealed record CommandView(
    [property: Id(0)] string Key,
    [property: Id(1)] OutboundCommand Command,
    [property: Id(2)] string Status,
    [property: Id(3)] int Attempts,
    [property: Id(4)] string? LastError,
    [property: Id(5)] string? Result,
    [property: Id(6)] DateTimeOffset? NextAttemptAt,
    [property: Id(7)] string? ExternalId = null,
    [property: Id(8)] string? ExternalStatus = null,
    [property: Id(9)] string? VendorCode = null,
    [property: Id(10)] string? Data = null);
