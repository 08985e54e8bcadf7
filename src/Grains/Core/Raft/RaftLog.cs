namespace Orleans.Patterns.Raft;

/// <summary>
/// A replica's log in memory: the entries after the latest snapshot, plus the index from which entries have not yet
/// been handed to the host for persisting. Index 0 with term 0 is the empty prefix every log shares.
/// </summary>
internal sealed class RaftLog
{
    private readonly List<LogEntry> _entries = [];
    private long _snapshotIndex;
    private long _snapshotTerm;
    private long _unstableFrom;

    public RaftLog(SnapshotMetadata? snapshot, IReadOnlyList<LogEntry> entries)
    {
        _snapshotIndex = snapshot?.Index ?? 0;
        _snapshotTerm = snapshot?.Term ?? 0;
        foreach (var entry in entries)
        {
            if (entry.Index <= _snapshotIndex)
            {
                continue;
            }

            if (entry.Index != LastIndex + 1)
            {
                throw new InvalidOperationException($"recovered log has a gap before index {entry.Index}");
            }

            _entries.Add(entry);
        }

        _unstableFrom = LastIndex + 1;
    }

    public long SnapshotIndex => _snapshotIndex;

    public long SnapshotTerm => _snapshotTerm;

    public long FirstIndex => _snapshotIndex + 1;

    public long LastIndex => _snapshotIndex + _entries.Count;

    public long LastTerm => _entries.Count == 0 ? _snapshotTerm : _entries[^1].Term;

    public bool HasUnstable => _unstableFrom <= LastIndex;

    /// <summary>The term at <paramref name="index"/>, or null when it was compacted away or is beyond the end.</summary>
    public long? TermAt(long index)
    {
        if (index == _snapshotIndex)
        {
            return _snapshotTerm;
        }

        if (index < _snapshotIndex || index > LastIndex)
        {
            return null;
        }

        return _entries[(int)(index - FirstIndex)].Term;
    }

    public bool Matches(long index, long term) => TermAt(index) == term;

    public LogEntry Get(long index) => _entries[(int)(index - FirstIndex)];

    /// <summary>Raft §5.4.1: a log is at least as up to date if its last term is higher, or equal with an index as high.</summary>
    public bool IsUpToDate(long lastIndex, long lastTerm) =>
        lastTerm > LastTerm || (lastTerm == LastTerm && lastIndex >= LastIndex);

    /// <summary>Entries from <paramref name="from"/> to <paramref name="to"/>, cut at the count and byte limits (at least one entry).</summary>
    public IReadOnlyList<LogEntry> Slice(long from, long to, int maxCount, long maxBytes)
    {
        var result = new List<LogEntry>();
        long bytes = 0;
        for (var index = from; index <= to && result.Count < maxCount; index++)
        {
            var entry = Get(index);
            bytes += entry.Data.Length;
            if (result.Count > 0 && bytes > maxBytes)
            {
                break;
            }

            result.Add(entry);
        }

        return result;
    }

    public void Append(LogEntry entry)
    {
        if (entry.Index != LastIndex + 1)
        {
            throw new InvalidOperationException($"append at {entry.Index} after last index {LastIndex}");
        }

        _entries.Add(entry);
    }

    /// <summary>Drops <paramref name="index"/> and everything after it; the host rewrites from there (Raft Figure 2, AppendEntries step 3).</summary>
    public void TruncateFrom(long index)
    {
        if (index <= _snapshotIndex)
        {
            throw new InvalidOperationException($"cannot truncate at {index}, inside the snapshot ending at {_snapshotIndex}");
        }

        if (index > LastIndex)
        {
            return;
        }

        _entries.RemoveRange((int)(index - FirstIndex), (int)(LastIndex - index + 1));
        _unstableFrom = Math.Min(_unstableFrom, index);
    }

    /// <summary>The last index holding <paramref name="term"/>, or 0 when the log has no entry of that term.</summary>
    public long LastIndexOfTerm(long term)
    {
        for (var index = LastIndex; index >= FirstIndex; index--)
        {
            var t = Get(index).Term;
            if (t == term)
            {
                return index;
            }

            if (t < term)
            {
                break;
            }
        }

        return term == _snapshotTerm ? _snapshotIndex : 0;
    }

    /// <summary>The first retained index whose term equals the term at <paramref name="index"/>.</summary>
    public long FirstIndexOfTermAt(long index)
    {
        var term = Get(index).Term;
        var first = index;
        while (first > FirstIndex && Get(first - 1).Term == term)
        {
            first--;
        }

        return first;
    }

    /// <summary>Hands the entries not yet given to the host over for persisting.</summary>
    public IReadOnlyList<LogEntry> TakeUnstable()
    {
        if (!HasUnstable)
        {
            return [];
        }

        var result = _entries.GetRange((int)(_unstableFrom - FirstIndex), (int)(LastIndex - _unstableFrom + 1));
        _unstableFrom = LastIndex + 1;
        return result;
    }

    /// <summary>Replaces the whole log with a snapshot received from the leader (Raft §7).</summary>
    public void Restore(SnapshotMetadata snapshot)
    {
        _entries.Clear();
        _snapshotIndex = snapshot.Index;
        _snapshotTerm = snapshot.Term;
        _unstableFrom = LastIndex + 1;
    }

    /// <summary>Forgets the entries a local snapshot covers; entries after it stay.</summary>
    public void Compact(long index, long term)
    {
        if (index <= _snapshotIndex)
        {
            return;
        }

        if (index > LastIndex)
        {
            throw new InvalidOperationException($"snapshot at {index} is beyond the last index {LastIndex}");
        }

        _entries.RemoveRange(0, (int)(index - _snapshotIndex));
        _snapshotIndex = index;
        _snapshotTerm = term;
        _unstableFrom = Math.Max(_unstableFrom, index + 1);
    }
}
