using Orleans.Patterns.Coordination;
using Orleans.Patterns.Placement;
using Orleans.Patterns.Raft;
using Orleans.Patterns.Tests.Infrastructure;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Raft.Cluster;

/// <summary>
/// The replica grains on real (in-process) silos: one per silo, pinned, log on disk. Each test builds its own
/// 3-silo cluster because each one stops a silo.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class RaftReplicaClusterTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan ElectionDeadline = TimeSpan.FromSeconds(20);
    private readonly string _dataRoot = Path.Combine(Path.GetTempPath(), "orleans-patterns-raft-" + Guid.NewGuid().ToString("N"));
    private InProcessTestCluster _cluster = null!;
    private IReadOnlyList<string> _names = [];

    public async Task InitializeAsync()
    {
        // TestingHost names silos Silo_0, Silo_1, …: those are the initial voters.
        var builder = new InProcessTestClusterBuilder(3);
        builder.ConfigureSilo((_, silo) => silo.AddRaftReplicas(o =>
        {
            o.DataDirectory = _dataRoot;
            o.InitialVoters = ["Silo_0", "Silo_1", "Silo_2"];
        }));
        _cluster = builder.Build();
        await _cluster.DeployAsync();
        _names = await _cluster.Client.GetActiveSiloNamesAsync();
        output.WriteLine($"silos: {string.Join(", ", _names)}; data under {_dataRoot}");
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        if (Directory.Exists(_dataRoot))
        {
            Directory.Delete(_dataRoot, recursive: true);
        }
    }

    [Fact]
    public async Task Replicas_elect_one_leader_and_replicate_acknowledged_writes_to_every_replica()
    {
        var leader = await WaitForSingleLeaderAsync(_names);
        var kv = new RaftKvClient(_cluster.Client, _names, "test-client");

        for (var i = 0; i < 20; i++)
        {
            var result = await kv.PutAsync($"k{i}", $"v{i}");
            Assert.True(result.Applied);
        }

        Assert.Equal("v7", (await kv.GetAsync("k7")).Value);
        Assert.Null((await kv.GetAsync("absent")).Value);
        var swapped = await kv.CompareAndSwapAsync("k1", "v1", "v1b");
        var refused = await kv.CompareAndSwapAsync("k1", "v1", "v1c");
        Assert.True(swapped.Applied);
        Assert.False(refused.Applied);
        Assert.Equal("v1b", refused.Previous);

        // Every replica applies the same log: wait until all have applied the last write.
        await Eventually.WaitAsync(
            async () => (await StatusesAsync(_names)).All(s => s.AppliedIndex >= refused.Index),
            ElectionDeadline,
            () => $"replicas applying through index {refused.Index} (leader {leader})");
        var statuses = await StatusesAsync(_names);
        Assert.All(statuses, s => Assert.Equal(["Silo_0", "Silo_1", "Silo_2"], s.Voters));
        Assert.Single(statuses, s => s.Role == "Leader");
        Assert.All(statuses, s => Assert.True(s.DiskBytes > 0, $"{s.Node} has nothing on disk"));
    }

    [Fact]
    public async Task After_the_leaders_silo_stops_a_new_leader_serves_every_acknowledged_write()
    {
        var leader = await WaitForSingleLeaderAsync(_names);
        var kv = new RaftKvClient(_cluster.Client, _names, "failover-client");
        for (var i = 0; i < 10; i++)
        {
            await kv.PutAsync($"before-{i}", $"{i}");
        }

        var victim = _cluster.Silos.Single(s => s.Name == leader);
        output.WriteLine($"stopping the leader's silo {leader}");
        await _cluster.StopSiloAsync(victim);
        await _cluster.WaitForLivenessToStabilizeAsync();

        var survivors = _names.Where(n => n != leader).ToList();
        var newLeader = await WaitForSingleLeaderAsync(survivors);
        Assert.NotEqual(leader, newLeader);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal($"{i}", (await kv.GetAsync($"before-{i}")).Value);
        }

        var after = await kv.PutAsync("after", "yes");
        Assert.True(after.Applied);
        Assert.Equal("yes", (await kv.GetAsync("after")).Value);
    }

    [Fact]
    public async Task Concurrent_sessions_on_one_channel_share_batches_and_each_write_applies_once_with_its_own_result()
    {
        await WaitForSingleLeaderAsync(_names);
        const int Sessions = 24;
        const int WritesEach = 15;
        var channel = new RaftKvChannel(_cluster.Client, _names);
        var sessions = Enumerable.Range(0, Sessions).Select(i => new RaftKvClient(channel, $"batched-{i}")).ToList();

        // Each session counts up its own key by compare-and-swap: a write applied twice, or answered with another
        // write's result, breaks the chain (the next swap expects the value this one set).
        await Task.WhenAll(sessions.Select(async (kv, i) =>
        {
            string? expected = null;
            for (var n = 0; n < WritesEach; n++)
            {
                var value = $"{i}:{n}";
                var result = await kv.CompareAndSwapAsync($"counter-{i}", expected, value);
                Assert.True(result.Applied, $"session {i} write {n}: expected {expected ?? "absent"}, found {result.Previous ?? "absent"}");
                Assert.Equal(expected, result.Previous);
                expected = value;
            }
        }));

        var (batches, writes) = channel.Writes.Sent;
        output.WriteLine($"{writes} writes in {batches} calls to the leader");
        Assert.Equal(Sessions * WritesEach, writes);
        Assert.True(batches < writes, $"{Sessions} concurrent sessions never shared a call ({batches} calls for {writes} writes)");
        for (var i = 0; i < Sessions; i++)
        {
            Assert.Equal($"{i}:{WritesEach - 1}", (await sessions[i].GetAsync($"counter-{i}")).Value);
        }
    }

    [Fact]
    public async Task A_batch_with_a_malformed_command_is_refused_whole_naming_it_and_the_batcher_sends_the_others_alone()
    {
        var leader = _cluster.Client.GetGrain<IRaftReplicaGrain>(await WaitForSingleLeaderAsync(_names));
        byte[] Put(string key) =>
            new CoordinationCommand($"batch-test/{key}", 1, new PutRequest(System.Text.Encoding.UTF8.GetBytes(key), System.Text.Encoding.UTF8.GetBytes("v"))).Encode();
        byte[] malformed = [0xFF, 0x01, 0x02];

        var refused = await Assert.ThrowsAsync<ArgumentException>(() => leader.CoordinateBatch(new CoordinationBatch([Put("whole-a"), malformed])));
        Assert.Contains("command 1 of the batch", refused.Message, StringComparison.Ordinal);
        var untouched = CoordinationWire.DecodeAnswer<RangeResponse>(await leader.Query(CoordinationWire.EncodeQuery(new CoordinationQuery.Range(new RangeRequest(System.Text.Encoding.UTF8.GetBytes("whole-a"))))));
        Assert.Empty(untouched.Kvs);

        // One batch in flight: the first write leaves alone, the next two wait and leave together, are refused
        // together, and go again one by one, so only the malformed one fails. The first call is held until both have
        // queued, or a leader answering between them (a paused test thread) would split them.
        var firstCallHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var batcher = new RaftWriteBatcher<byte[], byte[]>(
            new RaftLeaderRouter(_cluster.Client, _names),
            async (replica, commands) => (await replica.CoordinateBatch(new CoordinationBatch(commands))).Results,
            (replica, command) => replica.Coordinate(command)) { MaxInFlight = 1, BeforeSend = () => firstCallHeld.Task };
        var first = batcher.WriteAsync(Put("alone-1"));
        var good = batcher.WriteAsync(Put("alone-2"));
        var bad = batcher.WriteAsync(malformed);
        firstCallHeld.SetResult();
        CoordinationWire.DecodeResult(await first).ResponseOrThrow<PutResponse>();
        CoordinationWire.DecodeResult(await good).ResponseOrThrow<PutResponse>();
        var alone = await Assert.ThrowsAsync<ArgumentException>(() => bad);
        Assert.Contains("malformed coordination command", alone.Message, StringComparison.Ordinal);
        Assert.Equal((2L, 3L), batcher.Sent);
    }

    [Fact]
    public async Task A_write_cancelled_before_its_batch_leaves_is_never_sent_and_its_session_takes_the_next()
    {
        await WaitForSingleLeaderAsync(_names);

        // The first call is held until the second put has been queued and cancelled, so it cannot settle first.
        var firstCallHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var channel = new RaftKvChannel(_cluster.Client, _names);
        channel.Writes.MaxInFlight = 1;
        channel.Writes.BeforeSend = () => firstCallHeld.Task;
        var first = new RaftKvClient(channel, "cancel-first");
        var second = new RaftKvClient(channel, "cancel-second");

        // The first put holds the one call slot; the second waits in the queue and is cancelled there.
        using var cancel = new CancellationTokenSource();
        var holding = first.PutAsync("held", "1");
        var queued = second.PutAsync("dropped", "never", cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        firstCallHeld.SetResult();
        await holding;

        // Its session is free again, and nothing of the cancelled put reached the store.
        var next = await second.PutAsync("after-cancel", "yes");
        Assert.True(next.Applied);
        Assert.Null((await second.GetAsync("dropped")).Value);
        Assert.Equal((2L, 2L), channel.Writes.Sent);
    }

    private async Task<string> WaitForSingleLeaderAsync(IReadOnlyList<string> replicas)
    {
        var leader = await RaftLeaders.WaitForSingleLeaderAsync(_cluster.Client, replicas, ElectionDeadline);
        output.WriteLine($"leader: {leader}");
        return leader;
    }

    private async Task<IReadOnlyList<RaftReplicaStatus>> StatusesAsync(IReadOnlyList<string> replicas) =>
        await Task.WhenAll(replicas.Select(r => _cluster.Client.GetGrain<IRaftReplicaGrain>(r).GetStatus()));
}
