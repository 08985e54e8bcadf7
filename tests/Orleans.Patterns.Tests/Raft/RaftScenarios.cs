using Orleans.Patterns.Raft;
using Orleans.Patterns.Tests.Raft.Simulation;

namespace Orleans.Patterns.Tests.Raft;

/// <summary>Randomized fault scenarios shared by the fixed-seed tests, the seed sweep and the soak test.</summary>
internal static class RaftScenarios
{
    /// <summary>
    /// 6.824's Figure 8 test: leaders keep taking proposals and are crashed (or cut off) at random, so entries of older
    /// terms are often replicated to a majority without being committed — the situation of Raft Figure 8.
    /// </summary>
    public static void Figure8(SimCluster cluster, bool crash, int iterations)
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

            cluster.RunFor(TimeSpan.FromMilliseconds(random.NextDouble() < 0.1 ? random.Next(75) : random.Next(13)));
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

        cluster.RestoreAll();
        cluster.One("k", "end", 5);
    }

    /// <summary>6.824's churn: random crashes, restarts and disconnections while proposals keep coming.</summary>
    public static void Churn(SimCluster cluster)
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

            proposed = cluster.ProposeEverywhere(random, "c", proposed, rounds: 10, maxPauseMs: 20);
        }

        cluster.RestoreAll();
        var last = cluster.One("k", "end", cluster.Nodes.Count);

        // Every server applied the same log up to the last agreement.
        Assert.True(cluster.RunUntil(() => cluster.Nodes.All(n => n.StateMachine.AppliedIndex >= last), TimeSpan.FromSeconds(2)));
        var reference = cluster.Nodes[0].StateMachine.Values;
        Assert.All(cluster.Nodes, n => Assert.Equal(reference, n.StateMachine.Values));
    }

    /// <summary>
    /// Membership churn: members are added as learners, promoted, and removed (the leader too) at random while
    /// servers crash, restart and are cut off, and proposals keep coming; the safety invariants are checked throughout.
    /// </summary>
    public static void MembershipChurn(SimCluster cluster)
    {
        cluster.CheckDurability = false;
        var random = cluster.Random;
        var proposed = 0;
        for (var iteration = 0; iteration < 80; iteration++)
        {
            var node = cluster.Nodes[random.Next(cluster.Nodes.Count)];
            var leader = cluster.Leader();
            switch (random.Next(8))
            {
                case 0:
                    cluster.Disconnect(node);
                    break;
                case 1:
                    cluster.Connect(node);
                    break;
                case 2 when cluster.Nodes.Count(n => n.IsUp) > 3:
                    cluster.Crash(node);
                    break;
                case 3 when !node.IsUp:
                    cluster.Restart(node);
                    break;
                case 4 or 5 or 6 when leader is not null:
                    cluster.Touch(leader, raft =>
                    {
                        var config = raft.Config;
                        if (!config.Contains(node.Id))
                        {
                            raft.AddLearner(node.Id);
                        }
                        else if (config.Learners.Contains(node.Id))
                        {
                            raft.PromoteToVoter(node.Id);
                        }
                        else if (config.Voters.Count > 3)
                        {
                            raft.RemoveNode(node.Id);
                        }
                    });
                    break;
                default:
                    if (!node.IsUp)
                    {
                        cluster.Restart(node);
                    }

                    break;
            }

            proposed = cluster.ProposeEverywhere(random, "m", proposed, rounds: 5, maxPauseMs: 30);
        }

        cluster.RestoreAll();
        var leaderAtEnd = cluster.CheckOneLeader();
        var voters = leaderAtEnd.Raft!.Config.Voters.Count;
        cluster.One("k", "end", voters);
        var changes = cluster.Checker.Committed.Values.Count(c => c.Content.StartsWith(nameof(EntryKind.Configuration), StringComparison.Ordinal));
        cluster.Log($"{changes} configuration changes committed; voters at the end: {string.Join(",", leaderAtEnd.Raft.Config.Voters)}");
    }
}
