using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace Orleans.Patterns.Raft.Storage;

/// <summary>Record types in a segment; the high bit marks the last record of a batch.</summary>
internal enum WalRecordType : byte
{
    Entry = 1,
    HardState = 2,

    /// <summary>Entries at and after the given index are discarded (a conflicting suffix is replaced).</summary>
    Truncate = 3,

    /// <summary>The whole log is discarded and the next entry has the given index (after a leader's snapshot).</summary>
    Reset = 4,
}

/// <summary>
/// Byte layout of segments and snapshots (little endian). A record is
/// <c>[u32 length][u32 crc32c][u8 type][payload]</c>, where length counts type and payload and the CRC covers them.
/// </summary>
internal static class WalFormat
{
    public const int HeaderBytes = 8;
    public const byte EndOfBatch = 0x80;
    public const string SegmentExtension = ".wal";
    public const string SnapshotExtension = ".snap";
    public const string TempExtension = ".tmp";

    private const uint SnapshotMagic = 0x504E5352; // "RSNP"

    public static string SegmentName(long sequence, long firstIndex) =>
        string.Create(CultureInfo.InvariantCulture, $"{sequence:D10}-{firstIndex:D20}{SegmentExtension}");

    public static bool TryParseSegmentName(string name, out long sequence)
    {
        sequence = 0;
        return name.EndsWith(SegmentExtension, StringComparison.Ordinal)
            && name.Length == 10 + 1 + 20 + SegmentExtension.Length
            && name[10] == '-'
            && long.TryParse(name.AsSpan(0, 10), NumberStyles.None, CultureInfo.InvariantCulture, out sequence)
            && long.TryParse(name.AsSpan(11, 20), NumberStyles.None, CultureInfo.InvariantCulture, out _);
    }

    public static string SnapshotName(long index, long term) =>
        string.Create(CultureInfo.InvariantCulture, $"snapshot-{index}-{term}{SnapshotExtension}");

    public static bool TryParseSnapshotName(string name, out long index, out long term)
    {
        index = term = 0;
        if (!name.StartsWith("snapshot-", StringComparison.Ordinal) || !name.EndsWith(SnapshotExtension, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = name["snapshot-".Length..^SnapshotExtension.Length].Split('-');
        return parts.Length == 2
            && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out index)
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out term);
    }

    public static void WriteEntry(ArrayBufferWriter<byte> buffer, LogEntry entry, bool last)
    {
        var record = Begin(buffer, WalRecordType.Entry, last, 8 + 8 + 1 + entry.Data.Length);
        var payload = record[(HeaderBytes + 1)..];
        BinaryPrimitives.WriteInt64LittleEndian(payload, entry.Index);
        BinaryPrimitives.WriteInt64LittleEndian(payload[8..], entry.Term);
        payload[16] = (byte)entry.Kind;
        entry.Data.Span.CopyTo(payload[17..]);
        End(buffer, record);
    }

    public static void WriteHardState(ArrayBufferWriter<byte> buffer, HardState state, bool last)
    {
        var vote = state.VotedFor is { } voter ? Encoding.UTF8.GetBytes(voter.Value) : [];
        var record = Begin(buffer, WalRecordType.HardState, last, 8 + 8 + 1 + vote.Length);
        var payload = record[(HeaderBytes + 1)..];
        BinaryPrimitives.WriteInt64LittleEndian(payload, state.Term);
        BinaryPrimitives.WriteInt64LittleEndian(payload[8..], state.Commit);
        payload[16] = state.VotedFor is null ? (byte)0 : (byte)1;
        vote.CopyTo(payload[17..]);
        End(buffer, record);
    }

    public static void WriteIndexRecord(ArrayBufferWriter<byte> buffer, WalRecordType type, long index, bool last)
    {
        var record = Begin(buffer, type, last, 8);
        var payload = record[(HeaderBytes + 1)..];
        BinaryPrimitives.WriteInt64LittleEndian(payload, index);
        End(buffer, record);
    }

    public static LogEntry ReadEntry(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 17 || payload[16] > (byte)EntryKind.Configuration)
        {
            throw new FormatException("malformed entry record");
        }

