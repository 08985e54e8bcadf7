using Orleans.Patterns.Raft;
using static Orleans.Patterns.Tests.Raft.RaftTestNode;

namespace Orleans.Patterns.Tests.Raft;

/// <summary>Exact replication rules of one replica: Raft Figure 2 AppendEntries, §5.3, §5.4.2 (Figure 8), flow control.</summary>
[Trait("Category", "Unit")]
public sealed class RaftNodeReplicationTests
{
    private static AppendEntriesResponse Ack(NodeId from, long term, long match) => new(from, N1, term, true, match, 0, 0, 0);

    /// <summary>N1 leading term 2, its no-op (index 1) committed and acknowledged by both followers, nothing outstanding.</summary>
    private static RaftNode LeaderWithItsNoOpOnEveryFollower()
    {
        var node = Create(N1, term: 1);
        ElectLeader(node, Plain);
        Drain(node);
        node.Step(Ack(N2, 2, 1));
        node.Step(Ack(N3, 2, 1));
        Drain(node);
        return node;
    }

    [Fact]
    public void ConflictingSuffixIsTruncated_AndOnlyItIsRewritten()
    {
        var node = Create(N1, term: 2, logTerms: [1, 1, 2]);
        node.Step(new AppendEntries(N2, N1, 3, 1, 1, [new LogEntry(2, 1, EntryKind.Command, new byte[] { 2 }), new LogEntry(3, 3, EntryKind.NoOp, ReadOnlyMemory<byte>.Empty)], 0));
        var drained = Drain(node);
        Assert.Equal(3, drained.Single<AppendEntriesResponse>(N2).MatchIndex);
        Assert.Equal(3, Assert.Single(drained.Persisted).Index);
        Assert.Equal(3, node.TermAt(3));
    }

    [Fact]
    public void StaleAppendThatAgreesTruncatesNothing()
    {
        var node = Create(N1, term: 2, logTerms: [1, 1, 2]);
        node.Step(new AppendEntries(N2, N1, 2, 0, 0, [new LogEntry(1, 1, EntryKind.Command, new byte[] { 1 })], 0));
        var drained = Drain(node);
        Assert.True(drained.Single<AppendEntriesResponse>(N2).Success);
        Assert.Empty(drained.Persisted);
        Assert.Equal(3, node.LastIndex);
    }

    [Fact]
    public void FollowerCommitIsBoundedByWhatTheMessageProved()
    {
        var node = Create(N1, term: 2, logTerms: [1, 1, 2]);

        // Entries 2–3 here are not proved to match the leader's, so commit stops at the last entry the message carried.
        node.Step(new AppendEntries(N2, N1, 2, 0, 0, [new LogEntry(1, 1, EntryKind.Command, new byte[] { 1 })], 3));
        Assert.Equal(1, node.CommitIndex);
    }

    [Fact]
    public void Reject_CarriesConflictTermAndItsFirstIndex()
    {
        var node = Create(N1, term: 4, logTerms: [1, 2, 2, 2]);
        node.Step(new AppendEntries(N2, N1, 5, 4, 3, [], 0));
        var reject = Drain(node).Single<AppendEntriesResponse>(N2);
        Assert.Equal((false, 4L, 2L, 2L), (reject.Success, reject.RejectedIndex, reject.ConflictTerm, reject.ConflictIndex));
    }

    [Fact]
    public void Reject_OnShortLog_PointsPastItsEnd()
    {
        var node = Create(N1, term: 4, logTerms: [1, 2, 2, 2]);
        node.Step(new AppendEntries(N2, N1, 5, 10, 5, [], 0));
        var reject = Drain(node).Single<AppendEntriesResponse>(N2);
        Assert.Equal((10L, 0L, 5L), (reject.RejectedIndex, reject.ConflictTerm, reject.ConflictIndex));
    }

    [Theory]
    [InlineData(2, 3, 2)] // leader lacks term 2: jump to where the follower's term 2 starts
    [InlineData(1, 1, 2)] // leader has term 1 up to 2: resume right after it
    public void Leader_SkipsAWholeConflictingTermPerRoundTrip(long conflictTerm, long conflictIndex, long expectedPrev)
    {
        var node = Create(N1, term: 3, logTerms: [1, 1, 3, 3, 3]);
        ElectLeader(node, Plain);
        Drain(node);
        node.Step(new AppendEntriesResponse(N3, N1, 4, false, 0, 5, conflictTerm, conflictIndex));
        Assert.Equal(expectedPrev, Drain(node).Single<AppendEntries>(N3).PrevLogIndex);
    }

