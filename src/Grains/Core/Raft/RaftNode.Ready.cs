namespace Orleans.Patterns.Raft;

/// <summary>Time and the Ready/Advance hand-off to the host.</summary>
public sealed partial class RaftNode
{
    /// <summary>True when <see cref="GetReady"/> has work and no earlier <see cref="Ready"/> is still outstanding.</summary>
    public bool HasReady => _outstanding is null
        && (_log.HasUnstable
            || CurrentHardState != _lastHardState
            || _messages.Count > 0
            || _commit > _applied
            || _readStates.Count > 0
            || _droppedReads.Count > 0
            || SoftState != _lastSoftState
            || _snapshotToPersist is not null
            || _role is LeaderState { ReadsAwaitingRound.Count: > 0 } or LeaderState { AppendPending: true } or LeaderState { CommitPending: true });

    private HardState CurrentHardState => new(_term, _votedFor, _commit);

    // Whether TakeAppendsBeforePersist has handed out appends during the outstanding Ready's write.
    private bool _appendsTakenDuringWrite;

    /// <summary>
    /// Takes the pending work. Only one Ready is outstanding at a time: the host calls <see cref="Advance(Ready)"/>
    /// before the next <see cref="GetReady"/>, while <see cref="Step"/> and the other inputs may be called in between.
    /// </summary>
    public Ready GetReady()
    {
        if (_outstanding is not null)
        {
            throw new InvalidOperationException("the previous Ready has not been advanced");
        }

        FlushAppends();
        if (_role is LeaderState { ReadsAwaitingRound.Count: > 0 } leader)
        {
            BroadcastHeartbeat(leader);
        }

        var hardState = CurrentHardState;
        var entries = _log.TakeUnstable();

        // Only the term, the vote and the log are promises; a commit index alone is a hint (see PersistBatch.MustSync).
        var mustSync = entries.Count > 0
            || _snapshotToPersist is not null
            || hardState.Term != _lastHardState.Term
            || hardState.VotedFor != _lastHardState.VotedFor;
        var batch = new PersistBatch(hardState != _lastHardState ? hardState : null, entries, _snapshotToPersist, mustSync);

        // A leader's messages promise nothing this batch makes durable as long as its term and vote are already on disk
        // (only the commit index may change, which is a hint): it may send while it writes (thesis §10.2.1).
        var sendBeforePersist = _role is LeaderState
            && hardState.Term == _lastHardState.Term
            && hardState.VotedFor == _lastHardState.VotedFor
            && _snapshotToPersist is null;
        _lastHardState = hardState;
        _snapshotToPersist = null;
        _truncatedSinceReady = long.MaxValue;

        var committed = new List<LogEntry>((int)Math.Min(_commit - _applied, 1024));
        for (var index = _applied + 1; index <= _commit; index++)
        {
            committed.Add(_log.Get(index));
        }

        _applied = _commit;
        var applyBeforePersist = batch.Snapshot is null
            && (committed.Count == 0 || batch.Entries.Count == 0 || committed[^1].Index < batch.Entries[0].Index);
        var softState = SoftState;
        var ready = new Ready(batch, [.. _messages], committed, [.. _readStates], [.. _droppedReads], softState != _lastSoftState ? softState : null, sendBeforePersist, applyBeforePersist);
        _lastSoftState = softState;
        _messages.Clear();
        _readStates.Clear();
        _droppedReads.Clear();
        _outstanding = ready;
        _appendsTakenDuringWrite = false;
        return ready;
    }

    /// <summary>
    /// Committed entries this replica already holds on its disk, handed out at once even while a Ready is outstanding,
    /// so a commit learned during a disk write is applied (and its client answered) without waiting for that write.
    /// Empty unless the outstanding Ready, if any, had <see cref="Ready.ApplyBeforePersist"/> and the host applied its
    /// entries before persisting (entries must be applied in order); the next Ready does not repeat what this returns.
    /// </summary>
    public IReadOnlyList<LogEntry> TakeStableCommitted()
    {
        var upTo = Math.Min(_commit, _stableIndex);
        if (upTo <= _applied || _outstanding is { ApplyBeforePersist: false })
        {
            return [];
        }

        var entries = new List<LogEntry>((int)Math.Min(upTo - _applied, 1024));
        for (var index = _applied + 1; index <= upTo; index++)
        {
            entries.Add(_log.Get(index));
        }

        _applied = upTo;
        return entries;
    }

