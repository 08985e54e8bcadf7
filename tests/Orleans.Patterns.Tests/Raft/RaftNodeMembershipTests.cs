using Orleans.Patterns.Raft;
using static Orleans.Patterns.Tests.Raft.RaftTestNode;

namespace Orleans.Patterns.Tests.Raft;

/// <summary>Snapshots (Raft §7), single-server membership changes (thesis §4.1–4.2) and leadership transfer (thesis §3.10).</summary>
[Trait("Category", "Unit")]
public sealed class RaftNodeMembershipTests
{
    private static readonly NodeId N4 = new("n4");

    private static AppendEntriesResponse Ack(NodeId from, long term, long match) => new(from, N1, term, true, match, 0, 0, 0);

    /// <summary>A leader of term 2 whose no-op (index 1) is committed.</summary>
    private static RaftNode CommittedLeader()
    {
        var node = Create(N1, term: 1);
        ElectLeader(node, Plain);
        Drain(node);
        node.Step(Ack(N2, 2, 1));
        Drain(node);
        Assert.Equal(1, node.CommitIndex);
        return node;
    }

    [Fact]
    public void Follower_InstallsSnapshot_InTheReadyAndContinuesAfterIt()
    {
        var node = Create(N2, term: 1, logTerms: [1]);
        var snapshot = new Snapshot(new SnapshotMetadata(10, 2, Three), new byte[] { 42 });
        node.Step(new InstallSnapshot(N1, N2, 2, snapshot));
        var ready = node.GetReady();
        Assert.Same(snapshot, ready.ToPersist.Snapshot);
        Assert.Empty(ready.CommittedEntries);
        Assert.Equal(10, Assert.Single(ready.Messages.OfType<InstallSnapshotResponse>()).MatchIndex);
        node.Advance(ready);
        Assert.Equal((10L, 10L, 11L), (node.CommitIndex, node.AppliedIndex, node.FirstIndex));

        node.Step(new AppendEntries(N1, N2, 2, 10, 2, [new LogEntry(11, 2, EntryKind.Command, new byte[] { 1 })], 11));
        var drained = Drain(node);
        Assert.Equal(11, drained.Single<AppendEntriesResponse>(N1).MatchIndex);
        Assert.Equal(11, Assert.Single(drained.Committed).Index);
    }

    [Fact]
    public void Leader_SendsSnapshot_WhenTheFollowerNeedsCompactedEntries()
    {
        var node = CommittedLeader();
        node.Compact(new Snapshot(node.SnapshotMetadataAt(1)!, new byte[] { 1 }));
        node.Step(new AppendEntriesResponse(N3, N1, 2, false, 0, 0, 0, 1));
        node.Step(new AppendEntriesResponse(N3, N1, 2, false, 0, 1, 0, 1));
        var install = Drain(node).Single<InstallSnapshot>(N3);
        Assert.Equal(1, install.Snapshot.Metadata.Index);
        Assert.Equal(Three.Voters, install.Snapshot.Metadata.Config.Voters);
    }

    [Fact]
    public void ConfigurationTakesEffectWhenAppended_OneChangeAtATime()
    {
        var fresh = Create(N1, term: 1);
        ElectLeader(fresh, Plain);

        // Until an entry of its term commits, a new leader takes no change (thesis §4.1).
        Assert.IsType<RequestOutcome.Rejected>(fresh.AddLearner(N4));

        var node = CommittedLeader();
        var added = Assert.IsType<RequestOutcome.Accepted>(node.AddLearner(N4));
        Assert.Contains(N4, node.Config.Learners);
        Assert.Equal(added.Index, Drain(node).Single<AppendEntries>(N4).Entries[0].Index);
        Assert.IsType<RequestOutcome.Rejected>(node.RemoveNode(N3));

        node.Step(Ack(N2, 2, added.Index));
        Drain(node);

        // The learner has not caught up yet.
        Assert.IsType<RequestOutcome.Rejected>(node.PromoteToVoter(N4));
        node.Step(new AppendEntriesResponse(N4, N1, 2, true, added.Index, 0, 0, 0));
        Assert.IsType<RequestOutcome.Accepted>(node.PromoteToVoter(N4));
        Assert.Equal(4, node.Config.Voters.Count);
    }

    [Fact]
    public void FollowerAdoptsConfigurationOnAppend_AndRevertsItOnTruncation()
    {
        var node = Create(N2, term: 1);
        var four = new ClusterConfig([N1, N2, N3, N4], []);
        node.Step(new AppendEntries(N1, N2, 2, 0, 0, [new LogEntry(1, 2, EntryKind.Configuration, four.Encode())], 0));
        Assert.Equal(four.Voters, node.Config.Voters);

        node.Step(new AppendEntries(N3, N2, 3, 0, 0, [new LogEntry(1, 3, EntryKind.NoOp, ReadOnlyMemory<byte>.Empty)], 0));
        Assert.Equal(Three.Voters, node.Config.Voters);
    }

    [Fact]
    public void RemovedLeader_StepsDownOnceTheChangeCommits_AndHandsOver()
    {
        var node = CommittedLeader();
        var removal = Assert.IsType<RequestOutcome.Accepted>(node.RemoveNode(N1));
        Drain(node);
        Assert.Equal(RaftRole.Leader, node.Role);

        // Its own copy no longer counts: both remaining voters must have it.
        node.Step(Ack(N2, 2, removal.Index));
        Assert.Equal(RaftRole.Leader, node.Role);
        node.Step(Ack(N3, 2, removal.Index));
        Assert.Equal(RaftRole.Follower, node.Role);

        // It hands over to an up-to-date voter rather than leave the cluster waiting for an election timeout.
        Assert.Single(Drain(node).Messages.OfType<TimeoutNow>());
    }

    [Fact]
    public void Transfer_CatchesTheTargetUpThenSendsTimeoutNow_AndRefusesProposalsMeanwhile()
    {
        var node = CommittedLeader();
        node.Propose(new byte[] { 1 });
        Drain(node);
        Assert.IsType<RequestOutcome.Accepted>(node.TransferLeadership(N3));
        Assert.Equal(new RequestOutcome.Transferring(N3), node.Propose(new byte[] { 2 }));
        Assert.Empty(Drain(node).Messages.OfType<TimeoutNow>());

        node.Step(new AppendEntriesResponse(N3, N1, 2, true, node.LastIndex, 0, 0, 0));
        Drain(node).Single<TimeoutNow>(N3);
    }
}
