using Orleans.Patterns.Coordination;
using Orleans.Patterns.Raft;
using Orleans.Patterns.Tests.Infrastructure;
using Xunit.Abstractions;
using static Orleans.Patterns.Tests.Coordination.Bytes;

namespace Orleans.Patterns.Tests.Coordination.Cluster;

/// <summary>The coordination store through real silos: writes through the Raft leader, reads and watches where they are served.</summary>
[Trait("Category", "Cluster")]
[Collection(CoordinationClusterCollection.Name)]
public sealed class CoordinationClusterTests(CoordinationClusterFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Writes_commit_through_the_leader_and_every_replica_serves_them()
    {
        var client = fixture.NewClient("kv");
        var first = await client.PutAsync(new PutRequest(B("/basic/a"), B("1")));
        var second = await client.PutAsync(new PutRequest(B("/basic/a"), B("2")) { PrevKv = true });
        Assert.Equal(first.Revision + 1, second.Revision);
        Assert.Equal("1", S(second.PrevKv!.Value));

        var txn = await client.TxnAsync(new TxnRequest(
            [new Compare(B("/basic/a"), CompareTarget.Value, CompareResult.Equal) { Value = B("2") }],
            [new PutRequest(B("/basic/b"), B("from-txn"))],
            [new DeleteRangeRequest(B("/basic/a"))]));
        Assert.True(txn.Succeeded);

        var linearizable = await client.RangeAsync(new RangeRequest(B("/basic/")) { RangeEnd = ByteKeys.PrefixEnd(B("/basic/")) });
        Assert.Equal(["/basic/a", "/basic/b"], Keys(linearizable));
        Assert.Equal(2, linearizable.Kvs[0].Version);

        // Each replica answers serializable reads from what it applied; all catch up to the txn's revision.
        foreach (var replica in CoordinationClusterFixture.Voters)
        {
            var local = fixture.NewClient("local", replica);
            await Eventually.WaitAsync(
                async () => (await local.RangeAsync(new RangeRequest(B("/basic/b")) { Serializable = true })).Revision >= txn.Revision,
                TimeSpan.FromSeconds(10),
                () => $"{replica} applying revision {txn.Revision}");
            var read = await local.RangeAsync(new RangeRequest(B("/basic/b")) { Serializable = true });
            Assert.Equal("from-txn", S(read.Kvs.Single().Value));
        }

        var refused = await Assert.ThrowsAsync<CoordinationException>(() => client.RangeAsync(new RangeRequest(B("/basic/a")) { Revision = txn.Revision + 100 }));
        Assert.Equal(CoordinationErrorCode.FutureRevision, refused.Code);
    }

    [Fact]
    public async Task A_watch_on_a_follower_sees_every_change_in_order_from_its_start_revision()
    {
        var client = fixture.NewClient("watch-writer");
        var start = (await client.PutAsync(new PutRequest(B("/watch/k"), B("v0")))).Revision;
        for (var i = 1; i <= 20; i++)
        {
            await client.PutAsync(new PutRequest(B($"/watch/k{i % 3}"), B($"v{i}")));
        }

        await client.DeleteRangeAsync(new DeleteRangeRequest(B("/watch/k1")));
        var leader = client.Router.Leader!;
        var follower = CoordinationClusterFixture.Voters.First(v => v != leader);
        var watcher = fixture.NewClient("watcher", follower);
        var seen = new List<Event>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await foreach (var response in watcher.WatchAsync(
            new WatchRequest(B("/watch/")) { RangeEnd = ByteKeys.PrefixEnd(B("/watch/")), StartRevision = start, PrevKv = true },
            TimeSpan.FromMilliseconds(200),
            timeout.Token))
        {
            seen.AddRange(response.Events);
            if (seen.Count >= 22)
            {
                break;
            }
        }

        output.WriteLine($"leader {leader}, watched on {follower}: {seen.Count} events");
        Assert.Equal(Enumerable.Range(0, 22).Select(i => start + i), seen.Select(e => e.Kv.ModRevision));
        Assert.Equal(EventType.Delete, seen[^1].Type);
        Assert.Equal("v19", S(seen[^1].PrevKv!.Value));
    }

    [Fact]
    public async Task A_lease_kept_alive_holds_its_key_and_an_abandoned_one_expires_on_the_leaders_clock()
    {
        // The kept lease outlives the abandoned one only through its keep-alives: the loop below runs past its TTL.
        // Its TTL is twice the abandoned one's so that a stall of the test process (a loaded machine) between two
        // keep-alives, or between the last one and the revoke, does not expire it.
        const int KeptTtl = 4;
        var client = fixture.NewClient("lease");
        var kept = await client.LeaseGrantAsync(KeptTtl);
        var abandoned = await client.LeaseGrantAsync(2);
        await client.PutAsync(new PutRequest(B("/lease/kept"), B("x")) { Lease = kept.ID });
        await client.PutAsync(new PutRequest(B("/lease/abandoned"), B("y")) { Lease = abandoned.ID });
        var ttl = await client.LeaseTimeToLiveAsync(abandoned.ID, keys: true);
        Assert.InRange(ttl.TTL, 0, 2);
        Assert.Equal("/lease/abandoned", S(ttl.Keys.Single()));
        Assert.Contains(kept.ID, (await client.LeasesAsync()).Leases);

        var started = DateTime.UtcNow;
        var gone = started + TimeSpan.FromSeconds(10);
        var pastKeptTtl = started + TimeSpan.FromSeconds(KeptTtl + 1);
        while (DateTime.UtcNow < gone && (DateTime.UtcNow < pastKeptTtl || (await client.RangeAsync(new RangeRequest(B("/lease/abandoned")))).Count > 0))
        {
            Assert.Equal(KeptTtl, (await client.LeaseKeepAliveAsync(kept.ID)).TTL);
            await Task.Delay(300);
        }

        Assert.Equal(0, (await client.RangeAsync(new RangeRequest(B("/lease/abandoned")))).Count);
        Assert.Equal(KeptTtl, (await client.LeaseKeepAliveAsync(kept.ID)).TTL);
        Assert.Equal(1, (await client.RangeAsync(new RangeRequest(B("/lease/kept")))).Count);
        Assert.Equal(-1, (await client.LeaseTimeToLiveAsync(abandoned.ID)).TTL);
        Assert.Equal(0, (await client.LeaseKeepAliveAsync(abandoned.ID)).TTL);
        await client.LeaseRevokeAsync(kept.ID);
        Assert.Equal(0, (await client.RangeAsync(new RangeRequest(B("/lease/kept")))).Count);
    }

    [Fact]
    public async Task The_leader_compacts_history_past_the_retention_and_old_revisions_are_refused_naming_the_compaction()
    {
        var client = fixture.NewClient("compaction");
        var first = (await client.PutAsync(new PutRequest(B("/compaction/k"), B("0")))).Revision;
        for (var i = 1; i <= 2 * CoordinationClusterFixture.Retention; i++)
        {
            await client.PutAsync(new PutRequest(B("/compaction/k"), B($"{i}")));
        }

        CoordinationException? refused = null;
        await Eventually.WaitAsync(
            async () =>
            {
                refused = await Record.ExceptionAsync(() => client.RangeAsync(new RangeRequest(B("/compaction/k")) { Revision = first })) as CoordinationException;
                return refused is not null;
            },
            TimeSpan.FromSeconds(10),
            () => $"the leader compacting past revision {first}");
        Assert.Equal(CoordinationErrorCode.Compacted, refused!.Code);
        Assert.True(refused.Error.Revision >= first, $"compacted through {refused.Error.Revision}, not past {first}");
        Assert.Contains($"compacted revision {refused.Error.Revision}", refused.Message);

        // The retained window still answers, and a watch from before it is refused with the same revision named.
        var current = await client.RangeAsync(new RangeRequest(B("/compaction/k")));
        Assert.Equal("600", S((await client.RangeAsync(new RangeRequest(B("/compaction/k")) { Revision = current.Revision })).Kvs.Single().Value));
        var watch = await Assert.ThrowsAsync<CoordinationException>(() => client.WatchOnceAsync(new WatchRequest(B("/compaction/k")) { StartRevision = first }, TimeSpan.Zero));
        Assert.Equal(CoordinationErrorCode.Compacted, watch.Code);
    }

    [Fact]
    public async Task Commands_are_checked_where_they_arrive()
    {
        var leader = fixture.NewClient("bad");
        await leader.PutAsync(new PutRequest(B("/bad/x"), B("1")));
        var replica = fixture.Cluster.Client.GetGrain<IRaftReplicaGrain>(leader.Router.Leader!);
        var garbage = await Assert.ThrowsAsync<ArgumentException>(() => replica.Coordinate([1, 2, 3]));
        Assert.Contains("malformed coordination command", garbage.Message);
        var clock = new CoordinationCommand("c", 1, new ExpireLeasesRequest(long.MaxValue)).Encode();
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => replica.Coordinate(clock));
        Assert.Contains("leader's clock", refused.Message);
        var refresh = new CoordinationCommand("c", 2, new RefreshLeasesRequest([new(1, long.MaxValue / 2)])).Encode();
        Assert.Contains("RefreshLeasesRequest is decided by the leader's clock", (await Assert.ThrowsAsync<ArgumentException>(() => replica.Coordinate(refresh))).Message);
    }
}
