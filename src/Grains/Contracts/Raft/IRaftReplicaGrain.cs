using Orleans.Concurrency;

namespace Orleans.Patterns.Raft;

/// <summary>
/// One Raft replica per silo, keyed by the silo's stable name and pinned to that silo; its log lives on that
/// silo's disk. Peers talk through <see cref="Deliver"/>; callers use the replicated key/value store.
/// </summary>
public interface IRaftReplicaGrain : IGrainWithStringKey
{
    /// <summary>
    /// A Raft message from a peer, encoded by the core's codec. One-way: replicas never wait on each other, so two
    /// replicas sending to each other at once cannot deadlock, and a slow or dead peer never blocks a sender.
    /// </summary>
    [OneWay]
    Task Deliver(byte[] message);

    /// <summary>
    /// Where this replica takes its peers' own connections (<c>address:port</c>, the Tcp peer transport), or null when
    /// its silo sends and takes Raft messages through <see cref="Deliver"/> only. Interleaves: it reads one field.
    /// </summary>
    [AlwaysInterleave, ResponseTimeout("00:00:05")]
    Task<string?> GetPeerEndpoint();

    /// <summary>Proposes a write; completes when it is committed and applied. Throws <see cref="NotLeaderException"/> on a follower.</summary>
    [ResponseTimeout("00:00:05")]
    Task<KvWriteResult> Write(KvWrite write);

    /// <summary>
    /// Proposes several writes in one turn of the leader, so they share one disk write and one AppendEntries per
    /// follower; completes when all are committed and applied, with their results in order. Each write keeps its own
    /// session (client id and sequence), so a retried batch applies each write once. All are taken or none: a bad
    /// write refuses the batch with <see cref="ArgumentException"/> naming it. Throws <see cref="NotLeaderException"/>
    /// on a follower.
    /// </summary>
    [ResponseTimeout("00:00:05")]
    Task<KvWriteBatchResult> WriteBatch(KvWriteBatch batch);

    /// <summary>
    /// A linearizable read: from the leader's lease, or after a heartbeat round (ReadIndex) when the lease is off or has
    /// run out. Throws <see cref="NotLeaderException"/> on a follower.
    /// </summary>
    [ResponseTimeout("00:00:05")]
    Task<KvReadResult> Read(string key);

    /// <summary>
    /// Proposes a coordination write: an encoded <c>CoordinationCommand</c> (<c>CoordinationCommand.Encode</c>);
    /// completes when it is committed and applied, with the encoded <c>CoordinationResult</c>
    /// (<c>CoordinationWire.DecodeResult</c>): a refusal by the store is a result, not an exception. Lease grants (and
    /// keep-alives sent as commands, which <see cref="RenewLease"/> replaces) are stamped with the leader's clock here.
    /// Throws <see cref="NotLeaderException"/> on a follower.
    /// </summary>
    [ResponseTimeout("00:00:05")]
    Task<byte[]> Coordinate(byte[] command);

    /// <summary>
    /// <see cref="Coordinate"/> for several commands in one turn of the leader (one disk write, one AppendEntries per
    /// follower); the results come in the commands' order. Each command keeps its own session, so a retried batch
    /// applies each once. A malformed command refuses the batch whole with <see cref="ArgumentException"/> naming it.
    /// With raft:gather_wait on (the default), the leader may hold the batch to propose it in one round with other
    /// fronts' batches (<c>ProposalGathering</c>); a batch held when leadership moves is refused with
    /// <see cref="NotLeaderException"/>, never proposed.
    /// </summary>
    [ResponseTimeout("00:00:05")]
    Task<CoordinationBatchResult> CoordinateBatch(CoordinationBatch batch);

    /// <summary>
    /// Renews a coordination lease on the leader without a log entry of its own, as etcd's leader does: once leadership
    /// is confirmed (the leader's lease, or a ReadIndex round), the renewal is kept on the leader's clock and written later with others in
    /// one entry, before any expiry it would contradict. Answers the lease's TTL, 0 when the lease does not exist (or
    /// is being expired). A renewal answered here holds from no later than the call was made. Throws
    /// <see cref="NotLeaderException"/> on a follower.
    /// </summary>
    [ResponseTimeout("00:00:05")]
    Task<LeaseRenewal> RenewLease(long leaseId);

