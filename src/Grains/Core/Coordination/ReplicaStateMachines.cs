using System.Security.Cryptography;
using Orleans.Patterns.Raft;
using Orleans.Patterns.Raft.KeyValue;

namespace Orleans.Patterns.Coordination;

/// <summary>
/// The two state machines one Raft log feeds: the simple key/value store (<see cref="KvStateMachine"/>, which the shard
/// map and <c>kv put/get</c> use) and the coordination store (<see cref="CoordinationStateMachine"/>). Each entry goes
/// to the machine its payload names (<see cref="CoordinationWire.EntryTag"/>); the other machine sees it as an empty
/// entry, so both keep the log's applied index. Snapshots hold both; a key/value-only snapshot written before the
/// coordination store existed restores with an empty coordination store starting at its index.
/// </summary>
public sealed class ReplicaStateMachines
{
    // Version 1 is KvStateMachine's own snapshot format (its first byte), taken before this class existed.
    private const byte SnapshotVersion = 2;
    private const byte KvOnlySnapshotVersion = 1;

    private ReplicaStateMachines(KvStateMachine kv, CoordinationStateMachine coordination)
    {
        Kv = kv;
        Coordination = coordination;
    }

    public ReplicaStateMachines(CoordinationLimits? limits = null)
        : this(new KvStateMachine(), new CoordinationStateMachine(limits))
    {
    }

    public KvStateMachine Kv { get; }

    public CoordinationStateMachine Coordination { get; }

    public long AppliedIndex => Kv.AppliedIndex;

    /// <summary>
    /// Applies the next committed entry; returns its command's outcome (a <see cref="KvResult"/> or a
    /// <see cref="CoordinationResult"/>), or null for entries that carry no command.
    /// </summary>
    public object? Apply(LogEntry entry)
    {
        if (entry.Kind == EntryKind.Command && CoordinationWire.IsCoordinationEntry(entry.Data.Span))
        {
            var result = Coordination.Apply(entry with { Data = entry.Data[1..] });
            Kv.Apply(entry with { Kind = EntryKind.NoOp, Data = ReadOnlyMemory<byte>.Empty });
            return result;
        }

        Coordination.Apply(entry with { Kind = EntryKind.NoOp, Data = ReadOnlyMemory<byte>.Empty });
        return Kv.Apply(entry);
    }

    public byte[] TakeSnapshot()
    {
        var kv = Kv.TakeSnapshot();
        var coordination = Coordination.TakeSnapshot();
        var snapshot = new byte[1 + 4 + kv.Length + coordination.Length];
        snapshot[0] = SnapshotVersion;
        BitConverter.TryWriteBytes(snapshot.AsSpan(1, 4), kv.Length);
        kv.CopyTo(snapshot, 5);
        coordination.CopyTo(snapshot, 5 + kv.Length);
        return snapshot;
    }

    /// <summary>A fingerprint of both stores (SHA-256, hex): replicas that applied the same log prefix report the same one.</summary>
    public string Digest() => Convert.ToHexString(SHA256.HashData(TakeSnapshot()));

    /// <summary>Rebuilds both machines from <see cref="TakeSnapshot"/>'s bytes, or from a key/value-only snapshot of an older log.</summary>
    public static ReplicaStateMachines Restore(ReadOnlySpan<byte> snapshot, CoordinationLimits? limits = null)
    {
        if (snapshot.IsEmpty)
        {
            throw new FormatException("Replica snapshot is empty.");
        }

        switch (snapshot[0])
        {
            case KvOnlySnapshotVersion:
                var kvOnly = KvStateMachine.Restore(snapshot);
                return new ReplicaStateMachines(kvOnly, CoordinationStateMachine.StartingAfter(kvOnly.AppliedIndex, limits));
            case SnapshotVersion:
                if (snapshot.Length < 5 || BitConverter.ToInt32(snapshot[1..5]) is var kvLength && (kvLength < 0 || kvLength > snapshot.Length - 5))
                {
                    throw new FormatException($"Replica snapshot of {snapshot.Length} bytes has a malformed key/value part length.");
                }

                var kv = KvStateMachine.Restore(snapshot.Slice(5, kvLength));
                var coordination = CoordinationStateMachine.Restore(snapshot[(5 + kvLength)..], limits);
                if (kv.AppliedIndex != coordination.AppliedIndex)
                {
                    throw new FormatException(
                        $"Replica snapshot is inconsistent: key/value part applied through {kv.AppliedIndex}, coordination part through {coordination.AppliedIndex}.");
                }

                return new ReplicaStateMachines(kv, coordination);
            default:
                throw new FormatException($"Replica snapshot format {snapshot[0]} is not supported (expected {KvOnlySnapshotVersion} or {SnapshotVersion}).");
        }
    }
}
