namespace Orleans.Patterns.Raft;

/// <summary>Log replication (Raft §5.3), the commit rule (§5.4.2), fast backtracking and flow control.</summary>
public sealed partial class RaftNode
{
    /// <summary>
    /// Appends a command if this replica leads; it is committed once a majority stored it. The proposal succeeded when
    /// <see cref="Ready.CommittedEntries"/> brings an entry at the returned index with the returned term; an entry of
    /// another term at that index means it was lost in a change of leader and may be proposed again.
    /// </summary>
    public RequestOutcome Propose(ReadOnlyMemory<byte> command)
    {
        if (_role is not LeaderState leader)
        {
            return new RequestOutcome.NotLeader(Leader);
        }

        if (leader.Transferee is { } transferee)
        {
            // Thesis §3.10: the leader stops taking requests while it hands leadership over.
            return new RequestOutcome.Transferring(transferee);
        }

        var entry = AppendEntry(EntryKind.Command, command);
        leader.AppendPending = true;
        return new RequestOutcome.Accepted(entry.Index, entry.Term);
    }

    private LogEntry AppendEntry(EntryKind kind, ReadOnlyMemory<byte> data)
    {
        var entry = new LogEntry(_log.LastIndex + 1, _term, kind, data);
        _log.Append(entry);
        if (kind == EntryKind.Configuration)
        {
            SetConfig(ClusterConfig.Decode(data.Span), entry.Index);
        }

        return entry;
    }

    /// <summary>
    /// Sends what proposals and commits since the last Ready call for, once per Ready: everything proposed while the
    /// host was persisting travels together, and many acknowledgements cost one commit update per follower.
    /// </summary>
    private void FlushAppends()
    {
        if (_role is LeaderState { AppendPending: true } or LeaderState { CommitPending: true })
        {
            var leader = (LeaderState)_role;
            BroadcastAppend(sendIfEmpty: leader.CommitPending);
            leader.AppendPending = false;
            leader.CommitPending = false;
        }
    }

    private void BroadcastAppend(bool sendIfEmpty)
    {
        if (_role is not LeaderState leader)
        {
            return;
        }

        foreach (var (peer, progress) in leader.Peers)
        {
            // A follower in step gets as many batches as its window allows (pipelining); a probed one gets one.
            if (SendAppend(peer, progress, sendIfEmpty))
            {
                while (progress.State == ProgressState.Replicate && SendAppend(peer, progress, sendIfEmpty: false))
                {
                }
            }
        }
    }

    /// <summary>Sends the next batch to one follower if its flow-control state allows; true when something was sent.</summary>
    private bool SendAppend(NodeId peer, Progress progress, bool sendIfEmpty)
    {
        if (progress.IsPaused)
        {
            return false;
        }

        var prevIndex = progress.Next - 1;
        if (_log.TermAt(prevIndex) is not { } prevTerm)
        {
            return SendSnapshot(peer, progress);
        }

        IReadOnlyList<LogEntry> entries = progress.Next <= _log.LastIndex
            ? _log.Slice(progress.Next, _log.LastIndex, _options.MaxEntriesPerMessage, _options.MaxBytesPerMessage)
            : [];
        if (entries.Count == 0 && !sendIfEmpty)
        {
            return false;
        }

        Send(new AppendEntries(Id, peer, _term, prevIndex, prevTerm, entries, _commit));
        progress.OnAppendSent(prevIndex + entries.Count, entries.Count, _now);
        return true;
    }

