using System.Globalization;
using Orleans.Patterns.Chaos;
using Orleans.Patterns.Client.Commands;
using Orleans.Patterns.Placement;
using Orleans.Patterns.Raft;
using Orleans.Patterns.Tests.Client;
using Orleans.Patterns.Tests.Infrastructure;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Raft.Cluster;

/// <summary>
/// The replicas' own transport on real silos (<c>raft:peer_transport</c> tcp, the default): once connected, the
/// leader's appends and the followers' answers travel on it and none as Orleans calls; the chaos rules fault it as
/// they fault the calls it replaces; a stopped silo's connection goes down and the rest carry on.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class RaftPeerTransportClusterTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly string _dataRoot = Path.Combine(Path.GetTempPath(), "orleans-patterns-raft-transport-" + Guid.NewGuid().ToString("N"));
    private InProcessTestCluster _cluster = null!;
    private IReadOnlyList<string> _names = [];

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(3);
        builder.ConfigureSilo((_, silo) => silo
            .AddRaftReplicas(o =>
            {
                o.DataDirectory = _dataRoot;
                o.InitialVoters = ["Silo_0", "Silo_1", "Silo_2"];
            })
            .AddChaos(o => o.ScopedInterfaces.Add(nameof(IRaftReplicaGrain))));
        _cluster = builder.Build();
        await _cluster.DeployAsync();
        _names = await _cluster.Client.GetActiveSiloNamesAsync();
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
    public async Task Once_connected_the_replicas_messages_travel_on_the_transport_and_none_as_Orleans_calls()
    {
        var leader = await RaftLeaders.WaitForSingleLeaderAsync(_cluster.Client, _names, Deadline);
        var followers = _names.Where(n => n != leader).ToArray();
        var kv = new RaftKvClient(_cluster.Client, _names, "transport");
        await WaitConnectedAsync(leader, followers, kv);

        var before = await StatusesAsync();
        const int Writes = 40;
        for (var i = 0; i < Writes; i++)
        {
            Assert.True((await kv.PutAsync($"k{i}", $"v{i}")).Applied);
        }

        var after = await StatusesAsync();
        Print(after);
        foreach (var follower in followers)
        {
            // Every write is committed before the next starts, so each reaches each follower in an append of its own.
            Assert.True(Link(after[leader], follower).Sent - Link(before[leader], follower).Sent >= Writes, $"{leader} sent to {follower} on the transport");
            Assert.True(Link(after[follower], leader).Received - Link(before[follower], leader).Received >= Writes, $"{follower} received from {leader} on the transport");
            Assert.True(Link(after[follower], leader).Sent - Link(before[follower], leader).Sent >= Writes, $"{follower} answered {leader} on the transport");
        }

        // Nothing between the leader and a follower went as an Orleans call, either way. (A follower's own counters may
        // move: one whose election timer fires on a loaded machine sends a pre-vote to the other follower, and the
        // first message on a link not opened yet goes as a call while the connection opens.)
        Assert.All(_names, name => Assert.Equal("tcp", after[name].Transport));
        Assert.Equal(before[leader].SentThroughOrleans, after[leader].SentThroughOrleans);
        Assert.Equal(before[leader].ReceivedThroughOrleans, after[leader].ReceivedThroughOrleans);

        // What `raft transport` prints: each replica with its endpoint, a row per peer with its link, and its Orleans calls.
        var console = new TestConsole();
        console.Console.Profile.Width = 160;
        console.Console.Write(RaftCommands.TransportTable(after.ToDictionary(p => p.Key, p => (object)p.Value)));
        output.WriteLine(console.Output);
        var rows = console.Output.Split('\n');
        foreach (var name in _names)
        {
            Assert.Contains(rows, r => r.Contains($"{name} tcp {after[name].Endpoint}", StringComparison.Ordinal));
        }

        foreach (var follower in followers)
        {
            Assert.Contains(rows, r => r.Contains($"│ {follower} ", StringComparison.Ordinal) && r.Contains(" up ", StringComparison.Ordinal)
                && r.Contains(Link(after[leader], follower).Sent.ToString("N0", CultureInfo.InvariantCulture), StringComparison.Ordinal));
        }

        Assert.Equal(_names.Count, rows.Count(r => r.Contains("as Orleans calls", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task The_chaos_rules_drop_the_transport_messages_of_a_partitioned_replica_and_it_catches_up_after_the_heal()
    {
        var leader = await RaftLeaders.WaitForSingleLeaderAsync(_cluster.Client, _names, Deadline);
        var followers = _names.Where(n => n != leader).ToArray();
        var kv = new RaftKvClient(_cluster.Client, _names, "transport-chaos");
        await WaitConnectedAsync(leader, followers, kv);

        var cut = followers[0];
        var cutReplica = _cluster.Client.GetGrain<IRaftReplicaGrain>(cut);
        await _cluster.Client.SetRulesEverywhereAsync([new PartitionRule("cut-follower", [nameof(IRaftReplicaGrain)], [[cut], [.. _names.Where(n => n != cut)]])]);
        var cutAt = await cutReplica.GetStatus();
        var dropsBefore = Link((await StatusesAsync())[cut], leader).DroppedByChaos;

        KvWriteResult last = null!;
        for (var i = 0; i < 20; i++)
        {
            last = await kv.PutAsync($"p{i}", $"v{i}"); // committed by the leader and the other follower
        }

        var cutSees = await cutReplica.GetStatus();
        var statuses = await StatusesAsync();
        Print(statuses);
        Assert.True(Link(statuses[cut], leader).DroppedByChaos > dropsBefore, $"{cut}'s chaos rules dropped {leader}'s messages");
        Assert.True(cutSees.CommitIndex < last.Index, $"{cut} committed {cutSees.CommitIndex} behind the partition, the leader {last.Index}");
        Assert.True(cutSees.CommitIndex <= cutAt.CommitIndex + 1, $"{cut} moved from {cutAt.CommitIndex} to {cutSees.CommitIndex} while cut off");

        await _cluster.Client.HealEverywhereAsync();
        await Eventually.WaitAsync(
            async () => (await cutReplica.GetStatus()).AppliedIndex >= last.Index,
            Deadline,
            () => $"{cut} applying through {last.Index} after the heal");
    }

    [Fact]
    public async Task A_stopped_silos_connection_goes_down_and_the_others_keep_committing()
    {
        var leader = await RaftLeaders.WaitForSingleLeaderAsync(_cluster.Client, _names, Deadline);
        var followers = _names.Where(n => n != leader).ToArray();
        var kv = new RaftKvClient(_cluster.Client, _names, "transport-stop");
        await WaitConnectedAsync(leader, followers, kv);

        var stopped = followers[0];
        await _cluster.StopSiloAsync(_cluster.Silos.Single(s => s.Name == stopped));
        var leaderReplica = _cluster.Client.GetGrain<IRaftReplicaGrain>(leader);
        await Eventually.WaitAsync(
            async () => !Link(await leaderReplica.GetPeerTransportStatus(), stopped).Connected,
            Deadline,
            () => $"{leader}'s connection to the stopped {stopped} going down");

        var written = await kv.PutAsync("after-stop", "v");
        Assert.True(written.Applied);
        var survivor = Link(await leaderReplica.GetPeerTransportStatus(), followers[1]);
        Assert.True(survivor.Connected, $"{leader}'s connection to {followers[1]} stays up");
    }

    // Writes until the leader has a connection to each follower and each follower one back (they open on first use).
    private async Task WaitConnectedAsync(string leader, IReadOnlyList<string> followers, RaftKvClient kv)
    {
        var n = 0;
        await Eventually.WaitAsync(
            async () =>
            {
                await kv.PutAsync("warm-up", $"{n++}");
                var statuses = await StatusesAsync();
                return followers.All(f => Link(statuses[leader], f).Connected && Link(statuses[f], leader).Connected);
            },
            Deadline,
            () => "the leader's and the followers' transport connections");
    }

    private async Task<Dictionary<string, RaftPeerTransportStatus>> StatusesAsync()
    {
        var statuses = await Task.WhenAll(_names.Select(n => _cluster.Client.GetGrain<IRaftReplicaGrain>(n).GetPeerTransportStatus()));
        return statuses.ToDictionary(s => s.Node);
    }

    private static RaftPeerLinkStatus Link(RaftPeerTransportStatus status, string peer) =>
        status.Peers.FirstOrDefault(p => p.Peer == peer) ?? new RaftPeerLinkStatus(peer, false, 0, 0, 0, 0);

    private void Print(Dictionary<string, RaftPeerTransportStatus> statuses)
    {
        foreach (var status in statuses.Values)
        {
            output.WriteLine($"{status.Node} {status.Transport} {status.Endpoint}: orleans sent {status.SentThroughOrleans} received {status.ReceivedThroughOrleans}; " +
                string.Join("; ", status.Peers.Select(p => $"{p.Peer} {(p.Connected ? "up" : "down")} sent {p.Sent} received {p.Received} dropped {p.DroppedUnread}/{p.DroppedByChaos}")));
        }
    }
}
