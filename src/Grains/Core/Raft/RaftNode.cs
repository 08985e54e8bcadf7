namespace Orleans.Patterns.Raft;

/// <summary>
/// One Raft replica as a deterministic state machine: no I/O, no threads, no clock, no shared randomness. The host
/// feeds it time (<see cref="AdvanceClock"/>), messages (<see cref="Step"/>) and requests, and drains its work with
/// <see cref="GetReady"/> / <see cref="Advance(Ready)"/>. Not thread-safe: call from one thread (a grain turn) at a time.
/// </summary>
public sealed partial class RaftNode
{
    private readonly RaftOptions _options;
    private readonly Random _random;
    private readonly RaftLog _log;
    private readonly ClusterConfig _bootstrapConfig;
    private readonly List<RaftMessage> _messages = [];
    private readonly List<ReadState> _readStates = [];
    private readonly List<long> _droppedReads = [];
    private RoleState _role;
    private long _term;
    private NodeId? _votedFor;
    private long _commit;
    private long _applied;
    private long _stableIndex;
    private long _truncatedSinceReady = long.MaxValue;
    private ClusterConfig _config;
    private long _configIndex;
    private Snapshot? _snapshot;
    private Snapshot? _snapshotToPersist;
    private TimeSpan _now;
    private TimeSpan _electionDeadline;
    private TimeSpan _lastLeaderContact;
    private readonly TimeSpan _startedAt;
    private HardState _lastHardState;
    private SoftState _lastSoftState;
    private Ready? _outstanding;

    /// <summary>
    /// Creates a replica from what it recovered from disk. <paramref name="bootstrap"/> is the configuration in force
    /// before any configuration entry; pass the same value at every start (a node joining later passes
    /// <see cref="ClusterConfig.Empty"/> and learns the configuration from the leader). The host must have restored its
    /// state machine from <see cref="RecoveredState.Snapshot"/>; committed entries after it come again as
    /// <see cref="Ready.CommittedEntries"/>.
    /// </summary>
    public RaftNode(NodeId id, ClusterConfig bootstrap, RecoveredState recovered, RaftOptions options, Random random, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(recovered);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(random);
        options.Validate();
        Id = id;
        _options = options;
        _random = random;
        _bootstrapConfig = bootstrap;
        _snapshot = recovered.Snapshot;
        _log = new RaftLog(recovered.Snapshot?.Metadata, recovered.Entries);
        _term = recovered.HardState.Term;
        _votedFor = recovered.HardState.VotedFor;
        _applied = _log.SnapshotIndex;
        _commit = Math.Clamp(recovered.HardState.Commit, _log.SnapshotIndex, _log.LastIndex);
        _stableIndex = _log.LastIndex;
        _lastHardState = recovered.HardState;
        _config = bootstrap;
        RefreshConfig();
        _now = now;
        _startedAt = now;
        _role = new FollowerState(null);
        ResetElectionDeadline();
        _lastSoftState = SoftState;
    }

    public NodeId Id { get; }

    public long Term => _term;

    public RaftRole Role => _role.Role;

    public NodeId? Leader => _role switch
    {
        LeaderState => Id,
        FollowerState follower => follower.Leader,
        _ => null,
    };

    public SoftState SoftState => new(Role, Leader, _term);

    public long CommitIndex => _commit;

    /// <summary>The last index handed to the host to apply.</summary>
    public long AppliedIndex => _applied;

    public long LastIndex => _log.LastIndex;

    public long FirstIndex => _log.FirstIndex;

    /// <summary>The latest configuration in the log; it is in force from the moment it is appended (thesis §4.1).</summary>
    public ClusterConfig Config => _config;

    /// <summary>The earliest time at which <see cref="AdvanceClock"/> has work to do; the host sets one timer for it.</summary>
    public TimeSpan NextDeadline => _role is LeaderState leader
        ? Min(Min(leader.HeartbeatDeadline, leader.CheckQuorumDeadline), leader.Transferee is null ? TimeSpan.MaxValue : leader.TransferDeadline)
        : _electionDeadline;

    internal long? TermAt(long index) => _log.TermAt(index);

    internal LogEntry EntryAt(long index) => _log.Get(index);

    /// <summary>Feeds one message from another replica.</summary>
    public void Step(RaftMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.To != Id || message.From == Id)
        {
            return;
        }

        if (message.Term > _term)
        {
            switch (message)
            {
                case RequestVote vote:
                    // A replica that hears from a live leader ignores a disruptive candidate (thesis §4.2.3, §9.6).
                    if (!vote.Transfer && InLease(vote.PreVote))
                    {
                        return;
                    }

                    if (!vote.PreVote)
                    {
                        BecomeFollower(message.Term, null);
                    }

                    break;
                case RequestVoteResponse { PreVote: true, Granted: true }:
                    // A granted pre-vote carries the term the pre-candidate asked about, not a term anyone is in.
                    break;
                default:
                    BecomeFollower(message.Term, message is AppendEntries or Heartbeat or InstallSnapshot ? message.From : null);
                    break;
            }
        }
        else if (message.Term < _term)
        {
            RejectStale(message);
            return;
        }

        switch (message)
        {
            case RequestVote vote:
                HandleRequestVote(vote);
                break;
            case RequestVoteResponse response:
                HandleVoteResponse(response);
                break;
            case AppendEntries append:
                HandleAppendEntries(append);
                break;
            case AppendEntriesResponse response:
                HandleAppendResponse(response);
                break;
            case Heartbeat heartbeat:
                HandleHeartbeat(heartbeat);
                break;
            case HeartbeatResponse response:
                HandleHeartbeatResponse(response);
                break;
            case InstallSnapshot install:
                HandleInstallSnapshot(install);
                break;
            case InstallSnapshotResponse response:
                HandleSnapshotResponse(response);
                break;
            case TimeoutNow:
                HandleTimeoutNow();
                break;
        }
    }

    /// <summary>
    /// Figure 2: "If RPC request contains term &lt; currentTerm, reply false". The answer carries the current term, so
    /// a deposed leader learns of it and steps down even when pre-vote keeps this replica from campaigning.
    /// </summary>
    private void RejectStale(RaftMessage message)
    {
        switch (message)
        {
            case AppendEntries append:
                Send(new AppendEntriesResponse(Id, message.From, _term, false, 0, append.PrevLogIndex, 0, 0));
                break;
            case Heartbeat heartbeat:
                Send(new HeartbeatResponse(Id, message.From, _term, heartbeat.Round));
                break;
            case RequestVote vote:
                Send(new RequestVoteResponse(Id, message.From, _term, false, vote.PreVote));
                break;
        }
    }

    private void Send(RaftMessage message) => _messages.Add(message);

    private bool IsVoter(NodeId node) => _config.Voters.Contains(node);

    private int Quorum => (_config.Voters.Count / 2) + 1;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>Re-reads the configuration from the newest configuration entry, the snapshot, or the bootstrap value.</summary>
    private void RefreshConfig()
    {
        for (var index = _log.LastIndex; index >= _log.FirstIndex; index--)
        {
            var entry = _log.Get(index);
            if (entry.Kind == EntryKind.Configuration)
            {
                SetConfig(ClusterConfig.Decode(entry.Data.Span), index);
                return;
            }
        }

        SetConfig(_snapshot is { } snapshot && snapshot.Metadata.Index == _log.SnapshotIndex ? snapshot.Metadata.Config : _bootstrapConfig, _log.SnapshotIndex);
    }
}
