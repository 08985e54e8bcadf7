using Orleans.Patterns.Telemetry;

namespace Orleans.Patterns.Raft;

/// <summary>
/// One replica's write-path stage timings: each is recorded to its <c>orleans_patterns.raft.*</c> histogram and kept,
/// the most recent <c>window</c> of each stage in the replica's current role, for <see cref="IRaftReplicaGrain.GetWritePathLatency"/>. The log's
/// writer thread records syncs while the replica's turns record the rest, so every window takes a lock.
/// </summary>
internal sealed class RaftWritePathTimings(string replica, PatternsMetrics metrics, int window = 1024)
{
    private readonly LatencyWindow _commit = new(window);
    private readonly LatencyWindow _persist = new(window);
    private readonly LatencyWindow _append = new(window);
    private readonly LatencyWindow _logSync = new(window);
    private readonly Dictionary<string, LatencyWindow> _replication = new(StringComparer.Ordinal);

    public void Committed(TimeSpan elapsed)
    {
        metrics.RaftCommitted(replica, elapsed);
        _commit.Add(elapsed);
    }

    public void Persisted(TimeSpan elapsed)
    {
        metrics.RaftPersisted(replica, elapsed);
        _persist.Add(elapsed);
    }

    public void Appended(TimeSpan elapsed)
    {
        metrics.RaftAppended(replica, elapsed);
        _append.Add(elapsed);
    }

    public void LogSynced(TimeSpan elapsed)
    {
        metrics.RaftLogSynced(replica, elapsed);
        _logSync.Add(elapsed);
    }

    public void Replicated(string peer, TimeSpan elapsed)
    {
        metrics.RaftReplicated(replica, peer, elapsed);
        LatencyWindow peerWindow;
        lock (_replication)
        {
            if (!_replication.TryGetValue(peer, out peerWindow!))
            {
                _replication[peer] = peerWindow = new LatencyWindow(window);
            }
        }

        peerWindow.Add(elapsed);
    }

    /// <summary>
    /// The replica took another role: the role's own stages start afresh (a new leader has no commits yet, and a
    /// former leader's commits say nothing of it as a follower). Persist and log sync belong to every role and stay.
    /// </summary>
    public void RoleChanged()
    {
        _commit.Clear();
        _append.Clear();
        lock (_replication)
        {
            _replication.Clear();
        }
    }

    /// <summary>The stages this replica has timings of, in the order a write meets them.</summary>
    public IReadOnlyList<RaftStageLatency> Snapshot()
    {
        var stages = new List<RaftStageLatency>();
        Add(stages, RaftWritePathStages.Commit, null, _commit);
        KeyValuePair<string, LatencyWindow>[] peers;
        lock (_replication)
        {
            peers = [.. _replication.OrderBy(p => p.Key, StringComparer.Ordinal)];
        }

        foreach (var (peer, peerWindow) in peers)
        {
            Add(stages, RaftWritePathStages.Replication, peer, peerWindow);
        }

        Add(stages, RaftWritePathStages.Append, null, _append);
        Add(stages, RaftWritePathStages.Persist, null, _persist);
        Add(stages, RaftWritePathStages.LogSync, null, _logSync);
        return stages;
    }

    private static void Add(List<RaftStageLatency> stages, string stage, string? peer, LatencyWindow window)
    {
        if (window.Summarize() is { } summary)
        {
            stages.Add(new RaftStageLatency(stage, peer, summary.Samples, summary.P50, summary.P90, summary.P99, summary.Max));
        }
    }
}

/// <summary>The most recent durations of one stage (a ring of fixed size), summarized on demand.</summary>
internal sealed class LatencyWindow(int capacity)
{
    private readonly double[] _milliseconds = new double[capacity];
    private long _added;

    public void Add(TimeSpan elapsed)
    {
        lock (_milliseconds)
        {
            _milliseconds[_added++ % _milliseconds.Length] = elapsed.TotalMilliseconds;
        }
    }

    public void Clear()
    {
        lock (_milliseconds)
        {
            _added = 0;
        }
    }

    /// <summary>Nearest-rank percentiles of the kept durations, in milliseconds; null when there are none.</summary>
    public (int Samples, double P50, double P90, double P99, double Max)? Summarize()
    {
        double[] sorted;
        lock (_milliseconds)
        {
            sorted = _milliseconds[..(int)Math.Min(_added, _milliseconds.Length)];
        }

        if (sorted.Length == 0)
        {
            return null;
        }

        Array.Sort(sorted);
        return (sorted.Length, Rank(sorted, 0.50), Rank(sorted, 0.90), Rank(sorted, 0.99), sorted[^1]);
    }

    private static double Rank(double[] sorted, double quantile) =>
        sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Length) - 1, 0, sorted.Length - 1)];
}
