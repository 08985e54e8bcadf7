using Orleans.Patterns.Raft;

namespace Orleans.Patterns.Tests.Raft.Simulation;

/// <summary>
/// A replica's disk, in memory: it keeps exactly what was persisted, so a crash loses everything else. Batches are
/// applied the way <see cref="PersistBatch"/> prescribes: snapshot, then hard state, then entries (rewriting from the first).
/// A batch that need not be synced (<see cref="PersistBatch.MustSync"/> false: a commit index alone) is held apart
/// until the next synced batch, and a crash loses it: the worst a power cut can do to the real log's unsynced tail.
/// </summary>
internal sealed class SimStorage
{
    private readonly List<LogEntry> _entries = [];
    private HardState? _unsynced;

    public HardState HardState { get; private set; }

    public Snapshot? Snapshot { get; private set; }

    public IReadOnlyList<LogEntry> Entries => _entries;

    public long SnapshotIndex => Snapshot?.Metadata.Index ?? 0;

    public long LastIndex => _entries.Count > 0 ? _entries[^1].Index : SnapshotIndex;

    public long? TermAt(long index)
    {
        if (index == SnapshotIndex)
        {
            return Snapshot?.Metadata.Term ?? 0;
        }

        if (index < SnapshotIndex || index > LastIndex)
        {
            return null;
        }

        return _entries[(int)(index - SnapshotIndex - 1)].Term;
    }

    public LogEntry? EntryAt(long index) =>
        index > SnapshotIndex && index <= LastIndex ? _entries[(int)(index - SnapshotIndex - 1)] : null;

    public void Apply(PersistBatch batch)
    {
        if (!batch.MustSync)
        {
            if (batch.Entries.Count > 0 || batch.Snapshot is not null
                || batch.HardState is { } hint && (hint.Term != HardState.Term || hint.VotedFor != HardState.VotedFor))
            {
                throw new InvalidOperationException($"an unsynced batch changes more than the commit index: {batch}");
            }

            _unsynced = batch.HardState ?? _unsynced;
            return;
        }

        if (_unsynced is { } covered)
        {
            HardState = covered; // this batch's fsync covers the earlier unsynced write
            _unsynced = null;
        }

        if (batch.Snapshot is { } snapshot)
        {
            Snapshot = snapshot;
            _entries.Clear();
        }

        if (batch.HardState is { } hardState)
        {
            HardState = hardState;
        }

        if (batch.Entries.Count > 0)
        {
            var first = batch.Entries[0].Index;
            if (first <= SnapshotIndex || first > LastIndex + 1)
            {
                throw new InvalidOperationException($"persisting from {first} onto a log ending at {LastIndex} after snapshot {SnapshotIndex}");
            }

            _entries.RemoveRange((int)(first - SnapshotIndex - 1), (int)(LastIndex - first + 1));
            _entries.AddRange(batch.Entries);
        }
    }

    public void Compact(Snapshot snapshot)
    {
        var index = snapshot.Metadata.Index;
        if (index <= SnapshotIndex)
        {
            return;
        }

        _entries.RemoveRange(0, (int)Math.Min(_entries.Count, index - SnapshotIndex));
        Snapshot = snapshot;
    }

    /// <summary>A crash: what was written but never synced is gone.</summary>
    public void LoseUnsynced() => _unsynced = null;

    public RecoveredState Recover() => new(HardState, Snapshot, [.. _entries]);
}