    [Fact]
    public void Figure8_EntryOfAnEarlierTermIsNotCommittedByCounting()
    {
        // Index 2 holds a term-2 entry; the new leader (term 4) has it on a majority but must not commit it (§5.4.2).
        var node = Create(N1, term: 3, logTerms: [1, 2]);
        ElectLeader(node, Plain);
        Drain(node);
        node.Step(Ack(N2, 4, 2));
        Assert.Equal(0, node.CommitIndex);

        // Once the term-4 no-op is on a majority, it and everything before it commit.
        node.Step(Ack(N2, 4, 3));
        Assert.Equal(3, node.CommitIndex);
        Assert.Equal([1L, 2L, 3L], Drain(node).Committed.Select(e => e.Index));
    }

    [Fact]
    public void LeaderCountsItselfOnlyAfterPersisting()
    {
        var node = Create(N1, term: 1);
        ElectLeader(node, Plain);

        // n2 acknowledges the no-op before the leader's own write completed: not yet a majority of durable copies.
        var ready = node.GetReady();
        node.Step(Ack(N2, 2, 1));
        Assert.Equal(0, node.CommitIndex);
        node.Advance(ready);
        Assert.Equal(1, node.CommitIndex);
    }

    [Fact]
    public void LeaderAppendsMayLeaveBeforeItsOwnWrite_AndTwoFollowersCommitWithoutIt()
    {
        var node = LeaderWithItsNoOpOnEveryFollower();

        node.Propose(new byte[] { 7 });
        var ready = node.GetReady();
        Assert.True(ready.SendBeforePersist);
        Assert.Equal(2, Assert.Single(ready.ToPersist.Entries).Index);
        Assert.Equal([N2, N3], ready.Messages.OfType<AppendEntries>().Where(m => m.Entries.Count > 0).Select(m => m.To).Order());

        // Both followers stored entry 2 while the leader's own write is still running: a majority without the leader.
        node.Step(Ack(N2, 2, 2));
        Assert.Equal(1, node.CommitIndex);
        node.Step(Ack(N3, 2, 2));
        Assert.Equal(2, node.CommitIndex);
        node.Advance(ready);

        // Entry 3 is proposed in the same Ready that hands out committed entry 2: 2 is on disk already, so it may be
        // applied (and its client answered) while 3 is written.
        node.Propose(new byte[] { 8 });
        var next = node.GetReady();
        Assert.Equal(2, Assert.Single(next.CommittedEntries).Index);
        Assert.Equal(3, Assert.Single(next.ToPersist.Entries).Index);
        Assert.True(next.ApplyBeforePersist);
    }

    [Fact]
    public void ACommitIndexAloneNeedNotBeSynced_EntriesATermOrAVoteMust()
    {
        var campaign = Create(N1, term: 1);
        campaign.AdvanceClock(2 * Plain.ElectionTimeout);
        Assert.True(campaign.GetReady().ToPersist.MustSync); // a new term and a vote for itself

        var node = LeaderWithItsNoOpOnEveryFollower();
        node.Propose(new byte[] { 2 });
        var append = node.GetReady();
        Assert.True(append.ToPersist.MustSync); // an entry
        node.Advance(append);

        // Both followers store entry 2: only the commit index moves, and the Ready that hands 2 out need not wait.
        node.Step(Ack(N2, 2, 2));
        node.Step(Ack(N3, 2, 2));
        var commit = node.GetReady();
        Assert.Equal(2, Assert.Single(commit.CommittedEntries).Index);
        Assert.Equal(2, commit.ToPersist.HardState?.Commit);
        Assert.Empty(commit.ToPersist.Entries);
        Assert.False(commit.ToPersist.MustSync);
        node.Advance(commit);

        // A follower learning a commit for entries it already stored: the same.
        var follower = Create(N2, term: 2, logTerms: [2, 2]);
        follower.Step(new AppendEntries(N1, N2, 2, 2, 2, [], 2));
        var learned = Drain(follower);
        Assert.Equal(2, Assert.Single(learned.HardStates).Commit);
        Assert.All(learned.Readies, r => Assert.False(r.ToPersist.MustSync));
    }

