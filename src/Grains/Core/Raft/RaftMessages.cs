namespace Orleans.Patterns.Raft;

/// <summary>A message between replicas. Every message carries the sender's term (Raft Figure 2, "Rules for all servers").</summary>
public abstract record RaftMessage(NodeId From, NodeId To, long Term);

/// <summary>
/// A vote request (Raft §5.2). With <paramref name="PreVote"/> the term is the one the sender would campaign in and
/// no receiver changes its own term (thesis §9.6). <paramref name="Transfer"/> marks a campaign started by
/// <see cref="TimeoutNow"/>, which voters honour even while they hear from a leader (thesis §3.10, §4.2.3).
/// </summary>
public sealed record RequestVote(NodeId From, NodeId To, long Term, long LastLogIndex, long LastLogTerm, bool PreVote, bool Transfer)
    : RaftMessage(From, To, Term);

/// <summary>The answer to a <see cref="RequestVote"/>.</summary>
public sealed record RequestVoteResponse(NodeId From, NodeId To, long Term, bool Granted, bool PreVote) : RaftMessage(From, To, Term);

/// <summary>Log replication (Raft §5.3). An empty one still moves the follower's commit index.</summary>
public sealed record AppendEntries(
    NodeId From, NodeId To, long Term, long PrevLogIndex, long PrevLogTerm, IReadOnlyList<LogEntry> Entries, long LeaderCommit)
    : RaftMessage(From, To, Term);

/// <summary>
/// The answer to an <see cref="AppendEntries"/>. On success <paramref name="MatchIndex"/> is the last index known to
/// match the leader. On rejection <paramref name="RejectedIndex"/> echoes the PrevLogIndex refused, and
/// <paramref name="ConflictTerm"/> (0 when the follower's log is too short) with <paramref name="ConflictIndex"/>,
/// the follower's first index of that term, let the leader skip a whole term per round trip (Raft §5.3, last paragraphs).
/// </summary>
public sealed record AppendEntriesResponse(
    NodeId From, NodeId To, long Term, bool Success, long MatchIndex, long RejectedIndex, long ConflictTerm, long ConflictIndex)
    : RaftMessage(From, To, Term);

/// <summary>
/// A leader's keep-alive. <paramref name="Commit"/> is at most what the follower is known to hold, so the follower may
/// adopt it without a consistency check; <paramref name="Round"/> confirms leadership for reads (thesis §6.4).
/// </summary>
public sealed record Heartbeat(NodeId From, NodeId To, long Term, long Commit, long Round) : RaftMessage(From, To, Term);

/// <summary>The answer to a <see cref="Heartbeat"/>, echoing its round.</summary>
public sealed record HeartbeatResponse(NodeId From, NodeId To, long Term, long Round) : RaftMessage(From, To, Term);

/// <summary>A leader's snapshot for a follower whose next entry the leader has compacted away (Raft §7).</summary>
public sealed record InstallSnapshot(NodeId From, NodeId To, long Term, Snapshot Snapshot) : RaftMessage(From, To, Term);

/// <summary>The answer to an <see cref="InstallSnapshot"/>: the follower's last index afterwards.</summary>
public sealed record InstallSnapshotResponse(NodeId From, NodeId To, long Term, long MatchIndex) : RaftMessage(From, To, Term);

/// <summary>Tells an up-to-date follower to campaign at once, to hand leadership over (thesis §3.10).</summary>
public sealed record TimeoutNow(NodeId From, NodeId To, long Term) : RaftMessage(From, To, Term);
