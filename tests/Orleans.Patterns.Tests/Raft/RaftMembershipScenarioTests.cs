using Orleans.Patterns.Raft;
using Orleans.Patterns.Tests.Raft.Simulation;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Raft;

/// <summary>Membership changes, leadership transfer and linearizable reads on the simulated cluster.</summary>
[Trait("Category", "Unit")]
public sealed class RaftMembershipScenarioTests(ITestOutputHelper output) : SimulationTest(output)
{
    [Theory]
    [InlineData(41, false)]
    [InlineData(42, true)]
    public void GrowThenRemoveTheLeader(int seed, bool unreliable) => Run(seed, 5, unreliable ? SimNetwork.Unreliable : SimNetwork.Reliable, cluster =>
    {
        cluster.CheckDurability = false;
        cluster.One("k", "0", 3);

        // Each newcomer joins as a learner, catches up, then becomes a voter (thesis §4.2.1).
        foreach (var newcomer in new[] { cluster[3], cluster[4] })
        {
            cluster.ChangeMembership(raft => raft.AddLearner(newcomer.Id));
            cluster.One("k", $"learner-{newcomer.Id}", 3);
            cluster.ChangeMembership(raft => raft.PromoteToVoter(newcomer.Id));
            Assert.True(cluster.RunUntil(() => newcomer.Raft!.Config.Voters.Contains(newcomer.Id), TimeSpan.FromSeconds(5)));
        }

        cluster.One("k", "five", 5);

        // The leader removes itself, leads until that commits, then steps down; the other four carry on.
        var leader = cluster.CheckOneLeader();
        cluster.ChangeMembership(raft => raft.RemoveNode(leader.Id));
        Assert.True(cluster.RunUntil(() => leader.Raft!.Role != RaftRole.Leader, TimeSpan.FromSeconds(5)));
        var next = cluster.CheckOneLeader();
        Assert.NotSame(leader, next);
        cluster.One("k", "four", 4);

        // The removed node stays quiet: it does not campaign, so the term stays put.
        var term = next.Raft!.Term;
        Sleep(cluster, 2000);
        Assert.Same(next, cluster.CheckOneLeader());
        Assert.Equal(term, next.Raft.Term);
        Assert.Equal(RaftRole.Follower, leader.Raft!.Role);
    }, voters: 3);

    [Theory]
    [InlineData(46, false)]
    [InlineData(47, true)]
    public void MembershipChurn(int seed, bool unreliable) =>
        Run(seed, 6, unreliable ? SimNetwork.Unreliable : SimNetwork.Reliable, RaftScenarios.MembershipChurn, snapshotEvery: 9, voters: 3);

    [Fact]
    public void LeadershipTransfer_HandsOverWithinARoundTrip() => Run(43, 3, SimNetwork.Reliable, cluster =>
    {
        for (var i = 0; i < 5; i++)
        {
            cluster.One("k", $"{i}", 3);
            var leader = cluster.CheckOneLeader();
            var target = cluster.Nodes.First(n => n != leader);
            var started = cluster.Now;
            cluster.Touch(leader, raft => Assert.IsType<RequestOutcome.Accepted>(raft.TransferLeadership(target.Id)));
            Assert.True(cluster.RunUntil(() => cluster.Leader() == target, TimeSpan.FromSeconds(1)));
            Output.WriteLine($"transfer took {(cluster.Now - started).TotalMilliseconds:F1} ms");
            Assert.True(cluster.Now - started < cluster.Options.ElectionTimeout);
        }
    });

    [Theory]
    [InlineData(44, false)]
    [InlineData(45, true)]
    public void Reads_AreLinearizable_AndAStaleLeaderServesNone(int seed, bool lease) => Run(seed, 3, SimNetwork.Reliable, cluster =>
    {
        for (var i = 0; i < 5; i++)
        {
            cluster.One("x", $"{i}", 3);
            var leader = cluster.CheckOneLeader();
            Assert.Equal($"{i}", cluster.Read(leader, "x", TimeSpan.FromSeconds(1)));
        }

        // Cut the leader off; a new leader takes a write; the old one must not answer a read with the old value.
        var old = cluster.CheckOneLeader();
        cluster.Disconnect(old);
        cluster.One("x", "new", 2);
        var stale = cluster.Read(old, "x", TimeSpan.FromSeconds(1));
        Assert.Null(stale);
        Assert.Equal("new", cluster.Read(cluster.CheckOneLeader(), "x", TimeSpan.FromSeconds(1)));
    }, options: new RaftOptions { LeaseReads = lease });

