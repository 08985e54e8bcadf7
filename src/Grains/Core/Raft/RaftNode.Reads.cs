namespace Orleans.Patterns.Raft;

/// <summary>Linearizable reads without writing to the log: ReadIndex (thesis §6.4) and leases (thesis §6.4.1).</summary>
public sealed partial class RaftNode
{
    private const int MaxRoundHistory = 128;

    /// <summary>
    /// Asks for a linearizable read. When leadership is confirmed a <see cref="ReadState"/> with
    /// <paramref name="requestId"/> comes in a <see cref="Ready"/>; the read may be served once the state machine has
    /// applied its index. If this replica loses leadership first, the request comes back in <see cref="Ready.DroppedReads"/>.
    /// </summary>
    public RequestOutcome ReadIndex(long requestId)
    {
        if (_role is not LeaderState leader)
        {
            return new RequestOutcome.NotLeader(Leader);
        }

        if (_commit < leader.TermStartIndex)
        {
            // Step 1 of §6.4: until an entry of its own term commits, the leader does not know the commit index.
            leader.ReadsAwaitingTermCommit.Add(requestId);
            return new RequestOutcome.Accepted(leader.TermStartIndex, _term);
        }

        StartRead(leader, requestId);
        return new RequestOutcome.Accepted(_commit, _term);
    }

    /// <summary>
    /// On a leader serving reads from its lease: how much of the lease is left at the core's clock (zero once it lapsed,
    /// until the next answered round). Null on a follower, without lease reads, or once a transfer forfeited the lease.
    /// </summary>
    public TimeSpan? LeaseRemaining =>
        _options.LeaseReads && _role is LeaderState { LeaseForfeited: false } leader ? LeaseLeft(leader) : null;

    private void StartRead(LeaderState leader, long requestId)
    {
        if (LeaseRemaining > TimeSpan.Zero)
        {
            _readStates.Add(new ReadState(requestId, _commit));
            return;
        }

        // Steps 2–3 of §6.4: remember the commit index now, prove leadership with the next heartbeat round. That round
        // goes out with the next Ready, so the reads that arrive while the host is busy share one round.
        leader.ReadsAwaitingRound.Add(new PendingRead(requestId, _commit, 0));
    }

    private void AssignReadsToRound(LeaderState leader, long round)
    {
        foreach (var read in leader.ReadsAwaitingRound)
        {
            leader.PendingReads.Add(read with { Round = round });
        }

        leader.ReadsAwaitingRound.Clear();
    }

    /// <summary>Hands out the reads whose heartbeat round a majority of voters answered.</summary>
    private void ReleaseReads(LeaderState leader)
    {
        var acked = QuorumAckedRound(leader);
        if (leader.PendingReads.Count > 0)
        {
            var released = 0;
            foreach (var read in leader.PendingReads)
            {
                if (read.Round > acked)
                {
                    break;
                }

                _readStates.Add(new ReadState(read.RequestId, read.Index));
                released++;
            }

            leader.PendingReads.RemoveRange(0, released);
        }

        // Send times serve leases and the loss detection of HandleHeartbeatResponse; a bounded history is enough.
        while (leader.RoundSentAt.Count > MaxRoundHistory)
        {
            leader.RoundSentAt.Remove(leader.RoundSentAt.First().Key);
        }
    }

    private long QuorumAckedRound(LeaderState leader)
    {
        var rounds = new List<long>(_config.Voters.Count);
        foreach (var voter in _config.Voters)
        {
            rounds.Add(voter == Id ? leader.Round : leader.Peers.TryGetValue(voter, out var p) ? p.AckedRound : 0);
        }

        rounds.Sort(static (a, b) => b.CompareTo(a));
        return rounds[Quorum - 1];
    }

    /// <summary>
    /// What is left of the lease (zero: none). The lease runs from when the round a majority answered was sent: those voters will not elect anyone else for an
    /// election timeout after that (check-quorum and §4.2.3), and the lease is shorter by a drift margin. The host must
    /// keep the clock current where it matters (<see cref="AdvanceClock"/> before a read and before a message): a
    /// leader's clock that lags lets it trust an expired lease, and a follower's that lags records the leader's contact
    /// too early, which ends its promise sooner than the leader counts on.
    /// </summary>
    private TimeSpan LeaseLeft(LeaderState leader)
    {
        var acked = QuorumAckedRound(leader);
        return acked > 0 && leader.RoundSentAt.TryGetValue(acked, out var sentAt) && _now < sentAt + _options.LeaseDuration
            ? sentAt + _options.LeaseDuration - _now
            : TimeSpan.Zero;
    }
}