    /// <summary>
    /// A read of the coordination store (<c>CoordinationWire.EncodeQuery</c>; answer: <c>CoordinationWire.DecodeAnswer</c>).
    /// Serializable ranges and watch feeds are answered by any replica from what it has applied; linearizable ranges,
    /// lease time-to-live and the lease list only by the leader, confirmed as a linearizable read is (else
    /// <see cref="NotLeaderException"/>).
    /// </summary>
    [ResponseTimeout("00:00:05")]
    Task<byte[]> Query(byte[] query);

    /// <summary>
    /// A long poll of a watch query on this replica: the events from the query's start revision (0: after this
    /// replica's current revision) to the revision it has applied; when there are none yet, waits up to
    /// <paramref name="maxWait"/> (at most 30 s) for more, then answers, possibly with none (a progress notice: the
    /// answer's revision). Events come in revision order; a start below the compacted revision is refused naming it.
    /// </summary>
    [ResponseTimeout("00:00:45")]
    Task<byte[]> Watch(byte[] query, TimeSpan maxWait);

    /// <summary>This replica's view: role, term, leader, indexes, log and snapshot size.</summary>
    [AlwaysInterleave]
    Task<RaftReplicaStatus> GetStatus();

    /// <summary>
    /// A fingerprint of the state this replica has applied (values and client sessions). Replicas that applied the
    /// same log prefix report the same digest, so comparing digests at equal applied indexes checks that they agree
    /// without copying their contents. Costs a pass over the whole state: for tests and diagnosis, not for polling.
    /// </summary>
    [AlwaysInterleave]
    Task<RaftStateDigest> GetStateDigest();

    /// <summary>Hands leadership to another replica once it has caught up (thesis §3.10).</summary>
    Task TransferLeadership(string target);

    /// <summary>
    /// Operator command, on the leader: adds the named silo's replica as a learner; called again once the learner has
    /// caught up, makes it a voter (thesis §4.2.1). Completes when the change is committed, with the leader's status.
    /// Throws <see cref="NotLeaderException"/> on a follower.
    /// </summary>
    [ResponseTimeout("00:00:05")]
    Task<RaftReplicaStatus> AddMember(string name);

    /// <summary>
    /// Operator command, on the leader: removes the named replica. Refused when it would leave fewer voters than the
    /// configured minimum, unless <paramref name="force"/>: the one way below the floor. While the leader follows the
    /// cluster's membership, a removed replica whose silo is still alive is added back as a learner.
    /// </summary>
    [ResponseTimeout("00:00:05")]
    Task<RaftReplicaStatus> RemoveMember(string name, bool force);

    /// <summary>
    /// How long this replica's recent writes spent in each stage of the write path (the last 1,024 of each, since it
    /// took its current role for the role's own stages): on a leader,
    /// commit (a call's proposals taken → committed and applied) and replication per follower (entries sent → its
    /// acknowledgement back); on a follower, append (entries arrived → acknowledgement sent); on every replica, persist
    /// (a Ready handed to the log → running again, durable) and the log's own write and fsync.
    /// </summary>
    [AlwaysInterleave]
    Task<RaftWritePathLatency> GetWritePathLatency();

    /// <summary>
    /// How this replica's Raft messages travel: its peer transport's endpoint and, per peer, whether the connection is up
    /// and how many messages went each way on it (and how many the chaos rules dropped), beside those sent and
    /// received as Orleans calls.
    /// </summary>
    [AlwaysInterleave]
    Task<RaftPeerTransportStatus> GetPeerTransportStatus();

    /// <summary>How this replica sees the cluster's silos and what its membership planner last decided.</summary>
    [AlwaysInterleave]
    Task<RaftMembershipStatus> GetMembershipStatus();
}

/// <summary>
/// A replica's membership view: whether it follows the cluster, the silos it knows the state of
/// (<c>name Alive|Dead since t</c>), and, on a leader, the planner's last decision.
/// </summary>
[GenerateSerializer, Immutable, Alias("patterns.raft.membership-status")]
public sealed record RaftMembershipStatus(
    [property: Id(0)] string Node,
    [property: Id(1)] bool Following,
    [property: Id(2)] IReadOnlyList<string> Hosts,
    [property: Id(3)] string? LastAction,
    [property: Id(4)] string? LastActionNode,
    [property: Id(5)] string? LastReason);