    [Fact]
    public void CommitLearnedDuringAWriteIsHandedOutAtOnce_IfTheEntryIsAlreadyOnDisk()
    {
        var node = Create(N1, term: 1);
        ElectLeader(node, Plain);
        Drain(node);
        node.Step(Ack(N2, 2, 1));
        Drain(node);

        node.Propose(new byte[] { 2 });
        node.Advance(node.GetReady()); // entry 2 on the leader's disk
        node.Propose(new byte[] { 3 });
        var writing = node.GetReady(); // entry 3 being written
        Assert.True(writing.ApplyBeforePersist);

        // n2 acknowledges 2 and 3 during the write: 2 (n2 and the leader's disk) commits and is handed out now; 3
        // commits only once the leader stored it too.
        node.Step(Ack(N2, 2, 3));
        Assert.Equal(2, node.CommitIndex);
        Assert.Equal(2, Assert.Single(node.TakeStableCommitted()).Index);
        Assert.Empty(node.TakeStableCommitted());
        node.Advance(writing);
        Assert.Equal(3, node.CommitIndex);
        Assert.Equal(3, Assert.Single(node.TakeStableCommitted()).Index);
        Assert.Empty(Drain(node).Committed);
    }

    [Fact]
    public void EntriesProposedDuringTheLeadersWriteLeaveAtOnce_AndCountForTheLeaderOnlyOnceTheirOwnReadyIsAdvanced()
    {
        var node = LeaderWithItsNoOpOnEveryFollower();

        node.Propose(new byte[] { 2 });
        var writing = node.GetReady(); // entry 2 being written, its appends already sent
        Assert.True(writing.SendBeforePersist);
        Assert.Empty(node.TakeAppendsBeforePersist()); // nothing new since

        // Entry 3 arrives during that write: its appends leave now, each to a follower, carrying only entry 3.
        node.Propose(new byte[] { 3 });
        var early = node.TakeAppendsBeforePersist().OfType<AppendEntries>().ToList();
        Assert.Equal([N2, N3], early.Select(m => m.To).Order());
        Assert.All(early, m => Assert.Equal(3, Assert.Single(m.Entries).Index));
        Assert.Empty(node.TakeAppendsBeforePersist());

        // Once per write: entry 4, proposed during the same write, waits for the next Ready.
        node.Propose(new byte[] { 4 });
        Assert.Empty(node.TakeAppendsBeforePersist());

        // n2 stored both, but the leader's own copy of 2 is still being written: no majority of durable copies yet.
        node.Step(Ack(N2, 2, 3));
        Assert.Equal(1, node.CommitIndex);
        node.Advance(writing);
        Assert.Equal(2, node.CommitIndex); // the leader's disk holds 2, not 3

        // The next Ready persists entries 3 and 4 and sends only 4; once advanced, 3 has its majority.
        var next = node.GetReady();
        Assert.Equal([3L, 4L], next.ToPersist.Entries.Select(e => e.Index));
        var appended = next.Messages.OfType<AppendEntries>().SelectMany(m => m.Entries).Select(e => e.Index).ToList();
        Assert.DoesNotContain(3L, appended);
        Assert.Contains(4L, appended);
        node.Advance(next);
        Assert.Equal(3, node.CommitIndex);
    }

    [Fact]
    public void AppendsWaitForTheWriteWhenTheOutstandingReadyMayNotSendEarly()
    {
        // A follower's Ready promises what it stores: a leader never reached, nothing is taken early.
        var follower = Create(N1, term: 2, logTerms: [1]);
        follower.Step(new AppendEntries(N2, N1, 2, 1, 1, [new LogEntry(2, 2, EntryKind.Command, new byte[] { 2 })], 1));
        _ = follower.GetReady();
        Assert.Empty(follower.TakeAppendsBeforePersist());

        // A new leader's first Ready carries its term change and vote: its appends wait for that write.
        var candidate = Create(N1, Plain, term: 1);
        candidate.AdvanceClock(2 * Plain.ElectionTimeout);
        Assert.Empty(candidate.TakeAppendsBeforePersist());
        var campaign = candidate.GetReady();
        Assert.False(campaign.SendBeforePersist);
        Assert.Empty(candidate.TakeAppendsBeforePersist());
    }

