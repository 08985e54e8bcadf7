using Orleans.Patterns.Tests.Raft.Simulation;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Raft;

/// <summary>Log agreement scenarios after MIT 6.824 lab 3B (2B).</summary>
[Trait("Category", "Unit")]
public sealed class RaftAgreementScenarioTests(ITestOutputHelper output) : SimulationTest(output)
{
    [Fact]
    public void BasicAgreement() => Run(11, 3, SimNetwork.Reliable, cluster =>
    {
        cluster.CheckOneLeader();
        long previous = 0;
        for (var i = 1; i <= 3; i++)
        {
            var index = cluster.One("k", $"{i}", 3, retry: false);
            Assert.True(index > previous);
            previous = index;
        }
    });

    [Fact]
    public void FollowerFailure() => Run(12, 3, SimNetwork.Reliable, cluster =>
    {
        cluster.One("k", "101", 3);
        var leader1 = cluster.CheckOneLeader();
        cluster.Disconnect(cluster.Nodes.First(n => n != leader1));

        // The leader and the remaining follower are a majority.
        cluster.One("k", "102", 2);
        Sleep(cluster, 300);
        cluster.One("k", "103", 2);

        var leader2 = cluster.CheckOneLeader();
        foreach (var node in cluster.Nodes.Where(n => n != leader2))
        {
            cluster.Disconnect(node);
        }

        var index = cluster.Start(leader2, "k", "104");
        Assert.True(index > 0);
        Sleep(cluster, 2000);
        Assert.Equal(0, cluster.NCommitted(index).Count);
    });

    [Fact]
    public void LeaderFailure() => Run(13, 3, SimNetwork.Reliable, cluster =>
    {
        cluster.One("k", "101", 3);
        var leader1 = cluster.CheckOneLeader();
        cluster.Disconnect(leader1);
        cluster.One("k", "102", 2);
        Sleep(cluster, 300);
        cluster.One("k", "103", 2);

        var leader2 = cluster.CheckOneLeader();
        cluster.Disconnect(leader2);
        var indexes = cluster.Nodes.Select(n => cluster.Start(n, "k", "104")).Where(i => i > 0).ToList();
        Sleep(cluster, 2000);
        Assert.All(indexes, i => Assert.True(cluster.NCommitted(i).Count == 0 || cluster.NCommitted(i).Command != "k=104"));
    });

    [Fact]
    public void NoAgreementWithoutMajority() => Run(14, 5, SimNetwork.Reliable, cluster =>
    {
        cluster.One("k", "10", 5);
        var leader = cluster.CheckOneLeader();
        var followers = cluster.Nodes.Where(n => n != leader).Take(3).ToList();
        followers.ForEach(cluster.Disconnect);

        var index = cluster.Start(leader, "k", "20");
        Assert.True(index > 0);
        Sleep(cluster, 2000);
        Assert.Equal(0, cluster.NCommitted(index).Count);

        followers.ForEach(cluster.Connect);
        cluster.One("k", "1000", 5);
    });

