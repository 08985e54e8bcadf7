using Orleans.Patterns.Raft;
using Orleans.Patterns.Raft.Storage;

namespace Orleans.Patterns.Tests.Raft.Storage;

/// <summary><see cref="FileRaftStorageOptions.WriteOnCallerWhenIdle"/>: who writes, and that nothing is lost or reordered.</summary>
[Trait("Category", "Unit")]
public sealed class FileRaftStorageOnCallerTests : WalTestBase
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_write_that_finds_the_writer_idle_is_synced_on_the_callers_thread_before_PersistAsync_returns()
    {
        var fsyncThreads = new List<int>();
        await using (var storage = Open(beforeFsync: () => fsyncThreads.Add(Environment.CurrentManagedThreadId), writeOnCaller: true))
        {
            storage.Recover();
            var fsyncs = storage.FsyncCount;

            var persisted = storage.PersistAsync(new PersistBatch(new HardState(1, null, 0), [Entry(1, 1), Entry(2, 1)], null), default);

            Assert.True(persisted.IsCompletedSuccessfully);
            Assert.Equal(fsyncs + 1, storage.FsyncCount);
            Assert.Equal(Environment.CurrentManagedThreadId, Assert.Single(fsyncThreads));
        }

        await using var reopened = Open();
        AssertEntries(reopened.Recover().Entries, 1, 2);
    }

    [Fact]
    public async Task Without_the_option_the_writer_thread_writes()
    {
        var fsyncThreads = new List<int>();
        await using var storage = Open(beforeFsync: () => fsyncThreads.Add(Environment.CurrentManagedThreadId));
        storage.Recover();

        await storage.PersistAsync(Entries(Entry(1, 1)), default);

        Assert.NotEqual(Environment.CurrentManagedThreadId, Assert.Single(fsyncThreads));
    }

    [Fact]
    public async Task Writes_arriving_during_a_callers_write_queue_for_the_writer_thread_and_share_its_next_fsync()
    {
        using var gate = new FirstFsyncGate();
        await using (var storage = Open(beforeFsync: gate.Hook, writeOnCaller: true))
        {
            storage.Recover();
            var fsyncs = storage.FsyncCount;

            // The first write blocks its caller inside the fsync; meanwhile two more arrive from this thread.
            var caller = Task.Run(() => storage.PersistAsync(Entries(Entry(1, 1)), default));
            Assert.True(await gate.EnteredAsync());
            var second = storage.PersistAsync(Entries(Entry(2, 1)), default);
            var third = storage.PersistAsync(new PersistBatch(new HardState(1, null, 3), [Entry(3, 1)], null), default);
            Assert.False(second.IsCompleted);
            Assert.False(third.IsCompleted);

            gate.Open();
            await caller.WaitAsync(Patience);
            await Task.WhenAll(second, third).WaitAsync(Patience);

            // One fsync for the caller's write, one for the two that queued behind it.
            Assert.Equal(fsyncs + 2, storage.FsyncCount);

            await storage.PersistAsync(Entries(Entry(4, 1)), default).WaitAsync(Patience);
        }

        await using var reopened = Open();
        var state = reopened.Recover();
        AssertEntries(state.Entries, 1, 4);
        Assert.Equal(3, state.HardState.Commit);
    }

    [Fact]
    public async Task A_failed_fsync_on_the_caller_faults_the_write_and_every_later_one()
    {
        var fail = false;
        var storage = Open(beforeFsync: () =>
        {
            if (fail)
            {
                throw new IOException("simulated disk error");
            }
        }, writeOnCaller: true);
        storage.Recover();
        await storage.PersistAsync(Entries(Entry(1, 1)), default);

        fail = true;
        var failed = storage.PersistAsync(Entries(Entry(2, 1)), default);
        Assert.True(failed.IsFaulted);
        await Assert.ThrowsAsync<IOException>(() => failed);
        fail = false;
        await Assert.ThrowsAsync<IOException>(() => storage.PersistAsync(Entries(Entry(3, 1)), default));
    }

    [Fact]
    public async Task Disposing_during_a_callers_write_waits_for_it_and_keeps_it()
    {
        using var gate = new FirstFsyncGate();
        var storage = Open(beforeFsync: gate.Hook, writeOnCaller: true);
        storage.Recover();

        var caller = Task.Run(() => storage.PersistAsync(Entries(Entry(1, 1), Entry(2, 1)), default));
        Assert.True(await gate.EnteredAsync());
        var disposed = storage.DisposeAsync().AsTask();
        await Task.Delay(50);
        Assert.False(disposed.IsCompleted);

        gate.Open();
        await caller.WaitAsync(Patience);
        await disposed.WaitAsync(Patience);

        await using var reopened = Open();
        AssertEntries(reopened.Recover().Entries, 1, 2);
    }

    [Fact]
    public async Task Logs_sharing_a_gate_write_on_one_caller_at_a_time_and_the_others_hand_over_meanwhile()
    {
        var callerWrites = new CallerWriteGate();
        using var held = new FirstFsyncGate();
        var otherThreads = new List<int>();
        await using var first = Open(beforeFsync: held.Hook, writeOnCaller: true, callerWrites: callerWrites);
        await using var second = Open(
            beforeFsync: () => otherThreads.Add(Environment.CurrentManagedThreadId), writeOnCaller: true, callerWrites: callerWrites,
            directory: Path.Combine(Root, "raft", "node-2"));
        first.Recover();
        second.Recover();

        // The first log's caller holds the slot, blocked in its fsync.
        var blocked = Task.Run(() => first.PersistAsync(Entries(Entry(1, 1)), default));
        Assert.True(await held.EnteredAsync());
        Assert.True(callerWrites.Held);

        // The second log is idle, but the slot is taken: its write goes to its own writer thread and is done meanwhile.
        await second.PersistAsync(Entries(Entry(1, 1)), default).WaitAsync(Patience);
        Assert.NotEqual(Environment.CurrentManagedThreadId, Assert.Single(otherThreads));
        Assert.False(blocked.IsCompleted);

        held.Open();
        await blocked.WaitAsync(Patience);
        Assert.False(callerWrites.Held);

        // The slot is free again: the second log's next idle write is synced on its caller before PersistAsync returns.
        var onCaller = second.PersistAsync(Entries(Entry(2, 1)), default);
        Assert.True(onCaller.IsCompletedSuccessfully);
        Assert.Equal(Environment.CurrentManagedThreadId, otherThreads[^1]);
    }

    /// <summary>Holds the first fsync, on whichever thread runs it, until the test opens the gate.</summary>
    private sealed class FirstFsyncGate : IDisposable
    {
        private readonly SemaphoreSlim _entered = new(0);
        private readonly SemaphoreSlim _open = new(0);
        private int _fsyncs;

        public void Hook()
        {
            if (Interlocked.Increment(ref _fsyncs) == 1)
            {
                _entered.Release();
                Assert.True(_open.Wait(Patience), "the test never opened the gate");
            }
        }

        public Task<bool> EnteredAsync() => _entered.WaitAsync(Patience);

        public void Open() => _open.Release();

        public void Dispose()
        {
            _entered.Dispose();
            _open.Dispose();
        }
    }
}