    [Fact]
    public void NothingIsHandedOutAheadOfAReadyWhoseEntriesWaitForTheWrite()
    {
        // A follower's Ready whose commit covers the entry it stores: applying must keep log order, so nothing jumps it.
        var follower = Create(N1, term: 2, logTerms: [1]);
        follower.Step(new AppendEntries(N2, N1, 2, 1, 1, [new LogEntry(2, 2, EntryKind.Command, new byte[] { 2 })], 2));
        var ready = follower.GetReady();
        Assert.False(ready.ApplyBeforePersist);
        Assert.Empty(follower.TakeStableCommitted());
        follower.Advance(ready);
        Assert.Empty(follower.TakeStableCommitted());
    }

    [Fact]
    public void MessagesThatPromiseDurabilityWaitForTheWrite()
    {
        // A follower's acknowledgement promises the entries it stored.
        var follower = Create(N1, term: 2, logTerms: [1]);
        follower.Step(new AppendEntries(N2, N1, 2, 1, 1, [new LogEntry(2, 2, EntryKind.Command, new byte[] { 2 })], 2));
        var stored = follower.GetReady();
        Assert.False(stored.SendBeforePersist);

        // The leader's commit covers the entry this very batch stores: applying it must wait for the write.
        Assert.Equal([1L, 2L], stored.CommittedEntries.Select(e => e.Index));
        Assert.False(stored.ApplyBeforePersist);

        // A candidate's vote requests (and its vote for itself) ride on a term not yet on disk.
        var candidate = Create(N1, Plain, term: 1);
        candidate.AdvanceClock(2 * Plain.ElectionTimeout);
        Assert.Equal(RaftRole.Candidate, candidate.Role);
        var campaign = candidate.GetReady();
        Assert.False(campaign.SendBeforePersist);
        Assert.NotNull(campaign.ToPersist.HardState);
    }

    [Fact]
    public void FlowControl_BoundsInflightMessagesAndEntriesPerMessage()
    {
        var options = Plain with { MaxInflightMessages = 2, MaxEntriesPerMessage = 3 };
        var node = Create(N1, options, term: 1);
        ElectLeader(node, options);
        Drain(node);
        node.Step(Ack(N2, 2, 1));
        Drain(node);

        for (var i = 0; i < 20; i++)
        {
            node.Propose(new byte[] { (byte)i });
            node.Propose(new byte[] { (byte)i });
        }

        var toN2 = Drain(node).Messages.OfType<AppendEntries>().Where(m => m.To == N2).ToList();
        Assert.Equal(2, toN2.Count);

        // n3 never answered its probe, so it gets nothing more until it does.
        node.Step(Ack(N2, 2, toN2[0].PrevLogIndex + toN2[0].Entries.Count));
        var next = Drain(node).Messages.OfType<AppendEntries>().ToList();
        Assert.All(next, m => Assert.Equal(N2, m.To));
        Assert.Single(next);
        Assert.Equal(3, next[0].Entries.Count);
    }

    [Fact]
    public void ReadIndex_WaitsForTermCommitThenAHeartbeatRoundFromAMajority()
    {
        var node = Create(N1, term: 1);
        ElectLeader(node, Plain);
        Drain(node);
        Assert.IsType<RequestOutcome.Accepted>(node.ReadIndex(7));
        Assert.Empty(Drain(node).ReadStates);

        node.Step(Ack(N2, 2, 1));
        var round = Drain(node).Single<Heartbeat>(N2).Round;
        Assert.Empty(Drain(node).ReadStates);

        node.Step(new HeartbeatResponse(N3, N1, 2, round));
        Assert.Equal(new ReadState(7, 1), Assert.Single(Drain(node).ReadStates));
    }

    [Fact]
    public void ReadIndex_ReadsBetweenTwoReadiesShareOneHeartbeatRound()
    {
        var node = Create(N1, term: 1);
        ElectLeader(node, Plain);
        Drain(node);
        node.Step(Ack(N2, 2, 1));
        Drain(node);
        node.ReadIndex(1);
        node.ReadIndex(2);
        node.ReadIndex(3);
        var heartbeat = Drain(node).Single<Heartbeat>(N2);
        node.Step(new HeartbeatResponse(N2, N1, 2, heartbeat.Round));
        Assert.Equal([1L, 2L, 3L], Drain(node).ReadStates.Select(r => r.RequestId));
    }

