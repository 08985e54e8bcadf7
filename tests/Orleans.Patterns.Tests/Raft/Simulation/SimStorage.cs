using Orleans.Patterns.Raft;

namespace Orleans.Patterns.Tests.Raft.Simulation;

/// <summary>
/// A replica's disk, in memory: it keeps exactly what was persisted, so a crash loses everything else. Batches are
/// applied the way <see cref="PersistBatch"/> prescribes: snapshot, then hard state, then entries (rewriting from the first).
/// </summary>
internal sealed class SimStorage
{
    private readonly List<LogEntry> _entries = [];

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

    public RecoveredState Recover() => new(HardState, Snapshot, [.. _entries]);
}