    private void HandleAppendEntries(AppendEntries append)
    {
        FollowLeader(append.From);
        if (append.PrevLogIndex < _commit)
        {
            // Everything up to our commit index is committed and so matches the leader (Log Matching, §5.3).
            Send(new AppendEntriesResponse(Id, append.From, _term, true, _commit, 0, 0, 0));
            return;
        }

        if (!_log.Matches(append.PrevLogIndex, append.PrevLogTerm))
        {
            // Figure 2, AppendEntries step 2, with the hint of §5.3: the conflicting term and where it starts here.
            var (conflictTerm, conflictIndex) = append.PrevLogIndex > _log.LastIndex
                ? (0L, _log.LastIndex + 1)
                : (_log.TermAt(append.PrevLogIndex)!.Value, _log.FirstIndexOfTermAt(append.PrevLogIndex));
            Send(new AppendEntriesResponse(Id, append.From, _term, false, 0, append.PrevLogIndex, conflictTerm, conflictIndex));
            return;
        }

        var configTouched = false;
        foreach (var entry in append.Entries)
        {
            if (entry.Index <= _log.LastIndex)
            {
                if (_log.TermAt(entry.Index) == entry.Term)
                {
                    continue;
                }

                // Figure 2, step 3: delete a conflicting entry and all that follow, never entries that agree.
                if (entry.Index <= _commit)
                {
                    throw new InvalidOperationException($"leader {append.From} conflicts with committed entry {entry.Index}");
                }

                configTouched |= entry.Index <= _configIndex;
                TruncateLog(entry.Index);
            }

            _log.Append(entry);
            configTouched |= entry.Kind == EntryKind.Configuration;
        }

        if (configTouched)
        {
            RefreshConfig();
        }

        var lastNew = append.PrevLogIndex + append.Entries.Count;

        // Figure 2, step 5: commit up to the leader's commit, but only within what this message proved to match.
        _commit = Math.Max(_commit, Math.Min(append.LeaderCommit, lastNew));
        Send(new AppendEntriesResponse(Id, append.From, _term, true, lastNew, 0, 0, 0));
    }

    private void TruncateLog(long index)
    {
        _log.TruncateFrom(index);
        _stableIndex = Math.Min(_stableIndex, index - 1);
        _truncatedSinceReady = Math.Min(_truncatedSinceReady, index);
    }

    private void FollowLeader(NodeId leader)
    {
        if (_role is FollowerState follower && follower.Leader == leader)
        {
            _lastLeaderContact = _now;
            ResetElectionDeadline();
        }
        else
        {
            // A candidate (or a follower yet to learn the leader) that hears from this term's leader follows it (§5.2).
            BecomeFollower(_term, leader);
        }
    }

    private void HandleAppendResponse(AppendEntriesResponse response)
    {
        if (_role is not LeaderState leader || !leader.Peers.TryGetValue(response.From, out var progress))
        {
            return;
        }

        progress.RecentActive = true;
        if (!response.Success)
        {
            // Skip the follower's whole conflicting term: to our last entry of that term if we have one,
            // otherwise to where the follower's run of that term starts (§5.3; thesis §3.5).
            var hint = response.ConflictIndex;
            if (response.ConflictTerm > 0 && _log.LastIndexOfTerm(response.ConflictTerm) is > 0 and var ours)
            {
                hint = ours + 1;
            }

            if (progress.TryBackOff(response.RejectedIndex, hint))
            {
                SendAppend(response.From, progress, sendIfEmpty: true);
            }

            return;
        }

        if (progress.TryAdvanceMatch(response.MatchIndex, _now))
        {
            if (progress.State == ProgressState.Probe)
            {
                progress.BecomeReplicate();
            }

            if (MaybeCommit())
            {
                OnLeaderCommitted(leader);
                if (_role != leader)
                {
                    // Removed from the configuration and stepped down: send nothing more as leader.
                    return;
                }
            }

            if (leader.Transferee == response.From && progress.Match == _log.LastIndex)
            {
                Send(new TimeoutNow(Id, response.From, _term));
            }
        }

        // Pipelining: keep the window full while there is more to send.
        while (SendAppend(response.From, progress, sendIfEmpty: false))
        {
        }
    }

