using Orleans.Patterns.Raft;
using static Orleans.Patterns.Tests.Raft.RaftTestNode;

namespace Orleans.Patterns.Tests.Raft;

/// <summary>Exact election rules of one replica: Raft §5.2, §5.4.1, pre-vote (thesis §9.6), check-quorum (thesis §6.2).</summary>
[Trait("Category", "Unit")]
public sealed class RaftNodeElectionTests
{
    [Fact]
    public void GrantsVote_ToUpToDateCandidate_AndPersistsItBeforeAnswering()
    {
        var node = Create(N1, term: 1, logTerms: [1, 1]);
        node.Step(new RequestVote(N2, N1, 2, LastLogIndex: 2, LastLogTerm: 1, PreVote: false, Transfer: false));
        var ready = node.GetReady();

        // The vote and the answer come in one Ready: the answer leaves only after the vote is durable.
        Assert.Equal(new HardState(2, N2, 0), ready.ToPersist.HardState);
        Assert.True(Assert.Single(ready.Messages.OfType<RequestVoteResponse>()).Granted);
    }

    [Theory]
    [InlineData(false, 0, true)]
    [InlineData(true, 0, false)] // just started: a promise made before a crash may still hold a leader's lease
    [InlineData(true, 150, true)] // an election timeout after the start, the promise has run out
    public void WithLeaseReads_AStartedReplicaVotesOnlyAnElectionTimeoutAfterItsStart(bool leaseReads, int afterMs, bool granted)
    {
        var options = new RaftOptions { LeaseReads = leaseReads };
        var node = Create(N1, options, term: 1, logTerms: [1]);
        node.AdvanceClock(TimeSpan.FromMilliseconds(afterMs));
        node.Step(new RequestVote(N2, N1, 2, LastLogIndex: 1, LastLogTerm: 1, PreVote: true, Transfer: false));
        node.Step(new RequestVote(N2, N1, 2, LastLogIndex: 1, LastLogTerm: 1, PreVote: false, Transfer: false));
        var answers = Drain(node).Messages.OfType<RequestVoteResponse>().ToList();
        Assert.Equal(granted ? 2 : 0, answers.Count(a => a.Granted));
        Assert.Equal(granted ? 2 : 0, answers.Count);
    }

    [Theory]
    [InlineData(3, 1, false)] // longer log, lower last term
    [InlineData(1, 2, false)] // same last term, shorter
    [InlineData(2, 2, true)] // equal
    [InlineData(1, 3, true)] // higher last term wins even if shorter
    public void VoteRequiresCandidateLogAtLeastAsUpToDate(long lastIndex, long lastTerm, bool granted)
    {
        var node = Create(N1, term: 2, logTerms: [1, 2]);
        node.Step(new RequestVote(N2, N1, 3, lastIndex, lastTerm, PreVote: false, Transfer: false));
        Assert.Equal(granted, Drain(node).Single<RequestVoteResponse>(N2).Granted);
        Assert.Equal(3, node.Term);
    }

    [Fact]
    public void VotesOncePerTerm_ButRepeatsTheSameVote()
    {
        var node = Create(N1, term: 1);
        node.Step(new RequestVote(N2, N1, 2, 0, 0, false, false));
        node.Step(new RequestVote(N3, N1, 2, 0, 0, false, false));
        node.Step(new RequestVote(N2, N1, 2, 0, 0, false, false));
        var answers = Drain(node).Messages.OfType<RequestVoteResponse>().ToList();
        Assert.Equal([true, false, true], answers.Select(a => a.Granted));
    }

    [Fact]
    public void RefusesStaleTerm()
    {
        var node = Create(N1, term: 5);
        node.Step(new RequestVote(N2, N1, 4, 10, 4, false, false));
        var answer = Drain(node).Single<RequestVoteResponse>(N2);
        Assert.False(answer.Granted);
        Assert.Equal(5, answer.Term);
    }

    [Fact]
    public void ElectionTimeoutIsRandomizedWithinOneToTwoTimeouts()
    {
        var options = Plain;
        var deadlines = Enumerable.Range(0, 50)
            .Select(i => new RaftNode(N1, Three, new RecoveredState(default, null, []), options, new Random(i), TimeSpan.Zero).NextDeadline)
            .ToList();
        Assert.All(deadlines, d => Assert.InRange(d, options.ElectionTimeout, (2 * options.ElectionTimeout) - TimeSpan.FromTicks(1)));
        Assert.True(deadlines.Distinct().Count() > 40);
    }

    [Fact]
    public void NewLeaderAppendsNoOpOfItsTerm()
    {
        var node = Create(N1, term: 1, logTerms: [1]);
        ElectLeader(node, Plain);
        var drained = Drain(node);
        var noop = Assert.Single(drained.Persisted);
        Assert.Equal(new LogEntry(2, 2, EntryKind.NoOp, ReadOnlyMemory<byte>.Empty).Index, noop.Index);
        Assert.Equal(EntryKind.NoOp, noop.Kind);
        Assert.Equal(2, noop.Term);
        Assert.Equal(2, drained.Messages.OfType<AppendEntries>().Count());
    }

