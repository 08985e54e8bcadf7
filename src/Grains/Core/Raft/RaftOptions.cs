namespace Orleans.Patterns.Raft;

/// <summary>Tuning of one Raft replica. All replicas of a group should use the same values.</summary>
public sealed record RaftOptions
{
    /// <summary>
    /// The base election timeout T; followers wait a random time in [T, 2T) (Raft §5.2). 150 ms keeps a failover
    /// (detect in [T, 2T), then one pre-vote and one vote round trip) under about 300 ms at the median on a LAN.
    /// </summary>
    public TimeSpan ElectionTimeout { get; init; } = TimeSpan.FromMilliseconds(150);

    /// <summary>How often a leader sends heartbeats; well below <see cref="ElectionTimeout"/> (Raft §5.6).</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromMilliseconds(40);

    /// <summary>Ask for pre-votes before raising the term, so a partitioned node cannot disrupt the cluster on rejoin (thesis §9.6).</summary>
    public bool PreVote { get; init; } = true;

    /// <summary>A leader that has not heard from a majority within an election timeout steps down (thesis §6.2).</summary>
    public bool CheckQuorum { get; init; } = true;

    /// <summary>Serve reads from a leader lease instead of a heartbeat round (thesis §6.4.1); requires <see cref="CheckQuorum"/>.</summary>
    public bool LeaseReads { get; init; }

    /// <summary>
    /// How long a lease lasts after the heartbeat round a majority acknowledged was sent. Shorter than
    /// <see cref="ElectionTimeout"/> by a margin for clock drift (thesis §6.4.1).
    /// </summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromMilliseconds(120);

    /// <summary>At most this many entries in one AppendEntries.</summary>
    public int MaxEntriesPerMessage { get; init; } = 64;

    /// <summary>At most this many payload bytes in one AppendEntries (a single larger entry is still sent alone).</summary>
    public int MaxBytesPerMessage { get; init; } = 1 << 20;

    /// <summary>At most this many unacknowledged AppendEntries per follower, so a slow follower bounds what the leader buffers.</summary>
    public int MaxInflightMessages { get; init; } = 16;

    /// <summary>Throws naming the first option that is out of range.</summary>
    public void Validate()
    {
        if (ElectionTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ElectionTimeout), ElectionTimeout, "must be positive");
        }

        if (HeartbeatInterval <= TimeSpan.Zero || HeartbeatInterval >= ElectionTimeout)
        {
            throw new ArgumentOutOfRangeException(nameof(HeartbeatInterval), HeartbeatInterval, "must be positive and below ElectionTimeout");
        }

        if (LeaseReads && !CheckQuorum)
        {
            throw new ArgumentException("LeaseReads requires CheckQuorum, or a deposed leader could serve stale reads", nameof(LeaseReads));
        }

        if (LeaseReads && (LeaseDuration <= TimeSpan.Zero || LeaseDuration >= ElectionTimeout))
        {
            throw new ArgumentOutOfRangeException(nameof(LeaseDuration), LeaseDuration, "must be positive and below ElectionTimeout");
        }

        if (MaxEntriesPerMessage < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxEntriesPerMessage), MaxEntriesPerMessage, "must be at least 1");
        }

        if (MaxBytesPerMessage < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxBytesPerMessage), MaxBytesPerMessage, "must be at least 1");
        }

        if (MaxInflightMessages < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxInflightMessages), MaxInflightMessages, "must be at least 1");
        }
    }
}