    [Fact]
    public void ConcurrentStarts() => Run(15, 3, SimNetwork.Reliable, cluster =>
    {
        var leader = cluster.CheckOneLeader();
        var indexes = Enumerable.Range(0, 5).Select(i => cluster.Start(leader, "c", $"{i}")).ToList();
        Assert.All(indexes, i => Assert.True(i > 0));
        Assert.True(cluster.RunUntil(() => indexes.All(i => cluster.NCommitted(i).Count == 3), TimeSpan.FromSeconds(2)));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"c={i}"), indexes.Select(i => cluster.NCommitted(i).Command));
    });

    [Fact]
    public void RejoinOfPartitionedLeader() => Run(16, 3, SimNetwork.Reliable, cluster =>
    {
        cluster.One("k", "101", 3);
        var leader1 = cluster.CheckOneLeader();
        cluster.Disconnect(leader1);

        // The isolated leader takes proposals it can never commit.
        cluster.Start(leader1, "k", "102");
        cluster.Start(leader1, "k", "103");
        cluster.Start(leader1, "k", "104");

        cluster.One("k", "103b", 2);
        var leader2 = cluster.CheckOneLeader();
        cluster.Disconnect(leader2);
        cluster.Connect(leader1);
        cluster.One("k", "104b", 2);

        cluster.Connect(leader2);
        cluster.One("k", "105", 3);
        Assert.DoesNotContain(cluster.Nodes.SelectMany(n => n.AppliedLog.Values), v => v is "k=102" or "k=103" or "k=104");
    });

    [Fact]
    public void FastBackupOverManyConflictingEntries() => Run(17, 5, SimNetwork.Reliable, cluster =>
    {
        cluster.One("k", "start", 5);

        // The leader and one follower take 50 entries they cannot commit.
        var leader1 = cluster.CheckOneLeader();
        var buddy = cluster.Nodes.First(n => n != leader1);
        var others = cluster.Nodes.Where(n => n != leader1 && n != buddy).ToArray();
        cluster.Partition([leader1, buddy], others);
        for (var i = 0; i < 50; i++)
        {
            cluster.Start(leader1, "lost", $"{i}");
        }

        Sleep(cluster, 500);

        // The other three commit 50 entries of their own.
        for (var i = 0; i < 50; i++)
        {
            cluster.One("won", $"{i}", 3);
        }

        // Now a new majority: the two stale nodes plus one of the three; the stale ones take 50 more, uncommitted.
        var leader2 = cluster.CheckOneLeader();
        var third = others.First(n => n != leader2);
        cluster.Partition([leader1, buddy, third], [.. others.Where(n => n != third)]);
        cluster.One("won", "again", 3);
        for (var i = 0; i < 50; i++)
        {
            cluster.One("more", $"{i}", 3);
        }

        cluster.Heal();
        var messagesBefore = cluster.MessagesSent;
        cluster.One("k", "end", 5);
        Output.WriteLine($"catch-up took {cluster.MessagesSent - messagesBefore} messages");
        Assert.DoesNotContain(cluster.Nodes.SelectMany(n => n.AppliedLog.Values), v => v.StartsWith("lost=", StringComparison.Ordinal));
    });

    [Fact]
    public void FollowerThatMissedAFullInflightWindow_CatchesUpWithoutNewProposals() => Run(19, 3, SimNetwork.Reliable, cluster =>
    {
        cluster.One("k", "0", 3);
        var leader = cluster.CheckOneLeader();
        var follower = cluster.Nodes.First(n => n != leader);

        // One proposal at a time, so each goes out in its own AppendEntries: more of them are lost on the way to
        // the follower than the leader's inflight window (MaxInflightMessages) holds.
        cluster.Disconnect(follower);
        long last = 0;
        for (var i = 1; i <= cluster.Options.MaxInflightMessages + 8; i++)
        {
            last = cluster.One("k", $"{i}", 2);
        }

        // No further proposals: only heartbeats can tell the leader that the window will never drain by itself.
        cluster.Connect(follower);
        Assert.True(
            cluster.RunUntil(() => follower.Raft!.CommitIndex >= last, TimeSpan.FromSeconds(5)),
            $"{follower.Id} stuck at commit {follower.Raft!.CommitIndex} of {last}");
    });

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Batching_ABurstOfProposalsTravelsInFewMessages(bool reordering) => Run(18, 3, reordering ? SimNetwork.Reliable : SimNetwork.OrderedLan, cluster =>
    {
        cluster.One("k", "warm", 3);
        var leader = cluster.CheckOneLeader();
        var before = cluster.MessagesSent;
        cluster.MessageCounts.Clear();
        var indexes = Enumerable.Range(0, 1000).Select(i => cluster.Start(leader, "b", $"{i}")).ToList();
        Assert.True(cluster.RunUntil(() => cluster.NCommitted(indexes[^1]).Count == 3, TimeSpan.FromSeconds(2)));
        var messages = cluster.MessagesSent - before;
        cluster.Log($"1000 proposals committed on 3 servers with {messages} messages: "
            + string.Join(", ", cluster.MessageCounts.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value}")));

        // 64 entries per AppendEntries at most, so about 16 per follower plus acknowledgements. When messages overtake
        // each other (every message has its own random delay here), a follower refuses the ones that arrive early and
        // the leader falls back to probing: several times the messages, still well below one per entry and follower.
        Assert.True(messages < (reordering ? 1000 : 120), $"{messages} messages");
    });

    [Fact]
    public void FlowControl_ASlowFollowerGetsABoundedWindow() => Run(19, 3, SimNetwork.OrderedLan, cluster =>
    {
        cluster.One("k", "warm", 3);
        var leader = cluster.CheckOneLeader();
        var slow = cluster.Nodes.First(n => n != leader);
        cluster.SlowLinks[slow.Id] = TimeSpan.FromMilliseconds(100);
        cluster.MaxInFlightAppends.Clear();

        // Proposals keep coming faster than the slow follower acknowledges; the fast one keeps commitment going.
        long last = 0;
        for (var i = 0; i < 200; i++)
        {
            for (var j = 0; j < 20; j++)
            {
                last = Math.Max(last, cluster.Start(leader, "s", $"{i}.{j}"));
            }

            cluster.RunFor(TimeSpan.FromMilliseconds(2));
        }

        Assert.True(cluster.RunUntil(() => slow.StateMachine.AppliedIndex >= last, TimeSpan.FromSeconds(10)));
        var window = cluster.Options.MaxInflightMessages;
        cluster.Log($"at most {cluster.MaxInFlightAppends[slow.Id]} AppendEntries in flight to the slow follower (window {window})");
        Assert.InRange(cluster.MaxInFlightAppends[slow.Id], 1, window);
    });
}
