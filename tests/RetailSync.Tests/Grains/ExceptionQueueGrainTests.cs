using RetailSync.Operations;
using RetailSync.Tests.Infrastructure;

namespace RetailSync.Tests.Grains;

/// <summary>The operations queue on the shared TestingHost cluster: many raises at once, and a bounded history.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ExceptionQueueGrainTests(ClusterFixture fixture)
{
    private static OpsException Exception(string id) =>
        new(id, "erp", "submitOrder", "{}", "503", "down", 5, null, "order:test:" + id, DateTimeOffset.UtcNow, "Open", null, null, null);

    [Fact]
    public async Task many_raises_at_once_are_all_kept_and_listed()
    {
        var queue = fixture.Client.GetGrain<IExceptionQueueGrain>("burst-" + Guid.NewGuid().ToString("N"));
        await Task.WhenAll(Enumerable.Range(0, 300).Select(i => queue.RaiseAsync(Exception($"x{i}"))));

        var open = await queue.ListAsync(includeResolved: false);
        Assert.Equal(300, open.Length);
        Assert.Equal(Enumerable.Range(0, 300).Select(i => $"x{i}").Order(), open.Select(e => e.Id).Order());
    }

    [Fact]
    public async Task resolved_items_beyond_the_history_limit_are_dropped_oldest_first_and_open_ones_stay()
    {
        var queue = fixture.Client.GetGrain<IExceptionQueueGrain>("history-" + Guid.NewGuid().ToString("N"));
        var count = ExceptionQueueGrain.ResolvedKept + 5;
        await Task.WhenAll(Enumerable.Range(0, count).Select(i => queue.RaiseAsync(Exception($"r{i:D5}"))));
        await queue.RaiseAsync(Exception("still-open"));
        foreach (var i in Enumerable.Range(0, count))
        {
            await queue.ResolveAsync($"r{i:D5}", "done");
        }

        var all = await queue.ListAsync(includeResolved: true);
        Assert.Equal(ExceptionQueueGrain.ResolvedKept, all.Count(e => e.Status == "Resolved"));
        Assert.Null(await queue.GetAsync("r00000"));
        Assert.NotNull(await queue.GetAsync($"r{count - 1:D5}"));
        Assert.Equal("Open", (await queue.GetAsync("still-open"))!.Status);
    }
}
