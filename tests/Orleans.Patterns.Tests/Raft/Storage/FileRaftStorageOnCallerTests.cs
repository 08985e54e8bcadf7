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
        using var inFsync = new SemaphoreSlim(0);
        using var release = new SemaphoreSlim(0);
        var first = true;
        await using (var storage = Open(
            beforeFsync: () =>
            {
                if (first)
                {
                    first = false;
                    inFsync.Release();
                    Assert.True(release.Wait(Patience), "the test never released the caller's fsync");
                }
            },
            writeOnCaller: true))
        {
            storage.Recover();
            var fsyncs = storage.FsyncCount;

            // The first write blocks its caller inside the fsync; meanwhile two more arrive from this thread.
            var caller = Task.Run(() => storage.PersistAsync(Entries(Entry(1, 1)), default));
            Assert.True(await inFsync.WaitAsync(Patience));
            var second = storage.PersistAsync(Entries(Entry(2, 1)), default);
            var third = storage.PersistAsync(new PersistBatch(new HardState(1, null, 3), [Entry(3, 1)], null), default);
            Assert.False(second.IsCompleted);
            Assert.False(third.IsCompleted);

            release.Release();
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
        using var inFsync = new SemaphoreSlim(0);
        using var release = new SemaphoreSlim(0);
        var first = true;
        var storage = Open(
            beforeFsync: () =>
            {
                if (first)
                {
                    first = false;
                    inFsync.Release();
                    Assert.True(release.Wait(Patience), "the test never released the caller's fsync");
                }
            },
            writeOnCaller: true);
        storage.Recover();

        var caller = Task.Run(() => storage.PersistAsync(Entries(Entry(1, 1), Entry(2, 1)), default));
        Assert.True(await inFsync.WaitAsync(Patience));
        var disposed = storage.DisposeAsync().AsTask();
        await Task.Delay(50);
        Assert.False(disposed.IsCompleted);

        release.Release();
        await caller.WaitAsync(Patience);
        await disposed.WaitAsync(Patience);

        await using var reopened = Open();
        AssertEntries(reopened.Recover().Entries, 1, 2);
    }
}
