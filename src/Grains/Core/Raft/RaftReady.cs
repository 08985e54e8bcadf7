namespace Orleans.Patterns.Raft;

/// <summary>A replica's role (Raft §5.1; the pre-candidate is the pre-vote phase of thesis §9.6).</summary>
public enum RaftRole
{
    Follower,
    PreCandidate,
    Candidate,
    Leader,
}

/// <summary>What a replica believes about leadership; not persisted.</summary>
public readonly record struct SoftState(RaftRole Role, NodeId? Leader, long Term);

/// <summary>A linearizable read may be served once the state machine has applied <paramref name="Index"/> (thesis §6.4).</summary>
public readonly record struct ReadState(long RequestId, long Index);

/// <summary>The outcome of a proposal, a read or a membership request.</summary>
public abstract record RequestOutcome
{
    private RequestOutcome()
    {
    }

    /// <summary>Appended at <paramref name="Index"/> in <paramref name="Term"/>; for a read, the index it will wait for.</summary>
    public sealed record Accepted(long Index, long Term) : RequestOutcome;

    /// <summary>This replica does not lead; <paramref name="LeaderHint"/> is the leader it last heard from, if any.</summary>
    public sealed record NotLeader(NodeId? LeaderHint) : RequestOutcome;

    /// <summary>This replica leads but cannot take the request now (a configuration change under way, …).</summary>
    public sealed record Rejected(string Reason) : RequestOutcome;

    /// <summary>
    /// This replica leads but is handing leadership to <paramref name="Transferee"/> (thesis §3.10) and takes no
    /// requests until the transfer ends, either way within an election timeout: a client retries shortly, wherever the
    /// leader is by then.
    /// </summary>
    public sealed record Transferring(NodeId Transferee) : RequestOutcome;
}

/// <summary>
/// One batch of work for the host. The host must, in this order: make <see cref="ToPersist"/> durable (a snapshot in it
/// also replaces the state machine's state); then send <see cref="Messages"/>; then apply
/// <see cref="CommittedEntries"/> in order; then serve <see cref="ReadStates"/> and fail <see cref="DroppedReads"/>
/// (the leader lost office before confirming them; retry at the new leader); then call
/// <see cref="RaftNode.Advance(Ready)"/>. Messages may promise what <see cref="ToPersist"/> holds (a vote, an
/// acknowledged entry), so they must never leave before it is durable (Raft Figure 2, "Persistent state") — unless
/// <see cref="SendBeforePersist"/> says they promise nothing of it.
/// </summary>
/// <remarks>
/// <c>SendBeforePersist</c> is true when <see cref="Messages"/> may leave while <see cref="ToPersist"/> is still being
/// written (thesis §10.2.1): they are a leader's, in a term and with a vote already durable, so they carry entries but
/// promise nothing about this replica's disk. The leader counts its own entries toward a majority only after
/// <see cref="RaftNode.Advance"/>, so a commit never rests on an entry the leader has not stored; the followers'
/// acknowledgements may meanwhile commit it without the leader.
/// <para>
/// <c>ApplyBeforePersist</c> is true when <see cref="CommittedEntries"/> (and the reads waiting on them) may be applied
/// and served while <see cref="ToPersist"/> is written: none of them is in this batch and it installs no snapshot, so
/// each is already on this replica's disk and on a majority's. A leader's client then hears of its commit without
/// waiting for the disk write of the next batch, as etcd's apply runs beside its WAL write.
/// </para>
/// </remarks>
public sealed record Ready(
    PersistBatch ToPersist,
    IReadOnlyList<RaftMessage> Messages,
    IReadOnlyList<LogEntry> CommittedEntries,
    IReadOnlyList<ReadState> ReadStates,
    IReadOnlyList<long> DroppedReads,
    SoftState? SoftState,
    bool SendBeforePersist = false,
    bool ApplyBeforePersist = false);