    [Fact]
    public void PreVote_DoesNotRaiseTheTerm()
    {
        var options = new RaftOptions { CheckQuorum = false };
        var node = Create(N1, options, term: 3, logTerms: [3]);
        node.AdvanceClock(2 * options.ElectionTimeout);
        Assert.Equal(RaftRole.PreCandidate, node.Role);
        var drained = Drain(node);
        Assert.Empty(drained.HardStates);
        Assert.All(drained.Messages.OfType<RequestVote>(), m => Assert.True(m.PreVote && m.Term == 4));

        // Refusals keep it at term 3; it is back to follower and asks again next time.
        node.Step(new RequestVoteResponse(N2, N1, 3, false, PreVote: true));
        node.Step(new RequestVoteResponse(N3, N1, 3, false, PreVote: true));
        Assert.Equal(RaftRole.Follower, node.Role);
        Assert.Equal(3, node.Term);
    }

    [Fact]
    public void PreVote_ReceiverKeepsItsTerm_AndRefusesWhileItHearsFromALeader()
    {
        var options = new RaftOptions();
        var node = Create(N1, options, term: 3, logTerms: [3]);
        node.Step(new RequestVote(N2, N1, 4, 1, 3, PreVote: true, Transfer: false));
        var answer = Drain(node).Single<RequestVoteResponse>(N2);
        Assert.True(answer.Granted);
        Assert.Equal(4, answer.Term);
        Assert.Equal(3, node.Term);

        node.Step(new Heartbeat(N3, N1, 3, 0, 1));
        Drain(node);
        node.Step(new RequestVote(N2, N1, 4, 1, 3, PreVote: true, Transfer: false));
        Assert.Empty(Drain(node).Messages.OfType<RequestVoteResponse>());
    }

    [Fact]
    public void PreVote_MajorityLeadsToARealElection()
    {
        var options = new RaftOptions();
        var node = Create(N1, options, term: 3);
        node.AdvanceClock(2 * options.ElectionTimeout);
        Drain(node);
        node.Step(new RequestVoteResponse(N2, N1, 4, true, PreVote: true));
        Assert.Equal(RaftRole.Candidate, node.Role);
        Assert.Equal(4, node.Term);
        Assert.All(Drain(node).Messages.OfType<RequestVote>(), m => Assert.False(m.PreVote));
    }

    [Fact]
    public void CheckQuorum_LeaderStepsDownWithoutHearingFromAMajority()
    {
        var options = new RaftOptions { PreVote = false };
        var node = Create(N1, options, term: 1);
        ElectLeader(node, options);
        Drain(node);
        var elected = 2 * options.ElectionTimeout;

        // n2 answers in the first window: the leader stays.
        node.Step(new HeartbeatResponse(N2, N1, node.Term, 0));
        node.AdvanceClock(elected + options.ElectionTimeout);
        Assert.Equal(RaftRole.Leader, node.Role);

        // Nobody answers in the second window: it steps down, in the same term.
        node.AdvanceClock(elected + (2 * options.ElectionTimeout));
        Assert.Equal(RaftRole.Follower, node.Role);
        Assert.Equal(2, node.Term);
    }

    [Fact]
    public void TimeoutNow_StartsAnElectionAtOnce_ThatVotersHonourDespiteALeader()
    {
        var options = new RaftOptions();
        var target = Create(N2, options, term: 2);
        target.Step(new TimeoutNow(N1, N2, 2));
        Assert.Equal(RaftRole.Candidate, target.Role);
        var request = Drain(target).Single<RequestVote>(N3);
        Assert.True(request.Transfer);

        var voter = Create(N3, options, term: 2);
        voter.Step(new Heartbeat(N1, N3, 2, 0, 1));
        voter.Step(request);
        Assert.True(Drain(voter).Single<RequestVoteResponse>(N2).Granted);
    }

    [Fact]
    public void SingleVoter_ElectsItself_CommitsOnItsOwnDurableCopy_AndServesReads()
    {
        var options = new RaftOptions();
        var solo = new ClusterConfig([N1], []);
        var node = new RaftNode(N1, solo, new RecoveredState(default, null, []), options, new Random(1), TimeSpan.Zero);
        node.AdvanceClock(2 * options.ElectionTimeout);
        Assert.Equal(RaftRole.Leader, node.Role);
        var proposed = Assert.IsType<RequestOutcome.Accepted>(node.Propose(new byte[] { 7 }));
        Assert.Equal(proposed.Index, Drain(node).Committed.Last().Index);
        node.ReadIndex(3);
        Assert.Equal(new ReadState(3, proposed.Index), Assert.Single(Drain(node).ReadStates));
    }

    [Fact]
    public void DefaultOptionsAreValid() => new RaftOptions().Validate();

    [Fact]
    public void OptionsValidatorNamesTheBadOption()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new RaftOptions { HeartbeatInterval = TimeSpan.FromSeconds(1) }.Validate());
        Assert.Equal(nameof(RaftOptions.HeartbeatInterval), error.ParamName);
        var lease = Assert.Throws<ArgumentException>(() => new RaftOptions { LeaseReads = true, CheckQuorum = false }.Validate());
        Assert.Equal(nameof(RaftOptions.LeaseReads), lease.ParamName);
        Assert.Equal(nameof(RaftOptions.MaxInflightMessages), Assert.Throws<ArgumentOutOfRangeException>(() => new RaftOptions { MaxInflightMessages = 0 }.Validate()).ParamName);
    }
}
