using System.Text;
using Microsoft.Extensions.Time.Testing;
using Orleans.Patterns.Coordination;
using Orleans.Patterns.Raft;
using Orleans.Patterns.Tests.Infrastructure;

namespace Orleans.Patterns.Tests.Coordination.Cluster;

/// <summary>
/// <see cref="RaftWriteBatcher{TWrite, TResult}"/>'s linger against the real leader: the slot a settled batch frees
/// waits for that batch's writers, and no longer than the linger. The linger runs on a fake clock, so "waits" is
/// shown by a batch that has not left, never by a measured time.
/// </summary>
[Trait("Category", "Cluster")]
[Collection(CoordinationClusterCollection.Name)]
public sealed class WriteBatcherClusterTests(CoordinationClusterFixture fixture)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_freed_slot_waits_for_the_settled_batchs_writers_and_leaves_without_them_once_the_linger_passes()
    {
        var clock = new FakeTimeProvider();

        // The first call is held until both later writes have queued: a leader that answers between the two (a busy
        // machine pausing this thread) would otherwise settle the first batch with only one of them waiting.
        var firstCallHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var batcher = NewBatcher(clock, TimeSpan.FromSeconds(1));
        batcher.BeforeSend = () => firstCallHeld.Task;

        // The first write leaves alone; two more queue behind it.
        var first = batcher.WriteAsync(Put("first"));
        var queued = new[] { batcher.WriteAsync(Put("second")), batcher.WriteAsync(Put("third")) };
        firstCallHeld.SetResult();
        Succeeded(await first.WaitAsync(Deadline));

        // Its slot now waits for one more write than is queued (the first's writer coming back): nothing leaves.
        await Eventually.WaitAsync(() => Task.FromResult(batcher.Lingering), Deadline, () => "the freed slot lingering");
        Assert.Equal((1L, 1L), batcher.Sent);
        Assert.All(queued, t => Assert.False(t.IsCompleted));

        // It comes back, and all three leave together at once, the clock never moved.
        var back = batcher.WriteAsync(Put("first-again"));
        foreach (var write in queued.Append(back))
        {
            Succeeded(await write.WaitAsync(Deadline));
        }

        Assert.Equal((2L, 4L), batcher.Sent);

        // Three writers settled; one comes back, the other two do not: the write waits the linger out, then leaves alone.
        await Eventually.WaitAsync(() => Task.FromResult(batcher.Lingering), Deadline, () => "the slot lingering after the batch of three");
        var lone = batcher.WriteAsync(Put("lone"));
        Assert.False(lone.IsCompleted);
        Assert.Equal((2L, 4L), batcher.Sent);
        clock.Advance(TimeSpan.FromSeconds(1));
        Succeeded(await lone.WaitAsync(Deadline));
        Assert.Equal((3L, 5L), batcher.Sent);
    }

    [Fact]
    public async Task With_no_linger_the_next_batch_leaves_as_soon_as_the_slot_is_free()
    {
        var batcher = NewBatcher(new FakeTimeProvider(), TimeSpan.Zero);

        var first = batcher.WriteAsync(Put("no-linger-1"));
        var second = batcher.WriteAsync(Put("no-linger-2"));
        Succeeded(await first.WaitAsync(Deadline));
        Succeeded(await second.WaitAsync(Deadline));
        Assert.False(batcher.Lingering);
        Assert.Equal((2L, 2L), batcher.Sent);
    }

    // Coordination commands to the fixture's leader, the linger on the given clock.
    private RaftWriteBatcher<byte[], byte[]> NewBatcher(TimeProvider clock, TimeSpan linger) => new(
        new RaftLeaderRouter(fixture.Cluster.Client, CoordinationClusterFixture.Voters),
        async (replica, commands) => (await replica.CoordinateBatch(new CoordinationBatch(commands))).Results,
        (replica, command) => replica.Coordinate(command),
        clock)
    {
        Linger = linger,
    };

    // Each write its own session (a batcher's writes come from sessions with one write in flight each).
    private static byte[] Put(string key) =>
        new CoordinationCommand($"batcher-test/{key}/{Guid.NewGuid():N}", 1, new PutRequest(Encoding.UTF8.GetBytes("batcher-test/" + key), Encoding.UTF8.GetBytes("v"))).Encode();

    private static void Succeeded(byte[] result) => CoordinationWire.DecodeResult(result).ResponseOrThrow<PutResponse>();
}
