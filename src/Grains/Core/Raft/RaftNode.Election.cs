namespace Orleans.Patterns.Raft;

/// <summary>Leader election: Raft §5.2 and §5.4.1, pre-vote (thesis §9.6) and leadership transfer (thesis §3.10).</summary>
public sealed partial class RaftNode
{
    /// <summary>
    /// True while this replica believes a leader is alive: it leads, or heard from the leader less than an election
    /// timeout ago. Pre-votes are always refused then (thesis §9.6); real votes only with check-quorum, which is what
    /// makes ignoring them safe (thesis §4.2.3). With lease reads, also for an election timeout after this replica
    /// started: before a crash it may have answered a heartbeat round that a leader's lease still counts on, and the
    /// restart forgot the leader, not the promise.
    /// </summary>
    private bool InLease(bool preVote)
    {
        if (!preVote && !_options.CheckQuorum)
        {
            return false;
        }

        return _role switch
        {
            LeaderState => true,
            FollowerState { Leader: not null } => _now - _lastLeaderContact < _options.ElectionTimeout,
            _ when _options.LeaseReads => _now - _startedAt < _options.ElectionTimeout,
            _ => false,
        };
    }

    private void HandleRequestVote(RequestVote request)
    {
        bool mayVote = request.PreVote
            ? request.Term > _term || _votedFor == request.From || (_votedFor is null && Leader is null)
            : _votedFor is null || _votedFor == request.From;
        bool grant = mayVote && _log.IsUpToDate(request.LastLogIndex, request.LastLogTerm);
        if (grant && !request.PreVote)
        {
            _votedFor = request.From;

            // Figure 2, Followers: granting a vote restarts the election timer.
            ResetElectionDeadline();
        }

        Send(new RequestVoteResponse(Id, request.From, grant && request.PreVote ? request.Term : _term, grant, request.PreVote));
    }

    private void HandleVoteResponse(RequestVoteResponse response)
    {
        if (_role is not CandidateState candidate || candidate.PreVote != response.PreVote || !IsVoter(response.From))
        {
            return;
        }

        if (candidate.PreVote && response.Granted && response.Term != _term + 1)
        {
            return;
        }

        candidate.Votes[response.From] = response.Granted;
        var granted = candidate.Votes.Values.Count(static v => v);
        var refused = candidate.Votes.Count - granted;
        if (granted >= Quorum)
        {
            if (candidate.PreVote)
            {
                BecomeCandidate(transfer: false);
            }
            else
            {
                BecomeLeader();
            }
        }
        else if (_config.Voters.Count - refused < Quorum)
        {
            BecomeFollower(_term, null);
        }
    }

    private void HandleTimeoutNow()
    {
        // Thesis §3.10: the target starts an election at once, without pre-vote, and voters honour it despite a live leader.
        if (IsVoter(Id))
        {
            BecomeCandidate(transfer: true);
        }
    }

    /// <summary>The election timer fired: ask for pre-votes first when enabled, so a lost election does not raise the term.</summary>
    private void Campaign()
    {
        if (_options.PreVote)
        {
            BecomePreCandidate();
        }
        else
        {
            BecomeCandidate(transfer: false);
        }
    }

    private void BecomeFollower(long term, NodeId? leader)
    {
        if (term > _term)
        {
            _term = term;
            _votedFor = null;
        }

        SetRole(new FollowerState(leader));
        if (leader is not null)
        {
            _lastLeaderContact = _now;
        }

        ResetElectionDeadline();
    }

    private void BecomePreCandidate()
    {
        var candidate = new CandidateState(preVote: true);
        SetRole(candidate);
        ResetElectionDeadline();
        RequestVotes(candidate, _term + 1, transfer: false);
    }

    private void BecomeCandidate(bool transfer)
    {
        _term++;
        _votedFor = Id;
        var candidate = new CandidateState(preVote: false);
        SetRole(candidate);
        ResetElectionDeadline();
        RequestVotes(candidate, _term, transfer);
    }

    private void RequestVotes(CandidateState candidate, long term, bool transfer)
    {
        candidate.Votes[Id] = true;
        if (candidate.Votes.Count >= Quorum)
        {
            if (candidate.PreVote)
            {
                BecomeCandidate(transfer);
            }
            else
            {
                BecomeLeader();
            }

            return;
        }

        foreach (var voter in _config.Voters)
        {
            if (voter != Id)
            {
                Send(new RequestVote(Id, voter, term, _log.LastIndex, _log.LastTerm, candidate.PreVote, transfer));
            }
        }
    }

    private void BecomeLeader()
    {
        var leader = new LeaderState
        {
            HeartbeatDeadline = _now + _options.HeartbeatInterval,
            CheckQuorumDeadline = _now + _options.ElectionTimeout,
        };
        SetRole(leader);
        foreach (var node in _config.Voters.Union(_config.Learners))
        {
            if (node != Id)
            {
                leader.Peers[node] = new Progress(_log.LastIndex + 1, _options.MaxInflightMessages);
            }
        }

        // Raft §5.4.2 and §8: a leader commits entries of earlier terms only by committing one of its own term.
        // Until then it also refuses configuration changes (thesis §4.1, the fix posted to raft-dev in 2015).
        AppendEntry(EntryKind.NoOp, ReadOnlyMemory<byte>.Empty);
        leader.TermStartIndex = _log.LastIndex;
        leader.PendingConfigIndex = _log.LastIndex;
        BroadcastAppend(sendIfEmpty: true);
    }

    /// <summary>Replaces the role; a leader that leaves office reports its unanswered reads as dropped.</summary>
    private void SetRole(RoleState next)
    {
        if (_role is LeaderState leader)
        {
            _droppedReads.AddRange(leader.ReadsAwaitingTermCommit);
            _droppedReads.AddRange(leader.ReadsAwaitingRound.Select(static r => r.RequestId));
            _droppedReads.AddRange(leader.PendingReads.Select(static r => r.RequestId));
        }

        _role = next;
    }

    private void ResetElectionDeadline()
    {
        // Raft §5.2: randomized in [T, 2T) so that split votes are rare.
        var timeout = _options.ElectionTimeout.Ticks;
        _electionDeadline = _now + TimeSpan.FromTicks(timeout + _random.NextInt64(timeout));
    }
}
