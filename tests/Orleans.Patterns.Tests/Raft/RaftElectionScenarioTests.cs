using Orleans.Patterns.Raft;
using Orleans.Patterns.Tests.Raft.Simulation;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Raft;

/// <summary>Leader election scenarios after MIT 6.824 lab 3A (2A).</summary>
[Trait("Category", "Unit")]
public sealed class RaftElectionScenarioTests(ITestOutputHelper output) : SimulationTest(output)
{
    [Fact]
    public void InitialElection() => Run(1, 3, SimNetwork.Reliable, cluster =>
    {
        var leader = cluster.CheckOneLeader();
        var term = leader.Raft!.Term;
        Assert.True(term >= 1);

        // With no failures the term stays put: heartbeats suppress elections.
        Sleep(cluster, 2000);
        Assert.Equal(term, cluster.Nodes.Max(n => n.Raft!.Term));
        Assert.Same(leader, cluster.CheckOneLeader());
    });

    [Fact]
    public void ReElection() => Run(2, 3, SimNetwork.Reliable, cluster =>
    {
        var leader1 = cluster.CheckOneLeader();
        cluster.Disconnect(leader1);
        var leader2 = cluster.CheckOneLeader();
        Assert.NotSame(leader1, leader2);

        // The old leader rejoins: it must not disturb the new one.
        cluster.Connect(leader1);
        Assert.Same(leader2, cluster.CheckOneLeader());

        // Without a quorum no leader is elected, and check-quorum deposes the stranded one.
        cluster.Disconnect(leader2);
        var other = cluster.Nodes.First(n => n != leader2 && cluster.IsConnected(n) && n != leader1);
        cluster.Disconnect(other);
        Sleep(cluster, 2000);
        Assert.Null(cluster.Leader());
        Assert.DoesNotContain(cluster.Nodes, n => n.Raft!.Role == RaftRole.Leader);

        cluster.Connect(other);
        cluster.CheckOneLeader();
        cluster.Connect(leader2);
        cluster.CheckOneLeader();
    });

    [Fact]
    public void ManyElections() => Run(3, 7, SimNetwork.Reliable, cluster =>
    {
        cluster.CheckOneLeader();
        for (var iteration = 0; iteration < 10; iteration++)
        {
            var down = cluster.Nodes.OrderBy(_ => cluster.Random.Next()).Take(3).ToList();
            foreach (var node in down)
            {
                cluster.Disconnect(node);
            }

            // Four of seven are a majority: they must elect a leader among themselves.
            var leader = cluster.CheckOneLeader();
            Assert.DoesNotContain(leader, down);
            foreach (var node in down)
            {
                cluster.Connect(node);
            }
        }

        cluster.CheckOneLeader();
    });

    [Fact]
    public void PreVote_PartitionedNodeDoesNotRaiseTermOrDisruptOnRejoin() => Run(4, 3, SimNetwork.Reliable, cluster =>
    {
        var leader = cluster.CheckOneLeader();
        var follower = cluster.Nodes.First(n => n != leader);
        var term = leader.Raft!.Term;
        cluster.Disconnect(follower);
        Sleep(cluster, 3000);

        // Thesis §9.6: the isolated node keeps losing pre-votes, so its term stays where it was.
        Assert.Equal(term, follower.Raft!.Term);
        cluster.Connect(follower);
        Sleep(cluster, 1000);
        Assert.Same(leader, cluster.CheckOneLeader());
        Assert.Equal(term, leader.Raft.Term);
    });

    [Fact]
    public void FailoverTime_MedianUnder300Milliseconds()
    {
        var samples = new List<double>();
        Run(5, 3, SimNetwork.Reliable, cluster =>
        {
            for (var i = 0; i < 30; i++)
            {
                var leader = cluster.CheckOneLeader();
                Sleep(cluster, 200);
                var crashedAt = cluster.Now;
                cluster.Crash(leader);
                cluster.RunUntil(() => cluster.Leader() is not null, TimeSpan.FromSeconds(5));
                samples.Add((cluster.Now - crashedAt).TotalMilliseconds);
                cluster.Restart(leader);
            }
        });

        samples.Sort();
        var median = samples[samples.Count / 2];
        Output.WriteLine($"failover median {median:F0} ms, max {samples[^1]:F0} ms");
        Assert.True(median <= 300, $"median failover {median} ms");
    }
}
