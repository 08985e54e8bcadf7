using System.Text;

namespace Orleans.Patterns.Raft;

/// <summary>
/// A compact binary form of <see cref="RaftMessage"/>, so transports (the replica grains) carry one byte array
/// and the core stays free of any serializer. Versioned by its first byte.
/// </summary>
public static class RaftMessageCodec
{
    private const byte FormatVersion = 1;

    private enum MessageType : byte
    {
        RequestVote = 1,
        RequestVoteResponse = 2,
        AppendEntries = 3,
        AppendEntriesResponse = 4,
        Heartbeat = 5,
        HeartbeatResponse = 6,
        InstallSnapshot = 7,
        InstallSnapshotResponse = 8,
        TimeoutNow = 9,
    }

    public static byte[] Encode(RaftMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        // Sized up front: a growing stream would copy a large AppendEntries several times over.
        using var stream = new MemoryStream(EstimateSize(message));
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(FormatVersion);
            w.Write((byte)TypeOf(message));
            w.Write(message.From.Value);
            w.Write(message.To.Value);
            w.Write(message.Term);
            switch (message)
            {
                case RequestVote m:
                    w.Write(m.LastLogIndex);
                    w.Write(m.LastLogTerm);
                    w.Write(m.PreVote);
                    w.Write(m.Transfer);
                    break;
                case RequestVoteResponse m:
                    w.Write(m.Granted);
                    w.Write(m.PreVote);
                    break;
                case AppendEntries m:
                    w.Write(m.PrevLogIndex);
                    w.Write(m.PrevLogTerm);
                    w.Write(m.LeaderCommit);
                    w.Write(m.Entries.Count);
                    foreach (var entry in m.Entries)
                    {
                        WriteEntry(w, entry);
                    }

                    break;
                case AppendEntriesResponse m:
                    w.Write(m.Success);
                    w.Write(m.MatchIndex);
                    w.Write(m.RejectedIndex);
                    w.Write(m.ConflictTerm);
                    w.Write(m.ConflictIndex);
                    break;
                case Heartbeat m:
                    w.Write(m.Commit);
                    w.Write(m.Round);
                    break;
                case HeartbeatResponse m:
                    w.Write(m.Round);
                    break;
                case InstallSnapshot m:
                    w.Write(m.Snapshot.Metadata.Index);
                    w.Write(m.Snapshot.Metadata.Term);
                    WriteBytes(w, m.Snapshot.Metadata.Config.Encode());
                    WriteBytes(w, m.Snapshot.Data.Span);
                    break;
                case InstallSnapshotResponse m:
                    w.Write(m.MatchIndex);
                    break;
                case TimeoutNow:
                    break;
            }
        }

        return stream.ToArray();
    }

    public static RaftMessage Decode(ReadOnlySpan<byte> data)
    {
        using var stream = new MemoryStream(data.ToArray());
        using var r = new BinaryReader(stream, Encoding.UTF8);
        var version = r.ReadByte();
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"Raft message format {version} is not supported (expected {FormatVersion}).");
        }

        var type = (MessageType)r.ReadByte();
        var from = new NodeId(r.ReadString());
        var to = new NodeId(r.ReadString());
        var term = r.ReadInt64();
        return type switch
        {
            MessageType.RequestVote => new RequestVote(from, to, term, r.ReadInt64(), r.ReadInt64(), r.ReadBoolean(), r.ReadBoolean()),
            MessageType.RequestVoteResponse => new RequestVoteResponse(from, to, term, r.ReadBoolean(), r.ReadBoolean()),
            MessageType.AppendEntries => ReadAppendEntries(r, from, to, term),
            MessageType.AppendEntriesResponse => new AppendEntriesResponse(
                from, to, term, r.ReadBoolean(), r.ReadInt64(), r.ReadInt64(), r.ReadInt64(), r.ReadInt64()),
            MessageType.Heartbeat => new Heartbeat(from, to, term, r.ReadInt64(), r.ReadInt64()),
            MessageType.HeartbeatResponse => new HeartbeatResponse(from, to, term, r.ReadInt64()),
            MessageType.InstallSnapshot => ReadInstallSnapshot(r, from, to, term),
            MessageType.InstallSnapshotResponse => new InstallSnapshotResponse(from, to, term, r.ReadInt64()),
            MessageType.TimeoutNow => new TimeoutNow(from, to, term),
            _ => throw new InvalidDataException($"Unknown Raft message type {(byte)type}."),
        };
    }

    private static int EstimateSize(RaftMessage message)
    {
        // Header (version, type, two names, term) plus the largest fixed part, then the variable payloads.
        var size = 64 + (message.From.Value.Length + message.To.Value.Length) * 3;
        switch (message)
        {
            case AppendEntries append:
                foreach (var entry in append.Entries)
                {
                    size += 21 + entry.Data.Length;
                }

                break;
            case InstallSnapshot install:
                size += 64 + install.Snapshot.Data.Length
                    + (install.Snapshot.Metadata.Config.Voters.Count + install.Snapshot.Metadata.Config.Learners.Count) * 64;
                break;
        }

        return size;
    }

    private static MessageType TypeOf(RaftMessage message) => message switch
    {
        RequestVote => MessageType.RequestVote,
        RequestVoteResponse => MessageType.RequestVoteResponse,
        AppendEntries => MessageType.AppendEntries,
        AppendEntriesResponse => MessageType.AppendEntriesResponse,
        Heartbeat => MessageType.Heartbeat,
        HeartbeatResponse => MessageType.HeartbeatResponse,
        InstallSnapshot => MessageType.InstallSnapshot,
        InstallSnapshotResponse => MessageType.InstallSnapshotResponse,
        TimeoutNow => MessageType.TimeoutNow,
        _ => throw new ArgumentException($"Unknown Raft message {message.GetType().Name}.", nameof(message)),
    };

    private static AppendEntries ReadAppendEntries(BinaryReader r, NodeId from, NodeId to, long term)
    {
        var prevIndex = r.ReadInt64();
        var prevTerm = r.ReadInt64();
        var commit = r.ReadInt64();
        var entries = new LogEntry[r.ReadInt32()];
        for (var i = 0; i < entries.Length; i++)
        {
            entries[i] = new LogEntry(r.ReadInt64(), r.ReadInt64(), (EntryKind)r.ReadByte(), ReadBytes(r));
        }

        return new AppendEntries(from, to, term, prevIndex, prevTerm, entries, commit);
    }

    private static InstallSnapshot ReadInstallSnapshot(BinaryReader r, NodeId from, NodeId to, long term)
    {
        var index = r.ReadInt64();
        var snapshotTerm = r.ReadInt64();
        var config = ClusterConfig.Decode(ReadBytes(r));
        return new InstallSnapshot(from, to, term, new Snapshot(new SnapshotMetadata(index, snapshotTerm, config), ReadBytes(r)));
    }

    private static void WriteEntry(BinaryWriter w, LogEntry entry)
    {
        w.Write(entry.Index);
        w.Write(entry.Term);
        w.Write((byte)entry.Kind);
        WriteBytes(w, entry.Data.Span);
    }

    private static void WriteBytes(BinaryWriter w, ReadOnlySpan<byte> bytes)
    {
        w.Write(bytes.Length);
        w.Write(bytes);
    }

    private static byte[] ReadBytes(BinaryReader r) => r.ReadBytes(r.ReadInt32());
}
