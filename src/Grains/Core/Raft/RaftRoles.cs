namespace Orleans.Patterns.Raft;

/// <summary>Role-specific volatile state; a role change replaces the whole object, so nothing leaks across roles.</summary>
internal abstract class RoleState
{
    public abstract RaftRole Role { get; }
}

internal sealed class FollowerState(NodeId? leader) : RoleState
{
    public override RaftRole Role => RaftRole.Follower;

    public NodeId? Leader { get; set; } = leader;
}

/// <summary>A pre-candidate (thesis §9.6) or a candidate (Raft §5.2) counting answers.</summary>
internal sealed class CandidateState(bool preVote) : RoleState
{
    public override RaftRole Role => PreVote ? RaftRole.PreCandidate : RaftRole.Candidate;

    public bool PreVote { get; } = preVote;

    public Dictionary<NodeId, bool> Votes { get; } = [];
}

internal sealed record PendingRead(long RequestId, long Index, long Round);

internal sealed class LeaderState : RoleState
{
    public override RaftRole Role => RaftRole.Leader;

    public Dictionary<NodeId, Progress> Peers { get; } = [];

    /// <summary>The index of the no-op this leader appended; reads wait until it commits (thesis §6.4, step 1).</summary>
    public long TermStartIndex { get; set; }

    /// <summary>The last configuration entry this leader appended; one change at a time (thesis §4.1).</summary>
    public long PendingConfigIndex { get; set; }

    /// <summary>Entries were appended since the last Ready; they go out with the next one.</summary>
    public bool AppendPending { get; set; }

    /// <summary>The commit index moved since the last Ready; followers hear of it with the next one.</summary>
    public bool CommitPending { get; set; }

    public TimeSpan HeartbeatDeadline { get; set; }

    public TimeSpan CheckQuorumDeadline { get; set; }

    public NodeId? Transferee { get; set; }

    public TimeSpan TransferDeadline { get; set; }

    /// <summary>
    /// Set once this leader has started a transfer: its lease no longer binds the voters, because the transferee's
    /// campaign (possibly delivered late, after the transfer was abandoned) may take their votes inside it. Reads need a
    /// heartbeat round for the rest of the term.
    /// </summary>
    public bool LeaseForfeited { get; set; }

    public long Round { get; set; }

    /// <summary>When each heartbeat round still of interest was sent, for leases (thesis §6.4.1).</summary>
    public SortedDictionary<long, TimeSpan> RoundSentAt { get; } = [];

    public List<long> ReadsAwaitingTermCommit { get; } = [];

    /// <summary>Reads whose index is recorded, waiting for the next heartbeat round; one round serves them all.</summary>
    public List<PendingRead> ReadsAwaitingRound { get; } = [];

    public List<PendingRead> PendingReads { get; } = [];
}