/// <summary>A write to the replicated store. <see cref="ClientId"/> and <see cref="Sequence"/> make a retry apply once.</summary>
[GenerateSerializer, Immutable, Alias("patterns.raft.kv-write")]
public sealed record KvWrite(
    [property: Id(0)] string ClientId,
    [property: Id(1)] long Sequence,
    [property: Id(2)] KvWriteKind Kind,
    [property: Id(3)] string Key,
    [property: Id(4)] string? Value,
    [property: Id(5)] string? Expected);

/// <summary>Writes of several sessions for one proposal round (<see cref="IRaftReplicaGrain.WriteBatch"/>).</summary>
[GenerateSerializer, Immutable, Alias("patterns.raft.kv-write-batch")]
public sealed record KvWriteBatch([property: Id(0)] IReadOnlyList<KvWrite> Writes);

/// <summary>The results of a <see cref="KvWriteBatch"/>, in its order.</summary>
[GenerateSerializer, Immutable, Alias("patterns.raft.kv-write-batch-result")]
public sealed record KvWriteBatchResult([property: Id(0)] IReadOnlyList<KvWriteResult> Results);

/// <summary>
/// Encoded coordination commands of several sessions for one proposal round (<see cref="IRaftReplicaGrain.CoordinateBatch"/>).
/// <see cref="Origin"/> names the front that sends it (one per client instance, unique and never reused), so the leader
/// can gather the batches of all fronts into shared rounds; null: an anonymous caller.
/// </summary>
[GenerateSerializer, Immutable, Alias("patterns.raft.coordination-batch")]
public sealed record CoordinationBatch([property: Id(0)] IReadOnlyList<byte[]> Commands, [property: Id(1)] string? Origin = null);

/// <summary>The encoded results of a <see cref="CoordinationBatch"/>, in its order.</summary>
[GenerateSerializer, Immutable, Alias("patterns.raft.coordination-batch-result")]
public sealed record CoordinationBatchResult([property: Id(0)] IReadOnlyList<byte[]> Results);

/// <summary>The answer to <see cref="IRaftReplicaGrain.RenewLease"/>: the store's revision, the lease, and its TTL in seconds (0: no such lease).</summary>
[GenerateSerializer, Immutable, Alias("patterns.raft.lease-renewal")]
public sealed record LeaseRenewal([property: Id(0)] long Revision, [property: Id(1)] long ID, [property: Id(2)] long TTL);

/// <summary>What a <see cref="KvWrite"/> does.</summary>
public enum KvWriteKind : byte
{
    Put = 1,
    Delete = 2,
    Cas = 3,
}

/// <summary>The outcome of a committed write: whether it took effect, the previous value, and where it sits in the log.</summary>
[GenerateSerializer, Immutable, Alias("patterns.raft.kv-write-result")]
public sealed record KvWriteResult([property: Id(0)] bool Applied, [property: Id(1)] string? Previous, [property: Id(2)] long Index);

/// <summary>A linearizable read: the value (null when absent) as of log index <see cref="Index"/>.</summary>
[GenerateSerializer, Immutable, Alias("patterns.raft.kv-read-result")]
public sealed record KvReadResult([property: Id(0)] string? Value, [property: Id(1)] long Index);

/// <summary>
/// A replica's state as it reports it. <see cref="LeaseMillisecondsLeft"/>: on a leader serving reads from its lease,
/// how much of it is left (0: lapsed, the next read waits for a heartbeat round); null where reads take a round each.
/// </summary>
[GenerateSerializer, Immutable, Alias("patterns.raft.replica-status")]
public sealed record RaftReplicaStatus(
    [property: Id(0)] string Node,
    [property: Id(1)] string Role,
    [property: Id(2)] long Term,
    [property: Id(3)] string? Leader,
    [property: Id(4)] long CommitIndex,
    [property: Id(5)] long AppliedIndex,
    [property: Id(6)] long FirstIndex,
    [property: Id(7)] long LastIndex,
    [property: Id(8)] long SnapshotIndex,
    [property: Id(9)] IReadOnlyList<string> Voters,
    [property: Id(10)] IReadOnlyList<string> Learners,
    [property: Id(11)] long DiskBytes,
    [property: Id(12)] double? LeaseMillisecondsLeft = null);

