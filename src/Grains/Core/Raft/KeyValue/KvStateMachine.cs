using System.Text;

namespace Orleans.Patterns.Raft.KeyValue;

/// <summary>
/// The key/value state machine replicated by Raft: applies committed entries in index order, remembers each
/// client's latest command so a retried proposal applies once, and snapshots to and from bytes. Deterministic:
/// every replica that applies the same entries holds the same state.
/// </summary>
public sealed class KvStateMachine
{
    private const byte SnapshotVersion = 1;

    private readonly SortedDictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long Sequence, KvResult Result)> _sessions = new(StringComparer.Ordinal);

    /// <summary>Index of the last entry applied (or covered by the snapshot restored).</summary>
    public long AppliedIndex { get; private set; }

    public int Count => _values.Count;

    public string? Get(string key) => _values.GetValueOrDefault(key);

    /// <summary>Applies the next committed entry; returns the command's result, or null for entries that carry no command.</summary>
    public KvResult? Apply(LogEntry entry)
    {
        if (entry.Index != AppliedIndex + 1)
        {
            throw new InvalidOperationException($"Entries must be applied in order: applied {AppliedIndex}, got {entry.Index}.");
        }

        AppliedIndex = entry.Index;
        if (entry.Kind != EntryKind.Command)
        {
            return null;
        }

        var command = KvCommand.Decode(entry.Data.Span);
        if (_sessions.TryGetValue(command.ClientId, out var last) && command.Sequence <= last.Sequence)
        {
            // A duplicate of a command already applied: answer as the first time, change nothing.
            return command.Sequence == last.Sequence ? last.Result : new KvResult(false, null, entry.Index);
        }

        var result = Execute(command, entry.Index);
        _sessions[command.ClientId] = (command.Sequence, result);
        return result;
    }

    public byte[] TakeSnapshot()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(SnapshotVersion);
            writer.Write(AppliedIndex);
            writer.Write(_values.Count);
            foreach (var (key, value) in _values)
            {
                writer.Write(key);
                writer.Write(value);
            }

            writer.Write(_sessions.Count);
            foreach (var (client, (sequence, result)) in _sessions.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                writer.Write(client);
                writer.Write(sequence);
                writer.Write(result.Applied);
                writer.Write(result.Previous is not null);
                if (result.Previous is not null)
                {
                    writer.Write(result.Previous);
                }

                writer.Write(result.Index);
            }
        }

        return stream.ToArray();
    }

    public static KvStateMachine Restore(ReadOnlySpan<byte> snapshot)
    {
        using var stream = new MemoryStream(snapshot.ToArray());
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        var version = reader.ReadByte();
        if (version != SnapshotVersion)
        {
            throw new InvalidDataException($"Key/value snapshot format {version} is not supported (expected {SnapshotVersion}).");
        }

        var machine = new KvStateMachine { AppliedIndex = reader.ReadInt64() };
        for (var i = reader.ReadInt32(); i > 0; i--)
        {
            machine._values[reader.ReadString()] = reader.ReadString();
        }

        for (var i = reader.ReadInt32(); i > 0; i--)
        {
            var client = reader.ReadString();
            var sequence = reader.ReadInt64();
            var applied = reader.ReadBoolean();
            var previous = reader.ReadBoolean() ? reader.ReadString() : null;
            machine._sessions[client] = (sequence, new KvResult(applied, previous, reader.ReadInt64()));
        }

        return machine;
    }

    private KvResult Execute(KvCommand command, long index)
    {
        var previous = _values.GetValueOrDefault(command.Key);
        switch (command.Operation)
        {
            case KvOperation.Put:
                _values[command.Key] = command.Value ?? throw new InvalidDataException($"Put of '{command.Key}' at index {index} has no value.");
                return new KvResult(true, previous, index);
            case KvOperation.Delete:
                return new KvResult(_values.Remove(command.Key), previous, index);
            case KvOperation.Cas when previous == command.Expected:
                _values[command.Key] = command.Value ?? throw new InvalidDataException($"Cas of '{command.Key}' at index {index} has no value.");
                return new KvResult(true, previous, index);
            case KvOperation.Cas:
                return new KvResult(false, previous, index);
            default:
                throw new InvalidDataException($"Unknown key/value operation {command.Operation} at index {index}.");
        }
    }
}