    /// <summary>
    /// A leader's appends of entries proposed while a Ready is outstanding, handed out at once so they travel during
    /// that Ready's disk write instead of after it (thesis §10.2.1, as <see cref="Ready.SendBeforePersist"/>). Empty
    /// unless the outstanding Ready may send before persisting and the term and vote are still the durable ones. The
    /// entries are persisted with the next Ready, and the leader counts them toward a majority only once it is advanced.
    /// Once per outstanding Ready: the first proposals of a write leave at once, and what arrives after them waits
    /// for the next Ready and goes in one message, so a stream of single proposals does not become a message each.
    /// </summary>
    public IReadOnlyList<RaftMessage> TakeAppendsBeforePersist()
    {
        if (_outstanding is not { SendBeforePersist: true }
            || _appendsTakenDuringWrite
            || _role is not LeaderState { AppendPending: true }
            || _term != _lastHardState.Term
            || _votedFor != _lastHardState.VotedFor
            || _snapshotToPersist is not null)
        {
            return [];
        }

        // AppendPending stays set: the next Ready's broadcast then sends whatever flow control holds back now.
        _appendsTakenDuringWrite = true;
        var first = _messages.Count;
        BroadcastAppend(sendIfEmpty: false);
        var taken = _messages.GetRange(first, _messages.Count - first);
        _messages.RemoveRange(first, taken.Count);
        return taken;
    }

    /// <summary>The host persisted, sent, applied and served <paramref name="ready"/>.</summary>
    public void Advance(Ready ready)
    {
        if (!ReferenceEquals(ready, _outstanding))
        {
            throw new InvalidOperationException("not the outstanding Ready");
        }

        _outstanding = null;
        if (_truncatedSinceReady == long.MaxValue && ready.ToPersist.Snapshot is { } snapshot)
        {
            _stableIndex = Math.Max(_stableIndex, snapshot.Metadata.Index);
        }

        if (ready.ToPersist.Entries.Count > 0)
        {
            _stableIndex = Math.Min(ready.ToPersist.Entries[^1].Index, _truncatedSinceReady - 1);
        }

        // The leader's own entries count toward a majority only now that they are durable.
        if (_role is LeaderState leader && MaybeCommit())
        {
            OnLeaderCommitted(leader);
        }
    }

    /// <summary>
    /// Moves the logical clock to <paramref name="now"/> and fires what is due: an election (with pre-vote), or a
    /// leader's heartbeats, check-quorum and transfer time-out. Time never goes back; an earlier value is ignored.
    /// </summary>
    public void AdvanceClock(TimeSpan now)
    {
        if (now < _now)
        {
            return;
        }

        _now = now;
        if (_role is LeaderState leader)
        {
            if (_now >= leader.CheckQuorumDeadline)
            {
                leader.CheckQuorumDeadline = _now + _options.ElectionTimeout;
                if (_options.CheckQuorum && !QuorumActive(leader))
                {
                    // Thesis §6.2: a leader cut off from a majority steps down, so clients stop waiting on it.
                    BecomeFollower(_term, null);
                    return;
                }

                foreach (var progress in leader.Peers.Values)
                {
                    progress.RecentActive = false;
                }
            }

            if (leader.Transferee is not null && _now >= leader.TransferDeadline)
            {
                leader.Transferee = null;
            }

            if (_now >= leader.HeartbeatDeadline)
            {
                leader.HeartbeatDeadline = _now + _options.HeartbeatInterval;
                BroadcastHeartbeat(leader);
            }
        }
        else if (_now >= _electionDeadline)
        {
            if (IsVoter(Id))
            {
                Campaign();
            }
            else
            {
                ResetElectionDeadline();
            }
        }
    }

    private bool QuorumActive(LeaderState leader)
    {
        var active = 0;
        foreach (var voter in _config.Voters)
        {
            if (voter == Id || (leader.Peers.TryGetValue(voter, out var progress) && progress.RecentActive))
            {
                active++;
            }
        }

        return active >= Quorum;
    }
}
