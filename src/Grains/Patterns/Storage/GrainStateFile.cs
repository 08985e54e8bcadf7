using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;

namespace Orleans.Patterns.Storage;

/// <summary>The identity of one stored version of a grain's state; its string form is the ETag.</summary>
/// <param name="RecordId">Random id chosen when the record is created. A record cleared and written again
/// gets a new one, so an ETag from before the clear can never match (no ABA on the version counter).</param>
/// <param name="Version">Starts at 1 and grows by one with every write of the record.</param>
internal readonly record struct StoredVersion(ulong RecordId, long Version)
{
    public string ToETag() => string.Create(CultureInfo.InvariantCulture, $"{Version}-{RecordId:x16}");
}

/// <summary>
/// Binary layout of a state file (all integers little-endian):
/// <code>
/// offset size field
///      0    4 magic "OPGS"
///      4    2 format version (1)
///      6    2 reserved, 0
///      8    8 record id
///     16    8 version
///     24    4 payload length N
///     28    N payload (bytes from IGrainStorageSerializer)
///   28+N    4 CRC-32 of bytes [0, 28+N)
/// </code>
/// </summary>
/// <remarks>
/// The checksum covers the header too, so a flipped bit in the version is caught like one in the
/// payload. The file is replaced atomically, so a torn file means media or external damage, never
/// a crash of our own writer; it is reported rather than repaired.
/// </remarks>
internal static class GrainStateFile
{
    public const int HeaderLength = 28;
    private const int TrailerLength = 4;
    private const ushort FormatVersion = 1;
    private static readonly byte[] Magic = "OPGS"u8.ToArray();

    public static byte[] Encode(StoredVersion version, ReadOnlySpan<byte> payload)
    {
        var buffer = new byte[HeaderLength + payload.Length + TrailerLength];
        var span = buffer.AsSpan();
        Magic.CopyTo(span);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], FormatVersion);
        BinaryPrimitives.WriteUInt64LittleEndian(span[8..], version.RecordId);
        BinaryPrimitives.WriteInt64LittleEndian(span[16..], version.Version);
        BinaryPrimitives.WriteInt32LittleEndian(span[24..], payload.Length);
        payload.CopyTo(span[HeaderLength..]);
        var checksummed = span[..(HeaderLength + payload.Length)];
        BinaryPrimitives.WriteUInt32LittleEndian(span[checksummed.Length..], Crc32.HashToUInt32(checksummed));
        return buffer;
    }

    /// <summary>Validates a whole file and returns its version and payload.</summary>
    /// <exception cref="InvalidDataException">The file is truncated, foreign or damaged; the message names it.</exception>
    public static (StoredVersion Version, ReadOnlyMemory<byte> Payload) Decode(string path, byte[] file)
    {
        var version = DecodeHeader(path, file);
        var payloadLength = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(24));
        var expectedLength = (long)HeaderLength + payloadLength + TrailerLength;
        if (payloadLength < 0 || file.LongLength != expectedLength)
        {
            throw Corrupt(path, $"header announces {payloadLength} payload bytes ({expectedLength} bytes in all) but the file has {file.LongLength} bytes");
        }

        var checksummed = file.AsSpan(0, HeaderLength + payloadLength);
        var stored = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(checksummed.Length));
        var computed = Crc32.HashToUInt32(checksummed);
        if (stored != computed)
        {
            throw Corrupt(path, $"CRC-32 mismatch (stored {stored:x8}, computed {computed:x8})");
        }

        return (version, file.AsMemory(HeaderLength, payloadLength));
    }

    /// <summary>Reads only the fixed header; used by writes, which need the current ETag and not the old state.</summary>
    public static StoredVersion DecodeHeader(string path, ReadOnlySpan<byte> header)
    {
        if (header.Length < HeaderLength + TrailerLength)
        {
            throw Corrupt(path, $"file has {header.Length} bytes, shorter than the smallest valid file ({HeaderLength + TrailerLength})");
        }

        if (!header[..4].SequenceEqual(Magic))
        {
            throw Corrupt(path, "missing the \"OPGS\" magic; not a grain state file");
        }

        var format = BinaryPrimitives.ReadUInt16LittleEndian(header[4..]);
        if (format != FormatVersion)
        {
            throw Corrupt(path, $"unsupported format version {format} (expected {FormatVersion})");
        }

        return new StoredVersion(
            BinaryPrimitives.ReadUInt64LittleEndian(header[8..]),
            BinaryPrimitives.ReadInt64LittleEndian(header[16..]));
    }

    private static InvalidDataException Corrupt(string path, string reason) =>
        new($"Grain state file '{path}' is corrupt: {reason}.");
}
