using Orleans.Patterns.Tests.Raft.Simulation;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Raft;

/// <summary>Log compaction and snapshot installation scenarios after MIT 6.824 lab 3D (2D).</summary>
[Trait("Category", "Unit")]
public sealed class RaftSnapshotScenarioTests(ITestOutputHelper output) : SimulationTest(output)
{
    private const int SnapshotEvery = 10;

    [Fact]
    public void SnapshotBasic() => Run(31, 3, SimNetwork.Reliable, cluster =>
    {
        for (var i = 0; i < 40; i++)
        {
            cluster.One("k", $"{i}", 3);
        }

        // Every server compacted its log.
        Assert.All(cluster.Nodes, n => Assert.True(n.Storage.SnapshotIndex >= 30, $"{n.Id} snapshot at {n.Storage.SnapshotIndex}"));
        Assert.All(cluster.Nodes, n => Assert.True(n.Storage.Entries.Count < 2 * SnapshotEvery));
    }, snapshotEvery: SnapshotEvery);

    [Fact]
    public void SnapshotInstall() => InstallScenario(32, SimNetwork.Reliable, crash: false);

    [Fact]
    public void SnapshotInstallUnreliable() => InstallScenario(33, SimNetwork.Unreliable, crash: false);

    [Fact]
    public void SnapshotInstallCrash() => InstallScenario(34, SimNetwork.Reliable, crash: true);

    [Fact]
    public void SnapshotInstallUnreliableCrash() => InstallScenario(35, SimNetwork.Unreliable, crash: true);

    [Fact]
    public void SnapshotAllCrash() => Run(36, 3, SimNetwork.Reliable, cluster =>
    {
        for (var iteration = 0; iteration < 5; iteration++)
        {
            var first = cluster.One("k", $"a{iteration}", 3);
            for (var i = 0; i < SnapshotEvery + 1; i++)
            {
                cluster.One("k", $"b{iteration}.{i}", 3);
            }

            foreach (var node in cluster.Nodes)
            {
                cluster.Restart(node);
            }

            // A restarted server rebuilds its state from its snapshot plus the entries after it.
            var index = cluster.One("k", $"c{iteration}", 3);
            Assert.True(index > first);
        }

        Assert.All(cluster.Nodes, n => Assert.Equal(cluster.Nodes[0].StateMachine.Values, n.StateMachine.Values));
    }, snapshotEvery: SnapshotEvery);

    /// <summary>
    /// A follower is cut off (or crashed) while the others commit and compact far past its log, so when it returns the
    /// leader must send a snapshot (Raft §7).
    /// </summary>
    private void InstallScenario(int seed, SimNetwork network, bool crash) => Run(seed, 3, network, cluster =>
    {
        cluster.One("k", "start", 3);
        for (var iteration = 0; iteration < 4; iteration++)
        {
            var leader = cluster.CheckOneLeader();
            var victim = cluster.Nodes.First(n => n != leader);
            if (crash)
            {
                cluster.Crash(victim);
            }
            else
            {
                cluster.Disconnect(victim);
            }

            for (var i = 0; i < (3 * SnapshotEvery) + 1; i++)
            {
                cluster.One("k", $"{iteration}.{i}", 2);
            }

            var installedBefore = victim.Storage.SnapshotIndex;
            if (crash)
            {
                cluster.Restart(victim);
            }
            else
            {
                cluster.Connect(victim);
            }

            cluster.One("k", $"{iteration}.end", 3);
            Assert.True(victim.Storage.SnapshotIndex > installedBefore, $"{victim.Id} did not receive a snapshot");
        }

        var last = cluster.One("k", "final", 3);
        Assert.True(cluster.RunUntil(() => cluster.Nodes.All(n => n.StateMachine.AppliedIndex >= last), TimeSpan.FromSeconds(2)));
        Assert.All(cluster.Nodes, n => Assert.Equal(cluster.Nodes[0].StateMachine.Values, n.StateMachine.Values));
    }, snapshotEvery: SnapshotEvery);
}
