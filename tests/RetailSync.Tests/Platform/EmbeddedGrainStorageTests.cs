using Orleans.Storage;
using RetailSync.Silo.Storage;

namespace RetailSync.Tests.Platform;

/// <summary>The embedded default's storage keeps Orleans' contract: a write must come from the version it read.</summary>
public sealed class EmbeddedGrainStorageTests
{
    private sealed class Counter
    {
        public int Value { get; set; }
    }

    private static readonly GrainId Grain = GrainId.Create("test", "one");

    /// <summary>One activation writes <paramref name="value"/>; a second state then reads what is stored.</summary>
    private static async Task<(GrainState<Counter> Written, GrainState<Counter> Read)> WrittenThenReadAsync(EmbeddedGrainStorage storage, int value)
    {
        var written = new GrainState<Counter>(new Counter { Value = value });
        await storage.WriteStateAsync("state", Grain, written);
        var read = new GrainState<Counter>(new Counter());
        await storage.ReadStateAsync("state", Grain, read);
        return (written, read);
    }

    [Fact]
    public async Task a_new_activation_reads_what_the_last_one_wrote()
    {
        var storage = new EmbeddedGrainStorage();
        var (first, second) = await WrittenThenReadAsync(storage, 3);

        Assert.True(second.RecordExists);
        Assert.Equal(3, second.State!.Value);
        Assert.Equal(first.ETag, second.ETag);

        var elsewhere = new GrainState<Counter>(new Counter());
        await storage.ReadStateAsync("other", Grain, elsewhere);
        Assert.False(elsewhere.RecordExists);
    }

    [Fact]
    public async Task a_write_from_a_stale_version_is_refused()
    {
        var storage = new EmbeddedGrainStorage();
        var (first, stale) = await WrittenThenReadAsync(storage, 1);

        await storage.WriteStateAsync("state", Grain, first);

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("state", Grain, stale));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("state", Grain, new GrainState<Counter>(new Counter())));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync("state", Grain, stale));

        await storage.ClearStateAsync("state", Grain, first);
        var after = new GrainState<Counter>(new Counter());
        await storage.ReadStateAsync("state", Grain, after);
        Assert.False(after.RecordExists);
        await storage.WriteStateAsync("state", Grain, after);
        Assert.True(after.RecordExists);
    }
}
