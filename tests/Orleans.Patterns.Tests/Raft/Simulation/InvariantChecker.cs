using Orleans.Patterns.Raft;

namespace Orleans.Patterns.Tests.Raft.Simulation;

/// <summary>Raft's safety properties (Raft Figure 3), checked as the simulation runs.</summary>
internal sealed class InvariantChecker
{
    private readonly Dictionary<long, NodeId> _leaderOfTerm = [];
    private readonly Dictionary<(long Index, long Term), (string Content, long PrevTerm)> _entries = [];
    private readonly Dictionary<long, (long Term, string Content)> _committed = [];

    public long HighestCommitted { get; private set; }

    public IReadOnlyDictionary<long, (long Term, string Content)> Committed => _committed;

    /// <summary>Election Safety: at most one leader per term. Leader Completeness: the new leader holds every committed entry.</summary>
    public void OnLeader(NodeId node, long term, RaftNode raft)
    {
        if (_leaderOfTerm.TryGetValue(term, out var other) && other != node)
        {
            throw new InvariantViolation($"two leaders in term {term}: {other} and {node}");
        }

        _leaderOfTerm[term] = node;
        foreach (var (index, (committedTerm, _)) in _committed)
        {
            if (index >= raft.FirstIndex && raft.TermAt(index) != committedTerm)
            {
                throw new InvariantViolation($"leader {node} of term {term} lacks committed entry {index} (term {committedTerm})");
            }
        }
    }

    /// <summary>Log Matching: two entries with the same index and term have the same content and the same predecessor term.</summary>
    public void OnPersisted(NodeId node, SimStorage storage, IReadOnlyList<LogEntry> entries)
    {
        foreach (var entry in entries)
        {
            var content = Content(entry);
            var prevTerm = storage.TermAt(entry.Index - 1) ?? -1;
            if (_entries.TryGetValue((entry.Index, entry.Term), out var seen))
            {
                if (seen.Content != content || (prevTerm >= 0 && seen.PrevTerm >= 0 && seen.PrevTerm != prevTerm))
                {
                    throw new InvariantViolation($"log matching broken on {node} at {entry.Index}/{entry.Term}");
                }
            }
            else
            {
                _entries[(entry.Index, entry.Term)] = (content, prevTerm);
            }
        }
    }

    /// <summary>State Machine Safety: no two replicas apply different entries at one index.</summary>
    public void OnApplied(NodeId node, LogEntry entry)
    {
        var content = Content(entry);
        if (_committed.TryGetValue(entry.Index, out var seen))
        {
            if (seen.Term != entry.Term || seen.Content != content)
            {
                throw new InvariantViolation($"{node} applied {content}/{entry.Term} at {entry.Index}, another replica applied {seen.Content}/{seen.Term}");
            }
        }
        else
        {
            _committed[entry.Index] = (entry.Term, content);
            HighestCommitted = Math.Max(HighestCommitted, entry.Index);
        }
    }

    /// <summary>No committed entry is lost: a majority of voters still hold it on disk (or a snapshot covering it).</summary>
    public void CheckDurable(IReadOnlyCollection<NodeId> voters, Func<NodeId, SimStorage> storageOf, long window)
    {
        for (var index = Math.Max(1, HighestCommitted - window); index <= HighestCommitted; index++)
        {
            if (!_committed.TryGetValue(index, out var committed))
            {
                continue;
            }

            var holders = voters.Count(v => storageOf(v) is var s && (s.SnapshotIndex >= index || s.TermAt(index) == committed.Term));
            if (holders < (voters.Count / 2) + 1)
            {
                throw new InvariantViolation($"committed entry {index} is on the disks of only {holders} of {voters.Count} voters");
            }
        }
    }

    private static string Content(LogEntry entry) => $"{entry.Kind}:{Convert.ToHexString(entry.Data.Span)}";
}

internal sealed class InvariantViolation(string message) : Exception(message);
