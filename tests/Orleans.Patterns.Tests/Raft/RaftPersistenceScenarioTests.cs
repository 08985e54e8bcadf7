using Orleans.Patterns.Tests.Raft.Simulation;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Raft;

/// <summary>Crash, restart and unreliable-network scenarios after MIT 6.824 lab 3C (2C).</summary>
[Trait("Category", "Unit")]
public sealed class RaftPersistenceScenarioTests(ITestOutputHelper output) : SimulationTest(output)
{
    [Fact]
    public void PersistenceAcrossCrashes() => Run(21, 3, SimNetwork.Reliable, cluster =>
    {
        cluster.One("k", "11", 3);
        foreach (var node in cluster.Nodes)
        {
            cluster.Restart(node);
        }

        cluster.One("k", "12", 3);
        var leader1 = cluster.CheckOneLeader();
        cluster.Restart(leader1);
        cluster.One("k", "13", 3);

        var leader2 = cluster.CheckOneLeader();
        cluster.Crash(leader2);
        cluster.One("k", "14", 2);
        cluster.Restart(leader2);

        // The restarted node catches up from its disk plus the leader.
        var index = cluster.One("k", "15", 3);
        Assert.Equal("k=15", cluster.NCommitted(index).Command);
    });

    [Fact]
    public void MorePersistence() => Run(22, 5, SimNetwork.Reliable, cluster =>
    {
        var value = 0;
        for (var iteration = 0; iteration < 5; iteration++)
        {
            cluster.One("k", $"{++value}", 5);
            var leader1 = cluster.CheckOneLeader();
            var next = cluster.Nodes[(cluster.Nodes.ToList().IndexOf(leader1) + 1) % 5];
            cluster.Crash(next);
            cluster.Crash(leader1);
            cluster.One("k", $"{++value}", 3);

            var leader2 = cluster.CheckOneLeader();
            var third = cluster.Nodes.First(n => n.IsUp && n != leader2);
            cluster.Crash(leader2);
            cluster.Crash(third);
            cluster.Restart(next);
            cluster.Restart(leader1);
            cluster.Restart(third);
            cluster.One("k", $"{++value}", 3);
            cluster.Restart(leader2);
        }

        cluster.One("k", "final", 5);
    });

    [Fact]
    public void Figure8Reliable() => Run(23, 5, SimNetwork.Reliable, cluster => RaftScenarios.Figure8(cluster, crash: true, iterations: 300));

    [Fact]
    public void Figure8Unreliable() => Run(24, 5, SimNetwork.Unreliable, cluster => RaftScenarios.Figure8(cluster, crash: false, iterations: 400));

    [Fact]
    public void ReliableChurn() => Run(25, 5, SimNetwork.Reliable, RaftScenarios.Churn);

    [Fact]
    public void UnreliableChurn() => Run(26, 5, SimNetwork.Unreliable, RaftScenarios.Churn);

    [Fact]
    public void SameSeedReplaysTheSameRun()
    {
        string Fingerprint()
        {
            var fingerprint = "";
            Run(27, 5, SimNetwork.Unreliable, cluster =>
            {
                RaftScenarios.Churn(cluster);
                fingerprint = $"{cluster.Now.Ticks}/{cluster.MessagesSent}/" + string.Join(
                    ";", cluster.Nodes.Select(n => string.Join(",", n.AppliedLog.OrderBy(p => p.Key).Select(p => p.Value))));
            }, snapshotEvery: 7);
            return fingerprint;
        }

        Assert.Equal(Fingerprint(), Fingerprint());
    }

    /// <summary>More seeds of the randomized scenarios than one fixed seed explores; each prints its seed for replay.</summary>
    [Theory]
    [InlineData(1001)]
    [InlineData(1002)]
    [InlineData(1003)]
    [InlineData(1004)]
    [InlineData(1005)]
    [InlineData(1006)]
    [InlineData(1007)]
    [InlineData(1008)]
    public void SeedSweep(int seed)
    {
        Run(seed, 5, SimNetwork.Unreliable, cluster => RaftScenarios.Figure8(cluster, crash: seed % 2 == 0, iterations: 300));
        Run(seed, 5, SimNetwork.Unreliable, RaftScenarios.Churn);
        Run(seed, 3, SimNetwork.Reliable, RaftScenarios.Churn);
    }
}