/// <summary>A replica's applied state in brief: how far it applied, how many keys it holds, and a SHA-256 of it (hex).</summary>
/// <summary>The names of the write path's stages in <see cref="RaftStageLatency.Stage"/>.</summary>
public static class RaftWritePathStages
{
    public const string Commit = "commit";
    public const string Replication = "replication";
    public const string Append = "append";
    public const string Persist = "persist";
    public const string LogSync = "log sync";
}

/// <summary>One stage's recent durations, in milliseconds (nearest-rank percentiles); <c>Peer</c> for replication only.</summary>
[GenerateSerializer, Immutable, Alias("patterns.raft.stage-latency")]
public sealed record RaftStageLatency(
    [property: Id(0)] string Stage,
    [property: Id(1)] string? Peer,
    [property: Id(2)] int Samples,
    [property: Id(3)] double P50,
    [property: Id(4)] double P90,
    [property: Id(5)] double P99,
    [property: Id(6)] double Max);

/// <summary>
/// A replica's transport (<c>tcp</c> or <c>orleans</c>), where it listens, and the messages it sent and received as
/// Orleans calls (while a peer had no connection, or with the transport off).
/// </summary>
[GenerateSerializer, Immutable, Alias("patterns.raft.peer-transport-status")]
public sealed record RaftPeerTransportStatus(
    [property: Id(0)] string Node,
    [property: Id(1)] string Transport,
    [property: Id(2)] string? Endpoint,
    [property: Id(3)] long SentThroughOrleans,
    [property: Id(4)] long ReceivedThroughOrleans,
    [property: Id(5)] IReadOnlyList<RaftPeerLinkStatus> Peers);

/// <summary>
/// One peer as a replica's transport sees it: its connection to the peer (up or not), messages sent on it and dropped
/// because the peer did not read them, and messages received from the peer and dropped by this silo's chaos rules.
/// </summary>
[GenerateSerializer, Immutable, Alias("patterns.raft.peer-link-status")]
public sealed record RaftPeerLinkStatus(
    [property: Id(0)] string Peer,
    [property: Id(1)] bool Connected,
    [property: Id(2)] long Sent,
    [property: Id(3)] long DroppedUnread,
    [property: Id(4)] long Received,
    [property: Id(5)] long DroppedByChaos);

/// <summary>
/// A replica's write-path timings (<see cref="IRaftReplicaGrain.GetWritePathLatency"/>), and how many rounds its
/// gathering of the fronts' coordination batches released since it started, with the batches they carried (their
/// ratio is how many fronts shared a round; both 0 when gathering is off or it never led).
/// </summary>
[GenerateSerializer, Immutable, Alias("patterns.raft.write-path-latency")]
public sealed record RaftWritePathLatency(
    [property: Id(0)] string Node,
    [property: Id(1)] string Role,
    [property: Id(2)] IReadOnlyList<RaftStageLatency> Stages,
    [property: Id(3)] long GatheredRounds = 0,
    [property: Id(4)] long GatheredBatches = 0);

[GenerateSerializer, Immutable, Alias("patterns.raft.state-digest")]
public sealed record RaftStateDigest(
    [property: Id(0)] string Node,
    [property: Id(1)] long AppliedIndex,
    [property: Id(2)] int Keys,
    [property: Id(3)] string Sha256);

/// <summary>The replica asked is not the leader; <see cref="LeaderHint"/> names the one it last heard from, if any.</summary>
[GenerateSerializer, Alias("patterns.raft.not-leader")]
public sealed class NotLeaderException : OrleansException
{
    public NotLeaderException(string node, string? leaderHint)
        : this(node, leaderHint, leaderHint is null ? $"Replica {node} is not the leader and knows no leader yet." : $"Replica {node} is not the leader; try {leaderHint}.")
    {
    }

    /// <summary>A refusal that says why in its own words (a leader handing over office takes no requests either).</summary>
    public NotLeaderException(string node, string? leaderHint, string message)
        : base(message)
    {
        ArgumentException.ThrowIfNullOrEmpty(node);
        LeaderHint = leaderHint;
    }

    [Id(0)]
    public string? LeaderHint { get; private set; }
}

/// <summary>
/// The write may or may not have been committed (leadership changed while it was in flight). Retry with the
/// same client id and sequence: the store applies a command once.
/// </summary>
[GenerateSerializer, Alias("patterns.raft.outcome-unknown")]
public sealed class OutcomeUnknownException(string message) : OrleansException(message);
