using System.Collections.Immutable;
using Orleans.Concurrency;
using RetailSync.Intake;
using RetailSync.Platform;

namespace RetailSync.Operations;

/// <summary>
/// The operations queue of one cluster. During an outage every failing command raises here at once, and the
/// whole queue is one state: callers share writes (each waits for a write that holds its change, however many
/// arrive meanwhile), and resolved items beyond <see cref="ResolvedKept"/> are dropped, oldest first, so the
/// state does not grow with every exception ever raised.
/// </summary>
[Reentrant]
public sealed class ExceptionQueueGrain(
    [PersistentState("exceptions", StorageNames.State)] IPersistentState<ExceptionQueueState> state,
    TimeProvider clock) : Grain, IExceptionQueueGrain
{
    public const int ResolvedKept = 1_000;

    private SharedWrites<ExceptionQueueState>? writes;

    public async Task RaiseAsync(OpsException exception)
    {
        state.State.Items[exception.Id] = exception;
        await SaveAsync();
    }

    /// <summary>Returns once a write that holds this turn's change has succeeded.</summary>
    private Task SaveAsync() => (writes ??= new SharedWrites<ExceptionQueueState>(this, state)).SaveAsync();

    private void DropOldResolved()
    {
        var resolved = state.State.Items.Values.Where(e => e.Status == "Resolved").ToList();
        foreach (var old in resolved.OrderBy(e => e.ResolvedAt).Take(resolved.Count - ResolvedKept))
        {
            state.State.Items.Remove(old.Id);
        }
    }

    public Task<ImmutableArray<OpsException>> ListAsync(bool includeResolved) =>
        Task.FromResult<ImmutableArray<OpsException>>([.. state.State.Items.Values
            .Where(e => includeResolved || e.Status != "Resolved")
            .OrderBy(e => e.RaisedAt)]);

    public Task<OpsException?> GetAsync(string id) => Task.FromResult(state.State.Items.GetValueOrDefault(id));

    public async Task ResolveAsync(string id, string resolution)
    {
        if (state.State.Items.TryGetValue(id, out var exception))
        {
            state.State.Items[id] = exception with { Status = "Resolved", ResolvedAt = clock.GetUtcNow(), Resolution = resolution };
            DropOldResolved();
            await SaveAsync();
        }
    }

    public async Task RedactAsync(string ownerKey, ImmutableArray<string> personalValues)
    {
        var owned = state.State.Items.Values.Where(e => e.OwnerKey == ownerKey).ToList();
        foreach (var e in owned)
        {
            state.State.Items[e.Id] = e with { Payload = "", VendorMessage = PersonalValues.MaskIn(e.VendorMessage, personalValues) };
        }

        if (owned.Count > 0)
        {
            await SaveAsync();
        }
    }
}

[GenerateSerializer, Alias("RetailSync.Operations.ExceptionQueueState")]
public sealed class ExceptionQueueState
{
    [Id(0)] public Dictionary<string, OpsException> Items { get; set; } = [];
}
