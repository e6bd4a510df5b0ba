using System.Collections.Immutable;
using RetailSync.Intake;
using RetailSync.Platform;

namespace RetailSync.Operations;

public sealed class ExceptionQueueGrain(
    [PersistentState("exceptions", StorageNames.State)] IPersistentState<ExceptionQueueState> state,
    TimeProvider clock) : Grain, IExceptionQueueGrain
{
    public async Task RaiseAsync(OpsException exception)
    {
        state.State.Items[exception.Id] = exception;
        await this.WriteOrForgetAsync(state);
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
            await this.WriteOrForgetAsync(state);
        }
    }
}

[GenerateSerializer, Alias("RetailSync.Operations.ExceptionQueueState")]
public sealed class ExceptionQueueState
{
    [Id(0)] public Dictionary<string, OpsException> Items { get; set; } = [];
}