        return new LogEntry(
            BinaryPrimitives.ReadInt64LittleEndian(payload),
            BinaryPrimitives.ReadInt64LittleEndian(payload[8..]),
            (EntryKind)payload[16],
            payload[17..].ToArray());
    }

    public static HardState ReadHardState(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 17 || payload[16] > 1)
        {
            throw new FormatException("malformed hard-state record");
        }

        NodeId? vote = payload[16] == 1 ? new NodeId(Encoding.UTF8.GetString(payload[17..])) : null;
        return new HardState(BinaryPrimitives.ReadInt64LittleEndian(payload), vote, BinaryPrimitives.ReadInt64LittleEndian(payload[8..]));
    }

    public static long ReadIndex(ReadOnlySpan<byte> payload) =>
        payload.Length == 8 ? BinaryPrimitives.ReadInt64LittleEndian(payload) : throw new FormatException("malformed index record");

    public static uint Checksum(ReadOnlySpan<byte> typeAndPayload) => Crc32C(typeAndPayload);

    /// <summary>Snapshot file: magic, index, term, config length, config, data length, data, CRC32C of all before it.</summary>
    public static byte[] EncodeSnapshot(Snapshot snapshot)
    {
        var config = snapshot.Metadata.Config.Encode();
        var bytes = new byte[4 + 8 + 8 + 4 + config.Length + 4 + snapshot.Data.Length + 4];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, SnapshotMagic);
        BinaryPrimitives.WriteInt64LittleEndian(span[4..], snapshot.Metadata.Index);
        BinaryPrimitives.WriteInt64LittleEndian(span[12..], snapshot.Metadata.Term);
        BinaryPrimitives.WriteInt32LittleEndian(span[20..], config.Length);
        config.CopyTo(span[24..]);
        var at = 24 + config.Length;
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], snapshot.Data.Length);
        snapshot.Data.Span.CopyTo(span[(at + 4)..]);
        BinaryPrimitives.WriteUInt32LittleEndian(span[^4..], Crc32C(span[..^4]));
        return bytes;
    }

    public static Snapshot DecodeSnapshot(ReadOnlySpan<byte> span)
    {
        if (span.Length < 28 || BinaryPrimitives.ReadUInt32LittleEndian(span) != SnapshotMagic)
        {
            throw new FormatException("not a snapshot file");
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(span[^4..]) != Crc32C(span[..^4]))
        {
            throw new FormatException("checksum mismatch");
        }

        var index = BinaryPrimitives.ReadInt64LittleEndian(span[4..]);
        var term = BinaryPrimitives.ReadInt64LittleEndian(span[12..]);
        var configLength = BinaryPrimitives.ReadInt32LittleEndian(span[20..]);
        if (configLength < 0 || 24 + configLength + 4 > span.Length - 4)
        {
            throw new FormatException("bad configuration length");
        }

        var config = ClusterConfig.Decode(span.Slice(24, configLength));
        var at = 24 + configLength;
        var dataLength = BinaryPrimitives.ReadInt32LittleEndian(span[at..]);
        if (dataLength != span.Length - 4 - at - 4)
        {
            throw new FormatException("bad data length");
        }

        return new Snapshot(new SnapshotMetadata(index, term, config), span.Slice(at + 4, dataLength).ToArray());
    }

    private static Span<byte> Begin(ArrayBufferWriter<byte> buffer, WalRecordType type, bool last, int payloadLength)
    {
        var record = buffer.GetSpan(HeaderBytes + 1 + payloadLength)[..(HeaderBytes + 1 + payloadLength)];
        BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)(1 + payloadLength));
        record[HeaderBytes] = (byte)((byte)type | (last ? EndOfBatch : 0));
        return record;
    }

    private static void End(ArrayBufferWriter<byte> buffer, Span<byte> record)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(record[4..], Crc32C(record[HeaderBytes..]));
        buffer.Advance(record.Length);
    }

    /// <summary>
    /// CRC-32C (Castagnoli), the polynomial storage systems use for its error detection and hardware support;
    /// System.IO.Hashing only ships the IEEE polynomial, so this uses the runtime's accelerated primitive.
    /// </summary>
    internal static uint Crc32C(ReadOnlySpan<byte> data)
    {
        var crc = uint.MaxValue;
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (var b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return ~crc;
    }
}