    [Fact]
    public void LeaseReads_AnAbandonedTransferWhoseCampaignArrivesLateServesNoStaleRead() => Run(46, 3, SimNetwork.Reliable, cluster =>
    {
        cluster.One("x", "old", 3);
        var old = cluster.CheckOneLeader();
        var term = old.Raft!.Term;
        var target = cluster.Nodes.First(n => n != old);

        // The transfer's TimeoutNow arrives after the leader gave the transfer up; nothing of the new term reaches the
        // old leader, so it keeps leading its term and its last heartbeat round, answered just before the campaign,
        // looks like a valid lease.
        cluster.Interfere = message => message switch
        {
            TimeoutNow => cluster.Options.ElectionTimeout + TimeSpan.FromMilliseconds(100),
            _ when message.To == old.Id && message.Term > term => null,
            _ => TimeSpan.Zero,
        };
        cluster.Touch(old, raft => Assert.IsType<RequestOutcome.Accepted>(raft.TransferLeadership(target.Id)));
        Assert.True(cluster.RunUntil(() => target.Raft!.Role == RaftRole.Leader, TimeSpan.FromSeconds(1)));
        Assert.Equal(RaftRole.Leader, old.Raft!.Role);
        cluster.One("x", "new", 2);

        Assert.Null(cluster.Read(old, "x", TimeSpan.FromMilliseconds(50)));
        Assert.Equal("new", cluster.Read(target, "x", TimeSpan.FromSeconds(1)));
    }, options: new RaftOptions { LeaseReads = true });

    [Fact]
    public void LeaseReads_AVoterRestartedInsideTheLeaseDoesNotHelpElectAnotherLeaderInIt() => Run(47, 3, SimNetwork.Reliable, cluster =>
    {
        cluster.One("x", "old", 3);
        var old = cluster.CheckOneLeader();
        var acker = cluster.Nodes.First(n => n != old);
        var rival = cluster.Nodes.First(n => n != old && n != acker);

        // The rival hears nothing from the leader and keeps campaigning; the acker, in touch with the leader, refuses it.
        cluster.Interfere = message => (message.From == old.Id && message.To == rival.Id) || (message.From == rival.Id && message.To == old.Id)
            ? null
            : TimeSpan.Zero;
        cluster.RunFor(cluster.Options.ElectionTimeout * 3);
        Assert.Same(old, cluster.Leader());

        // Just before the rival's next campaign, the acker restarts and the leader is cut off from everyone. The
        // leader's lease still counts on the acker's promise, made before the crash and forgotten by the restart.
        Assert.True(cluster.RunUntil(() => rival.Raft!.NextDeadline - cluster.Now < TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(1)));
        cluster.Crash(acker);
        cluster.Restart(acker);
        cluster.Interfere = message => message.From == old.Id || message.To == old.Id ? null : TimeSpan.Zero;

        var cut = cluster.Now;
        Assert.True(cluster.RunUntil(() => rival.Raft!.Role == RaftRole.Leader, TimeSpan.FromSeconds(2)));
        var index = cluster.Start(rival, "x", "new");
        Assert.True(cluster.RunUntil(() => cluster.NCommitted(index).Count >= 2, TimeSpan.FromSeconds(1)));
        cluster.Log($"the rival leads and committed x=new {(cluster.Now - cut).TotalMilliseconds:F1} ms after the cut");
        Assert.Null(cluster.Read(old, "x", TimeSpan.FromMilliseconds(50)));
    }, options: new RaftOptions { LeaseReads = true });
}

