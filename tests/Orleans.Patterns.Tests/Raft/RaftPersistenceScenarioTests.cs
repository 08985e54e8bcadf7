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
    public void Figure8Reliable() => Run(23, 5, SimNetwork.Reliable, cluster => Figure8(cluster, crash: true, iterations: 300));

    [Fact]
    public void Figure8Unreliable() => Run(24, 5, SimNetwork.Unreliable, cluster => Figure8(cluster, crash: false, iterations: 400));

    [Fact]
    public void ReliableChurn() => Run(25, 5, SimNetwork.Reliable, Churn);

    [Fact]
    public void UnreliableChurn() => Run(26, 5, SimNetwork.Unreliable, Churn);

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
        Run(seed, 5, SimNetwork.Unreliable, cluster => Figure8(cluster, crash: seed % 2 == 0, iterations: 300));
        Run(seed, 5, SimNetwork.Unreliable, Churn);
        Run(seed, 3, SimNetwork.Reliable, Churn);
    }

    /// <summary>
    /// 6.824's Figure 8 test: leaders keep taking proposals and are crashed (or cut off) at random, so entries of older
    /// terms are often replicated to a majority without being committed — the situation of Raft Figure 8.
    /// </summary>
    private static void Figure8(SimCluster cluster, bool crash, int iterations)
    {
        var random = cluster.Random;
        cluster.One("k", "start", 1);
        var down = 0;
        for (var iteration = 0; iteration < iterations; iteration++)
        {
            SimNode? leader = null;
            foreach (var node in cluster.Nodes.Where(n => n.IsUp && cluster.IsConnected(n)))
            {
                if (cluster.Start(node, "f8", $"{iteration}") > 0)
                {
                    leader = node;
                }
            }

            Sleep(cluster, random.NextDouble() < 0.1 ? random.Next(75) : random.Next(13));
            if (leader is not null && (crash || random.NextDouble() < 0.5))
            {
                if (crash)
                {
                    cluster.Crash(leader);
                }
                else
                {
                    cluster.Disconnect(leader);
                }

                down++;
            }

            if (down >= 3)
            {
                var candidates = cluster.Nodes.Where(n => !n.IsUp || !cluster.IsConnected(n)).ToList();
                var revived = candidates[random.Next(candidates.Count)];
                if (revived.IsUp)
                {
                    cluster.Connect(revived);
                }
                else
                {
                    cluster.Restart(revived);
                }

                down--;
            }
        }

        foreach (var node in cluster.Nodes)
        {
            if (!node.IsUp)
            {
                cluster.Restart(node);
            }

            cluster.Connect(node);
        }

        cluster.Network = SimNetwork.Reliable;
        cluster.One("k", "end", 5);
    }

    /// <summary>6.824's churn: random crashes, restarts and disconnections while proposals keep coming.</summary>
    private static void Churn(SimCluster cluster)
    {
        var random = cluster.Random;
        var proposed = 0;
        for (var iteration = 0; iteration < 40; iteration++)
        {
            var node = cluster.Nodes[random.Next(cluster.Nodes.Count)];
            switch (random.Next(5))
            {
                case 0:
                    cluster.Disconnect(node);
                    break;
                case 1:
                    cluster.Connect(node);
                    break;
                case 2 when cluster.Nodes.Count(n => n.IsUp) > cluster.Nodes.Count / 2 + 1:
                    cluster.Crash(node);
                    break;
                default:
                    if (!node.IsUp)
                    {
                        cluster.Restart(node);
                    }

                    break;
            }

            for (var i = 0; i < 10; i++)
            {
                foreach (var candidate in cluster.Nodes.Where(n => n.IsUp))
                {
                    cluster.Start(candidate, $"c{random.Next(3)}", $"{proposed++}");
                }

                Sleep(cluster, random.Next(5, 20));
            }
        }

        foreach (var node in cluster.Nodes)
        {
            if (!node.IsUp)
            {
                cluster.Restart(node);
            }

            cluster.Connect(node);
        }

        cluster.Network = SimNetwork.Reliable;
        var last = cluster.One("k", "end", cluster.Nodes.Count);

        // Every server applied the same log up to the last agreement.
        Assert.True(cluster.RunUntil(() => cluster.Nodes.All(n => n.StateMachine.AppliedIndex >= last), TimeSpan.FromSeconds(2)));
        var reference = cluster.Nodes[0].StateMachine.Values;
        Assert.All(cluster.Nodes, n => Assert.Equal(reference, n.StateMachine.Values));
    }
}
