using RetailSync.Intake;

namespace RetailSync.Tests.Platform;

/// <summary>Writes shared by interleaved calls: never two at once, and nobody hears "stored" before a write holding their change ends.</summary>
public sealed class SharedWritesTests
{
    private sealed class Grain : IGrainBase
    {
        public IGrainContext GrainContext => throw new NotSupportedException("only the failure path deactivates");
    }

    /// <summary>A storage whose writes end when the test says so; each write records the value it stored.</summary>
    private sealed class GatedState : IPersistentState<List<int>>
    {
        public readonly List<TaskCompletionSource> Gates = [];
        public readonly List<int[]> Stored = [];
        public int InFlight;
        public int MostInFlight;

        public List<int> State { get; set; } = [];
        public string? Etag { get; private set; }
        public bool RecordExists => Etag is not null;

        public Task ClearStateAsync() => throw new NotSupportedException();
        public Task ReadStateAsync() => Task.CompletedTask;

        public async Task WriteStateAsync()
        {
            MostInFlight = Math.Max(MostInFlight, ++InFlight);
            Stored.Add([.. State]);
            var gate = new TaskCompletionSource();
            Gates.Add(gate);
            await gate.Task;
            InFlight--;
            Etag = Stored.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    [Fact]
    public async Task changes_made_during_a_write_share_the_next_one()
    {
        var state = new GatedState();
        var writes = new SharedWrites<List<int>>(new Grain(), state);

        state.State.Add(1);
        var first = writes.SaveAsync();
        state.State.Add(2);
        var second = writes.SaveAsync();
        state.State.Add(3);
        var third = writes.SaveAsync();

        Assert.Single(state.Gates);
        Assert.False(second.IsCompleted);
        state.Gates[0].SetResult();
        await first;
        // The first write took [1]; 2 and 3 wait for the one that starts when it ends.
        Assert.False(second.IsCompleted);
        Assert.False(third.IsCompleted);
        Assert.Equal(2, state.Gates.Count);
        state.Gates[1].SetResult();
        await Task.WhenAll(second, third);

        Assert.Equal([[1], [1, 2, 3]], state.Stored);
        Assert.Equal(1, state.MostInFlight);

        // Nothing in flight: the next change is written at once.
        state.State.Add(4);
        var fourth = writes.SaveAsync();
        Assert.Equal(3, state.Gates.Count);
        state.Gates[2].SetResult();
        await fourth;
        Assert.Equal([1, 2, 3, 4], state.Stored[^1]);
    }
}
