using System.Diagnostics;
using System.Globalization;
using System.Text;
using Orleans.Patterns.Coordination;
using Orleans.Patterns.Raft;
using Orleans.Patterns.Tests.Infrastructure;
using Xunit.Abstractions;
using static Orleans.Patterns.Tests.Coordination.Bytes;

namespace Orleans.Patterns.Tests.Coordination.Cluster;

/// <summary>
/// The leader's gathering of the fronts' batches (<see cref="ProposalGathering{T}"/>, on in the fixture with the
/// default raft:gather_wait) against the real cluster: three clients, one per silo as the etcd endpoints' fronts are,
/// writing in a loop. Each writer owns its key, so a key's version counts exactly the puts applied to it: a write
/// lost or applied twice shows there.
/// </summary>
[Trait("Category", "Cluster")]
[Collection(CoordinationClusterCollection.Name)]
public sealed class GatheringClusterTests(CoordinationClusterFixture fixture, ITestOutputHelper output)
{
    private const int WritersPerFront = 4;
    private const int PutsPerWriter = 25;

    [Fact]
    public async Task Three_fronts_writing_at_once_share_the_leaders_rounds_and_each_put_applies_once()
    {
        var before = await GatheredAsync();
        var keys = await WriteFromThreeFrontsAsync("shared", moveLeadership: false);
        var after = await GatheredAsync();

        var rounds = after.Rounds - before.Rounds;
        var batches = after.Batches - before.Batches;
        output.WriteLine($"{batches} batches in {rounds} gathered rounds");
        Assert.True(rounds > 0, "the leader gathered the fronts' batches into rounds");
        Assert.True(batches > rounds, $"some rounds carried more than one front's batch: {batches} batches in {rounds} rounds");
        await AssertEachPutAppliedOnceAsync(keys);
    }

    [Fact]
    public async Task Batches_held_when_leadership_moves_are_retried_at_the_new_leader_and_each_put_applies_once()
    {
        var keys = await WriteFromThreeFrontsAsync("moved", moveLeadership: true);
        await AssertEachPutAppliedOnceAsync(keys);
    }

    [Fact]
    public async Task A_batch_held_for_a_front_that_never_comes_back_leaves_when_the_wait_runs_out()
    {
        const int Rounds = 10;
        var prefix = $"/gathering/late-{Guid.NewGuid():N}";
        var steady = fixture.NewClient("steady");
        var held = TimeSpan.Zero;
        for (var i = 0; i < Rounds; i++)
        {
            // A front that writes once and never again: the leader waits for it after its round, and a put from
            // another front that arrives meanwhile is held until the wait runs out. Only the wait's timer releases it
            // (nothing else arrives); without it the put would stay until its call's 5 s response timeout and go with
            // the retry.
            var once = fixture.NewClient($"once-{i}");
            await once.PutAsync(new PutRequest(B($"{prefix}/once-{i}"), B("1")));
            var started = Stopwatch.GetTimestamp();
            await steady.PutAsync(new PutRequest(B($"{prefix}/steady"), B(i.ToString(CultureInfo.InvariantCulture))));
            held += Stopwatch.GetElapsedTime(started);
        }

        // A liveness bound, not a speed figure: half of what ten puts released only by their retries would take.
        output.WriteLine($"{Rounds} puts held for a front that never came back took {held.TotalMilliseconds:0} ms in all");
        Assert.True(held < TimeSpan.FromSeconds(25), $"{Rounds} held puts took {held.TotalSeconds:0.0} s: the wait's timer did not release them");
        var kv = Assert.Single((await steady.RangeAsync(new RangeRequest(B($"{prefix}/steady")))).Kvs);
        Assert.Equal(Rounds, kv.Version);
    }

    /// <summary>Every writer's puts, a writer's in order; returns the writers' keys. Optionally moves leadership twice meanwhile.</summary>
    private async Task<IReadOnlyList<byte[]>> WriteFromThreeFrontsAsync(string name, bool moveLeadership)
    {
        var prefix = $"/gathering/{name}-{Guid.NewGuid():N}";
        var fronts = CoordinationClusterFixture.Voters.Select(v => fixture.NewClient($"front-{v}", v)).ToArray();
        var keys = new List<byte[]>();
        var writers = new List<Task>();
        for (var f = 0; f < fronts.Length; f++)
        {
            for (var w = 0; w < WritersPerFront; w++)
            {
                var key = B($"{prefix}/{f}/{w}");
                keys.Add(key);
                var front = fronts[f];
                writers.Add(Task.Run(async () =>
                {
                    for (var i = 1; i <= PutsPerWriter; i++)
                    {
                        await front.PutAsync(new PutRequest(key, B(i.ToString(CultureInfo.InvariantCulture))));
                    }
                }));
            }
        }

        if (moveLeadership)
        {
            for (var move = 0; move < 2; move++)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(150));
                var statuses = await Task.WhenAll(CoordinationClusterFixture.Voters.Select(v => fixture.Cluster.Client.GetGrain<IRaftReplicaGrain>(v).GetStatus()));
                if (statuses.FirstOrDefault(s => s.Role == "Leader") is { } leader)
                {
                    var target = CoordinationClusterFixture.Voters.First(v => v != leader.Node);
                    output.WriteLine($"moving leadership from {leader.Node} (term {leader.Term}) to {target}");
                    await fixture.Cluster.Client.GetGrain<IRaftReplicaGrain>(leader.Node).TransferLeadership(target);
                }
            }
        }

        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(60));
        return keys;
    }

    private async Task AssertEachPutAppliedOnceAsync(IReadOnlyList<byte[]> keys)
    {
        var reader = fixture.NewClient("gathering-reader");
        foreach (var key in keys)
        {
            var kv = Assert.Single((await reader.RangeAsync(new RangeRequest(key))).Kvs);
            Assert.Equal(PutsPerWriter.ToString(CultureInfo.InvariantCulture), Encoding.UTF8.GetString(kv.Value));
            Assert.Equal(PutsPerWriter, kv.Version); // one version per put applied: none lost, none twice
        }
    }

    private async Task<(long Rounds, long Batches)> GatheredAsync()
    {
        var latencies = await Task.WhenAll(CoordinationClusterFixture.Voters.Select(v => fixture.Cluster.Client.GetGrain<IRaftReplicaGrain>(v).GetWritePathLatency()));
        return (latencies.Sum(l => l.GatheredRounds), latencies.Sum(l => l.GatheredBatches));
    }
}
