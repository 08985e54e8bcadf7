namespace Orleans.Patterns.Raft;

/// <summary>How a leader currently replicates to one follower.</summary>
internal enum ProgressState
{
    /// <summary>The follower's log position is unknown: one AppendEntries at a time until one is accepted.</summary>
    Probe,

    /// <summary>The follower is in step: AppendEntries are pipelined, up to the inflight window.</summary>
    Replicate,

    /// <summary>A snapshot is on its way; nothing else is sent until it is acknowledged.</summary>
    Snapshot,
}

/// <summary>
/// A leader's view of one follower (Raft Figure 2's nextIndex and matchIndex) plus flow control: the number of
/// unacknowledged AppendEntries is bounded, so a slow follower costs the leader a bounded amount of buffering.
/// </summary>
internal sealed class Progress(long next, int maxInflight)
{
    private readonly Queue<long> _inflight = new();

    public long Match { get; private set; }

    public long Next { get; private set; } = next;

    public ProgressState State { get; private set; } = ProgressState.Probe;

    /// <summary>In probe state: an AppendEntries is outstanding; cleared by any answer or a heartbeat answer.</summary>
    public bool ProbeSent { get; set; }

    public long PendingSnapshot { get; private set; }

    public TimeSpan SnapshotSentAt { get; private set; }

    /// <summary>Heard from since the last check-quorum round (thesis §6.2).</summary>
    public bool RecentActive { get; set; } = true;

    /// <summary>The highest heartbeat round the follower answered (thesis §6.4).</summary>
    public long AckedRound { get; set; }

    public int InflightCount => _inflight.Count;

    /// <summary>No later than when the oldest unacknowledged AppendEntries was sent (reset by every acknowledgement).</summary>
    public TimeSpan WaitingSince { get; private set; }

    public bool IsPaused => State switch
    {
        ProgressState.Probe => ProbeSent,
        ProgressState.Replicate => _inflight.Count >= maxInflight,
        _ => true,
    };

    /// <summary>Records an acknowledged match; false when the answer is stale.</summary>
    public bool TryAdvanceMatch(long match, TimeSpan now)
    {
        ProbeSent = false;
        if (match <= Match)
        {
            return false;
        }

        WaitingSince = now;

        Match = match;
        Next = Math.Max(Next, match + 1);
        while (_inflight.TryPeek(out var last) && last <= match)
        {
            _inflight.Dequeue();
        }

        return true;
    }

    /// <summary>
    /// Moves <see cref="Next"/> back after a rejection of <paramref name="rejectedIndex"/>; false when the rejection
    /// answers an older message than the one this state is waiting for.
    /// </summary>
    public bool TryBackOff(long rejectedIndex, long hint)
    {
        if (State == ProgressState.Replicate)
        {
            if (rejectedIndex <= Match)
            {
                return false;
            }

            BecomeProbe();
        }
        else if (rejectedIndex != Next - 1)
        {
            return false;
        }

        Next = Math.Clamp(hint, Match + 1, Math.Max(Match + 1, rejectedIndex));
        ProbeSent = false;
        return true;
    }

    public void OnAppendSent(long lastIndex, int count, TimeSpan now)
    {
        if (State == ProgressState.Replicate)
        {
            if (count > 0)
            {
                if (_inflight.Count == 0)
                {
                    WaitingSince = now;
                }

                Next = lastIndex + 1;
                _inflight.Enqueue(lastIndex);
            }
        }
        else
        {
            ProbeSent = true;
        }
    }

    public void BecomeProbe()
    {
        Next = State == ProgressState.Snapshot ? Math.Max(Match + 1, PendingSnapshot + 1) : Match + 1;
        State = ProgressState.Probe;
        ProbeSent = false;
        PendingSnapshot = 0;
        _inflight.Clear();
    }

    public void BecomeReplicate()
    {
        State = ProgressState.Replicate;
        Next = Match + 1;
        _inflight.Clear();
    }

    public void BecomeSnapshot(long index, TimeSpan now)
    {
        State = ProgressState.Snapshot;
        PendingSnapshot = index;
        SnapshotSentAt = now;
        _inflight.Clear();
    }
}
