using System.Collections.Immutable;

namespace Orleans.Patterns.Raft;

/// <summary>A replica's identity: the stable name of its silo (<c>silo-1</c>…), so a restarted silo is the same replica.</summary>
public readonly record struct NodeId(string Value) : IComparable<NodeId>
{
    public int CompareTo(NodeId other) => string.CompareOrdinal(Value, other.Value);

    public override string ToString() => Value;
}

/// <summary>What a log entry carries.</summary>
public enum EntryKind : byte
{
    /// <summary>A state-machine command.</summary>
    Command = 0,

    /// <summary>The empty entry a new leader appends to commit entries of earlier terms (Raft §5.4.2, §8).</summary>
    NoOp = 1,

    /// <summary>A cluster configuration (<see cref="ClusterConfig"/> encoded by <see cref="ClusterConfig.Encode"/>).</summary>
    Configuration = 2,
}

/// <summary>One entry of the replicated log. Immutable once created.</summary>
public sealed record LogEntry(long Index, long Term, EntryKind Kind, ReadOnlyMemory<byte> Data);

/// <summary>The state a replica must persist before it answers a vote or acknowledges an append (Raft Figure 2).</summary>
public readonly record struct HardState(long Term, NodeId? VotedFor, long Commit);

/// <summary>Voters decide elections and commitment; learners receive the log but do not count (thesis §4.2.1).</summary>
public sealed record ClusterConfig(ImmutableSortedSet<NodeId> Voters, ImmutableSortedSet<NodeId> Learners)
{
    public static ClusterConfig Empty { get; } = new([], []);

    public bool Contains(NodeId node) => Voters.Contains(node) || Learners.Contains(node);

    /// <summary>A stable binary form, for configuration entries and snapshots.</summary>
    public byte[] Encode()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Voters.Count);
            foreach (var voter in Voters)
            {
                writer.Write(voter.Value);
            }

            writer.Write(Learners.Count);
            foreach (var learner in Learners)
            {
                writer.Write(learner.Value);
            }
        }

        return stream.ToArray();
    }

    public static ClusterConfig Decode(ReadOnlySpan<byte> data)
    {
        using var stream = new MemoryStream(data.ToArray());
        using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8);
        var voters = ImmutableSortedSet.CreateBuilder<NodeId>();
        for (var i = reader.ReadInt32(); i > 0; i--)
        {
            voters.Add(new NodeId(reader.ReadString()));
        }

        var learners = ImmutableSortedSet.CreateBuilder<NodeId>();
        for (var i = reader.ReadInt32(); i > 0; i--)
        {
            learners.Add(new NodeId(reader.ReadString()));
        }

        return new ClusterConfig(voters.ToImmutable(), learners.ToImmutable());
    }
}

/// <summary>What a snapshot covers: every entry up to and including <see cref="Index"/>.</summary>
public sealed record SnapshotMetadata(long Index, long Term, ClusterConfig Config);

/// <summary>A state-machine snapshot and what it covers.</summary>
public sealed record Snapshot(SnapshotMetadata Metadata, ReadOnlyMemory<byte> Data);

/// <summary>
/// What a replica must make durable, in one step, before it sends the messages that depend on it:
/// the hard state if it changed, entries to append (an entry at an index already in the log replaces that
/// entry and everything after it), and a snapshot received from the leader.
/// </summary>
/// <param name="HardState">Term, vote and commit index, when any of them changed.</param>
/// <param name="Entries">Entries to append; the first may replace a conflicting suffix.</param>
/// <param name="Snapshot">A snapshot received from the leader, replacing the log it covers.</param>
/// <param name="MustSync">
/// False when the batch only moves the commit index: the term, the vote and the log are as already on disk. Such a
/// batch is written but need not be fsynced, nor waited for: the commit index is volatile state in Raft (Figure 2), a
/// restarted replica relearns it from the leader, and what it recovers is never ahead of its durable log, because a
/// replica only commits entries it has already made durable. etcd's raft makes the same call (<c>MustSync</c>).
/// </param>
public sealed record PersistBatch(HardState? HardState, IReadOnlyList<LogEntry> Entries, Snapshot? Snapshot, bool MustSync = true)
{
    public bool IsEmpty => HardState is null && Entries.Count == 0 && Snapshot is null;
}

/// <summary>Everything a replica recovers from its disk at start.</summary>
public sealed record RecoveredState(HardState HardState, Snapshot? Snapshot, IReadOnlyList<LogEntry> Entries);

/// <summary>
/// A replica's durable storage. <see cref="PersistAsync"/> completes only when the batch is on disk (fsynced), or,
/// for a batch that need not be synced (<see cref="PersistBatch.MustSync"/>), once it is written; concurrent calls
/// may share one fsync (group commit), which also covers every unsynced write before it. Implementations own their
/// I/O threads, so callers never block a scheduler thread.
/// </summary>
public interface IRaftStorage : IAsyncDisposable
{
    /// <summary>Reads the hard state, the latest snapshot and the entries after it; refuses a corrupt log.</summary>
    RecoveredState Recover();

    Task PersistAsync(PersistBatch batch, CancellationToken cancellationToken);

    /// <summary>Saves a snapshot taken locally and drops the entries it covers.</summary>
    Task CompactAsync(Snapshot snapshot, CancellationToken cancellationToken);
}
