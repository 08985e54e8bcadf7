using System.Diagnostics;
using Orleans.Patterns.Coordination;
using Orleans.Patterns.Tests.Infrastructure;
using Xunit.Abstractions;
using static Orleans.Patterns.Tests.Coordination.Bytes;

namespace Orleans.Patterns.Tests.Coordination.Recipes;

/// <summary>The etcd-style lock on real silos: mutual exclusion with fencing, FIFO order, and leases that lapse.</summary>
[Trait("Category", "Cluster")]
[Collection(CoordinationClusterCollection.Name)]
public sealed class DistributedLockClusterTests(CoordinationClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private sealed record Holding(int Holder, int Round, long Token, TimeSpan Acquired, TimeSpan Released);

    [Fact]
    public async Task Contenders_hold_the_lock_one_at_a_time_with_increasing_tokens_and_every_fenced_increment_lands()
    {
        var seed = Environment.GetEnvironmentVariable("LOCK_SEED") is { } fixedSeed ? int.Parse(fixedSeed) : Random.Shared.Next();
        output.WriteLine($"seed {seed} (replay with LOCK_SEED={seed})");
        const int contenders = 5, rounds = 4;
        var prefix = RecipePrefix.New("lock-safety");
        var counterKey = prefix + "counter";
        var guard = new FencingTokenGuard();
        var history = new List<Holding>();
        var clock = Stopwatch.StartNew();
        using var timeout = new CancellationTokenSource(Deadline);

        async Task ContendAsync(int holder)
        {
            var random = new Random(seed + holder);
            var client = fixture.NewClient($"lock-{holder}");
            await using var session = await LeaseSession.StartAsync(client, TimeSpan.FromSeconds(5), cancellationToken: timeout.Token);
            var mutex = new DistributedLock(session, prefix + "lock");
            for (var round = 0; round < rounds; round++)
            {
                await Task.Delay(random.Next(0, 30), timeout.Token);
                var handle = await mutex.LockAsync(timeout.Token);
                var acquired = clock.Elapsed;

                // The protected resource: a read-modify-write, fenced by the in-memory guard and by the store.
                guard.Accept(counterKey, handle.FencingToken);
                var current = (await client.RangeAsync(new RangeRequest(B(counterKey)), timeout.Token)).Kvs.SingleOrDefault();
                var next = current is null ? 1 : int.Parse(S(current.Value)) + 1;
                await FencedWrites.PutAsync(client, counterKey, B(next.ToString()), handle.FencingToken, timeout.Token);
                await Task.Delay(random.Next(0, 20), timeout.Token);

                var released = clock.Elapsed;
                await handle.UnlockAsync(timeout.Token);
                lock (history)
                {
                    history.Add(new Holding(holder, round, handle.FencingToken, acquired, released));
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, contenders).Select(ContendAsync));

        var ordered = history.OrderBy(h => h.Acquired).ToList();
        foreach (var h in ordered)
        {
            output.WriteLine($"holder {h.Holder} round {h.Round}: token {h.Token}, held {h.Acquired.TotalMilliseconds:F0}-{h.Released.TotalMilliseconds:F0} ms");
        }

        Assert.Equal(contenders * rounds, ordered.Count);
        for (var i = 1; i < ordered.Count; i++)
        {
            Assert.True(ordered[i].Token > ordered[i - 1].Token, $"token {ordered[i].Token} (holder {ordered[i].Holder}) acquired after token {ordered[i - 1].Token} (holder {ordered[i - 1].Holder})");
            Assert.True(ordered[i].Acquired >= ordered[i - 1].Released,
                $"holder {ordered[i].Holder} acquired at {ordered[i].Acquired.TotalMilliseconds:F0} ms while holder {ordered[i - 1].Holder} held until {ordered[i - 1].Released.TotalMilliseconds:F0} ms");
        }

        var counter = (await fixture.NewClient("lock-check").RangeAsync(new RangeRequest(B(counterKey)))).Kvs.Single();
        Assert.Equal(contenders * rounds, int.Parse(S(counter.Value)));
        Assert.Equal(ordered[^1].Token, FencedWrites.Decode((await fixture.NewClient("lock-check").RangeAsync(new RangeRequest(B(FencedWrites.FenceKeyOf(counterKey))))).Kvs.Single().Value));
    }

    [Fact]
    public async Task Waiters_get_the_lock_in_the_order_they_queued()
    {
        var prefix = RecipePrefix.New("lock-fifo") + "lock";
        using var timeout = new CancellationTokenSource(Deadline);
        await using var a = await LeaseSession.StartAsync(fixture.NewClient("fifo-a"), TimeSpan.FromSeconds(5));
        await using var b = await LeaseSession.StartAsync(fixture.NewClient("fifo-b"), TimeSpan.FromSeconds(5));
        await using var c = await LeaseSession.StartAsync(fixture.NewClient("fifo-c"), TimeSpan.FromSeconds(5));
        await using var d = await LeaseSession.StartAsync(fixture.NewClient("fifo-d"), TimeSpan.FromSeconds(5));
        var lockA = new DistributedLock(a, prefix);
        var lockB = new DistributedLock(b, prefix);
        var lockC = new DistributedLock(c, prefix);

        var held = await lockA.LockAsync(timeout.Token);
        var waitB = lockB.LockAsync(timeout.Token);
        await WaitForKeyAsync(lockB.Key, present: true);
        var waitC = lockC.LockAsync(timeout.Token);
        await WaitForKeyAsync(lockC.Key, present: true);
        var lockD = new DistributedLock(d, prefix);
        Assert.Null(await lockD.TryLockAsync(timeout.Token));
        Assert.Equal(0, (await d.Client.RangeAsync(new RangeRequest(B(lockD.Key)))).Count);

        await held.UnlockAsync(timeout.Token);
        var heldB = await waitB;
        // C queued after B, so it cannot hold while B does, whatever the timing.
        Assert.False(waitC.IsCompleted, "C got the lock while B held it");
        await heldB.UnlockAsync(timeout.Token);
        var heldC = await waitC;
        output.WriteLine($"tokens: A {held.FencingToken}, B {heldB.FencingToken}, C {heldC.FencingToken}");
        Assert.True(held.FencingToken < heldB.FencingToken && heldB.FencingToken < heldC.FencingToken);
        await heldC.UnlockAsync(timeout.Token);

        // Free again: TryLock takes it without waiting.
        await using var tried = await lockA.TryLockAsync(timeout.Token);
        Assert.NotNull(tried);
        Assert.True(tried.FencingToken > heldC.FencingToken);
    }

    [Fact]
    public async Task A_holder_paused_past_its_lease_is_refused_by_the_fence_once_another_holder_takes_over()
    {
        var prefix = RecipePrefix.New("lock-paused");
        var resource = prefix + "resource";
        var guard = new FencingTokenGuard();
        using var timeout = new CancellationTokenSource(Deadline);
        var clientA = fixture.NewClient("paused-a");
        var clientB = fixture.NewClient("paused-b");
        await using var a = await LeaseSession.StartAsync(clientA, TimeSpan.FromSeconds(2));
        await using var b = await LeaseSession.StartAsync(clientB, TimeSpan.FromSeconds(5));

        var heldA = await new DistributedLock(a, prefix + "lock").LockAsync(timeout.Token);
        guard.Accept(resource, heldA.FencingToken);
        await FencedWrites.PutAsync(clientA, resource, B("from A"), heldA.FencingToken, timeout.Token);

        // A stalls (no keep-alives, no unlock); its lease expires on the leader's clock and B's wait ends.
        a.PauseKeepAlives();
        var paused = Stopwatch.StartNew();
        var heldB = await new DistributedLock(b, prefix + "lock").LockAsync(timeout.Token);
        output.WriteLine($"A token {heldA.FencingToken}; B token {heldB.FencingToken} after {paused.Elapsed.TotalSeconds:F1} s (A's TTL {a.Ttl.TotalSeconds} s)");
        Assert.True(heldB.FencingToken > heldA.FencingToken);
        guard.Accept(resource, heldB.FencingToken);
        await FencedWrites.PutAsync(clientB, resource, B("from B"), heldB.FencingToken, timeout.Token);

        // A wakes up believing it still holds the lock and writes with its old token: both fences refuse it.
        var inMemory = Assert.Throws<StaleFencingTokenException>(() => guard.Accept(resource, heldA.FencingToken));
        Assert.Equal(heldB.FencingToken, inMemory.Highest);
        Assert.Contains($"fencing token {heldA.FencingToken}", inMemory.Message);
        var inStore = await Assert.ThrowsAsync<StaleFencingTokenException>(() => FencedWrites.PutAsync(clientA, resource, B("late A"), heldA.FencingToken, timeout.Token));
        Assert.Equal(heldB.FencingToken, inStore.Highest);
        Assert.Equal("from B", S((await clientB.RangeAsync(new RangeRequest(B(resource)))).Kvs.Single().Value));
        await heldB.UnlockAsync(timeout.Token);
    }

    [Fact]
    public async Task A_waiter_whose_lease_expires_in_line_never_gets_the_lock()
    {
        var prefix = RecipePrefix.New("lock-expired-waiter") + "lock";
        using var timeout = new CancellationTokenSource(Deadline);
        await using var a = await LeaseSession.StartAsync(fixture.NewClient("waiter-a"), TimeSpan.FromSeconds(5));
        await using var b = await LeaseSession.StartAsync(fixture.NewClient("waiter-b"), TimeSpan.FromSeconds(2));
        await using var c = await LeaseSession.StartAsync(fixture.NewClient("waiter-c"), TimeSpan.FromSeconds(5));
        var heldA = await new DistributedLock(a, prefix).LockAsync(timeout.Token);
        var lockB = new DistributedLock(b, prefix);
        var waitB = lockB.LockAsync(timeout.Token);
        await WaitForKeyAsync(lockB.Key, present: true);

        // B stalls while queued; its key goes with its lease, and C queues behind A.
        b.PauseKeepAlives();
        await WaitForKeyAsync(lockB.Key, present: false);
        Assert.False(waitB.IsCompleted);
        var waitC = new DistributedLock(c, prefix).LockAsync(timeout.Token);
        await heldA.UnlockAsync(timeout.Token);

        var lost = await Assert.ThrowsAsync<LeaseLostException>(() => waitB);
        output.WriteLine(lost.Message);
        Assert.Equal(b.LeaseId, lost.LeaseId);
        Assert.Contains($"lease {b.LeaseIdHex}", lost.Message);
        var heldC = await waitC;
        Assert.True(heldC.FencingToken > heldA.FencingToken);
        await heldC.UnlockAsync(timeout.Token);
    }

    private Task WaitForKeyAsync(string key, bool present)
    {
        var client = fixture.NewClient("lock-probe");
        return Eventually.WaitAsync(
            async () => (await client.RangeAsync(new RangeRequest(B(key)))).Count == (present ? 1 : 0),
            Deadline,
            () => $"lock key {key} {(present ? "created" : "deleted")}");
    }
}