    [Fact]
    public void ReadIndex_PendingReadsAreReportedDroppedWhenLeadershipIsLost()
    {
        var node = Create(N1, term: 1);
        ElectLeader(node, Plain);
        Drain(node);
        node.ReadIndex(5);
        node.Step(Ack(N2, 2, 1));
        node.ReadIndex(6);
        Drain(node);
        node.Step(new Heartbeat(N3, N1, 3, 0, 1));
        var drained = Drain(node);
        Assert.Equal([5L, 6L], drained.Readies.SelectMany(r => r.DroppedReads).Order());
        Assert.Empty(drained.ReadStates);
    }

    [Fact]
    public void ReadIndex_OnFollowerNamesTheLeader()
    {
        var node = Create(N1, term: 1);
        node.Step(new Heartbeat(N2, N1, 1, 0, 1));
        Assert.Equal(new RequestOutcome.NotLeader(N2), node.ReadIndex(1));
    }

    private static readonly RaftOptions WithLeaseReads = new() { PreVote = false, LeaseReads = true };

    /// <summary>N1 leading term 2 with lease reads, its no-op (index 1) acknowledged by N2; the clock at its election.</summary>
    private static (RaftNode Node, TimeSpan Elected) LeaseLeader()
    {
        var node = Create(N1, WithLeaseReads, term: 1);
        ElectLeader(node, WithLeaseReads);
        Drain(node);
        node.Step(Ack(N2, 2, 1));
        return (node, 2 * WithLeaseReads.ElectionTimeout);
    }

    [Fact]
    public void LeaseRead_ServedLocallyWhileTheLeaseHolds()
    {
        var options = WithLeaseReads;
        var (node, elected) = LeaseLeader();
        node.AdvanceClock(elected + options.HeartbeatInterval);
        var round = Drain(node).Single<Heartbeat>(N2).Round;
        node.Step(new HeartbeatResponse(N2, N1, 2, round));
        Drain(node);
        Assert.Equal(options.LeaseDuration, node.LeaseRemaining);

        node.ReadIndex(9);
        var drained = Drain(node);
        Assert.Equal(new ReadState(9, 1), Assert.Single(drained.ReadStates));
        Assert.Empty(drained.Messages);

        // After the lease ran out, a read needs a heartbeat round again.
        node.AdvanceClock(elected + options.HeartbeatInterval + options.LeaseDuration);
        Drain(node);
        Assert.Equal(TimeSpan.Zero, node.LeaseRemaining);
        node.ReadIndex(10);
        drained = Drain(node);
        Assert.Empty(drained.ReadStates);
        Assert.NotEmpty(drained.Messages.OfType<Heartbeat>());
    }

    [Fact]
    public void LeaseRead_ForfeitedForTheRestOfTheTermOnceATransferStarted()
    {
        // The transferee's campaign may arrive after the transfer was abandoned and take votes a lease counts on (a
        // transfer's votes ignore the voters' promise), so a leader that ever started one proves each read by a round.
        var options = WithLeaseReads;
        var (node, elected) = LeaseLeader();
        Assert.NotNull(node.LeaseRemaining);
        Assert.IsType<RequestOutcome.Accepted>(node.TransferLeadership(N2));
        Assert.Single(Drain(node).Messages.OfType<TimeoutNow>());
        Assert.Null(node.LeaseRemaining);

        // N2 never campaigns; the transfer is abandoned after an election timeout, and a new round is answered.
        node.AdvanceClock(elected + options.ElectionTimeout);
        var round = Drain(node).Single<Heartbeat>(N2).Round;
        node.Step(new HeartbeatResponse(N2, N1, 2, round));
        Drain(node);

        node.ReadIndex(9);
        var drained = Drain(node);
        Assert.Empty(drained.ReadStates);
        var proof = drained.Single<Heartbeat>(N2);
        node.Step(new HeartbeatResponse(N2, N1, 2, proof.Round));
        Assert.Equal(new ReadState(9, 1), Assert.Single(Drain(node).ReadStates));
    }
}