    /// <summary>
    /// Raft §5.4.2 (Figure 8): the commit index moves to what a majority of voters stored, but only onto an entry of
    /// the current term; earlier entries commit with it. The leader counts itself only for entries it made durable.
    /// </summary>
    private bool MaybeCommit()
    {
        if (_role is not LeaderState leader)
        {
            return false;
        }

        var matches = new List<long>(_config.Voters.Count);
        foreach (var voter in _config.Voters)
        {
            matches.Add(voter == Id ? _stableIndex : leader.Peers.TryGetValue(voter, out var p) ? p.Match : 0);
        }

        matches.Sort(static (a, b) => b.CompareTo(a));
        var candidate = matches[Quorum - 1];
        if (candidate <= _commit || _log.TermAt(candidate) != _term)
        {
            return false;
        }

        _commit = candidate;
        return true;
    }

    private void OnLeaderCommitted(LeaderState leader)
    {
        leader.CommitPending = true;
        if (_commit >= leader.TermStartIndex && leader.ReadsAwaitingTermCommit.Count > 0)
        {
            foreach (var requestId in leader.ReadsAwaitingTermCommit)
            {
                StartRead(leader, requestId);
            }

            leader.ReadsAwaitingTermCommit.Clear();
        }

        // Thesis §4.2.2: a leader removed from the configuration steps down once the change is committed. It hands
        // over to an up-to-date voter (thesis §3.10) so the cluster need not wait for an election timeout.
        if (_configIndex <= _commit && !IsVoter(Id))
        {
            var successor = leader.Peers
                .Where(p => IsVoter(p.Key) && p.Value.Match == _log.LastIndex)
                .Select(static p => (NodeId?)p.Key)
                .FirstOrDefault();
            BroadcastAppend(sendIfEmpty: true);
            if (successor is { } target)
            {
                Send(new TimeoutNow(Id, target, _term));
            }

            BecomeFollower(_term, null);
        }
    }

    private void HandleHeartbeat(Heartbeat heartbeat)
    {
        FollowLeader(heartbeat.From);

        // The leader sends at most what it knows we hold, so this needs no consistency check.
        _commit = Math.Max(_commit, Math.Min(heartbeat.Commit, _log.LastIndex));
        Send(new HeartbeatResponse(Id, heartbeat.From, _term, heartbeat.Round));
    }

    private void HandleHeartbeatResponse(HeartbeatResponse response)
    {
        if (_role is not LeaderState leader || !leader.Peers.TryGetValue(response.From, out var progress))
        {
            return;
        }

        progress.RecentActive = true;
        progress.AckedRound = Math.Max(progress.AckedRound, response.Round);
        if (progress.State == ProgressState.Snapshot && _now - progress.SnapshotSentAt >= _options.ElectionTimeout)
        {
            // The snapshot or its answer was probably lost; try again from probing.
            progress.BecomeProbe();
        }

        // A heartbeat sent well after the oldest unacknowledged AppendEntries came back first: that AppendEntries (or
        // its answer) is lost, and nothing would ever free the window or resend the tail, so probe from the last
        // acknowledged index. Judged by send order rather than a timeout, so a slow but working follower keeps its window.
        if (progress.State == ProgressState.Replicate
            && progress.InflightCount > 0
            && leader.RoundSentAt.TryGetValue(response.Round, out var heartbeatSentAt)
            && heartbeatSentAt - progress.WaitingSince >= _options.HeartbeatInterval)
        {
            progress.BecomeProbe();
        }

        // A heartbeat answer unblocks a probe whose message may have been lost.
        progress.ProbeSent = false;
        if (progress.Match < _log.LastIndex)
        {
            SendAppend(response.From, progress, sendIfEmpty: false);
        }

        ReleaseReads(leader);
    }

    private void BroadcastHeartbeat(LeaderState leader)
    {
        var round = ++leader.Round;
        leader.RoundSentAt[round] = _now;
        AssignReadsToRound(leader, round);
        foreach (var (peer, progress) in leader.Peers)
        {
            Send(new Heartbeat(Id, peer, _term, Math.Min(progress.Match, _commit), round));
        }

        ReleaseReads(leader);
    }
}
