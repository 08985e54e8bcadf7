using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Orleans.Patterns.Raft.Transport;

/// <summary>
/// The peer transport's wire format: a stream of frames, each a 4-byte big-endian length and that many bytes. The
/// first frame of a connection is a hello naming the sending and the receiving replica; every later frame is one Raft
/// message as <see cref="RaftMessageCodec"/> encodes it.
/// </summary>
internal static class RaftFrames
{
    public const int HeaderBytes = 4;

    /// <summary>
    /// The largest frame accepted: an InstallSnapshot carries a whole snapshot, so this is generous; a length above
    /// it is a stream out of step (or not ours), and the connection is closed rather than allocating it.
    /// </summary>
    public const int MaxFrameBytes = 512 * 1024 * 1024;

    private static ReadOnlySpan<byte> Magic => "ORPT"u8;

    private const byte Version = 1;

    /// <summary>Appends one frame (header and payload) to <paramref name="buffer"/>.</summary>
    public static void Write(IBufferWriter<byte> buffer, ReadOnlySpan<byte> payload)
    {
        var span = buffer.GetSpan(HeaderBytes + payload.Length);
        BinaryPrimitives.WriteInt32BigEndian(span, payload.Length);
        payload.CopyTo(span[HeaderBytes..]);
        buffer.Advance(HeaderBytes + payload.Length);
    }

    /// <summary>The hello that opens a connection from replica <paramref name="from"/> to replica <paramref name="to"/>.</summary>
    public static byte[] EncodeHello(string from, string to)
    {
        ArgumentException.ThrowIfNullOrEmpty(from);
        ArgumentException.ThrowIfNullOrEmpty(to);
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(Version);
            writer.Write(from);
            writer.Write(to);
        }

        return stream.ToArray();
    }

    /// <summary>Reads a hello frame's payload.</summary>
    /// <exception cref="InvalidDataException">The payload is not a hello of this version; the message says what differs.</exception>
    public static (string From, string To) DecodeHello(byte[] payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        if (payload.Length < Magic.Length + 1 || !payload.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw new InvalidDataException($"Raft peer transport: the first frame ({payload.Length} bytes) is not a hello; the peer is not a Raft replica transport.");
        }

        if (payload[Magic.Length] != Version)
        {
            throw new InvalidDataException($"Raft peer transport: hello version {payload[Magic.Length]}, this silo speaks version {Version}.");
        }

        try
        {
            using var reader = new BinaryReader(new MemoryStream(payload, Magic.Length + 1, payload.Length - Magic.Length - 1), Encoding.UTF8);
            var from = reader.ReadString();
            var to = reader.ReadString();
            if (from.Length == 0 || to.Length == 0)
            {
                throw new InvalidDataException("Raft peer transport: the hello names an empty replica.");
            }

            return (from, to);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"Raft peer transport: the hello ({payload.Length} bytes) ends before both replica names.", e);
        }
    }
}

/// <summary>
/// Splits the bytes a connection receives into frames, whatever way the reads cut them. Plain: the socket loop hands
/// it what it read, and takes whole payloads out.
/// </summary>
internal sealed class RaftFrameReader(int initialCapacity = 64 * 1024)
{
    private byte[] _buffer = new byte[Math.Max(initialCapacity, RaftFrames.HeaderBytes)];
    private int _start;
    private int _end;

    /// <summary>Room for the next read: at least <paramref name="minimum"/> bytes, more when a frame in progress needs it.</summary>
    public Memory<byte> GetReadBuffer(int minimum = 4096)
    {
        var needed = Math.Max(minimum, PendingFrameBytes() - (_end - _start));
        if (_buffer.Length - _end < needed)
        {
            var buffered = _end - _start;
            if (_buffer.Length - buffered < needed)
            {
                var grown = new byte[Math.Max(_buffer.Length * 2, buffered + needed)];
                _buffer.AsSpan(_start, buffered).CopyTo(grown);
                _buffer = grown;
            }
            else
            {
                _buffer.AsSpan(_start, buffered).CopyTo(_buffer);
            }

            _start = 0;
            _end = buffered;
        }

        return _buffer.AsMemory(_end);
    }

    /// <summary>Records that <paramref name="count"/> bytes were read into the buffer <see cref="GetReadBuffer"/> gave.</summary>
    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _buffer.Length - _end);
        _end += count;
    }

    /// <summary>Takes the next whole frame's payload, if one has arrived.</summary>
    /// <exception cref="InvalidDataException">A frame's length is negative or above <see cref="RaftFrames.MaxFrameBytes"/>.</exception>
    public bool TryRead(out byte[] payload)
    {
        var buffered = _end - _start;
        if (buffered < RaftFrames.HeaderBytes)
        {
            payload = [];
            return false;
        }

        var length = ReadLength();
        if (buffered < RaftFrames.HeaderBytes + length)
        {
            payload = [];
            return false;
        }

        payload = _buffer.AsSpan(_start + RaftFrames.HeaderBytes, length).ToArray();
        _start += RaftFrames.HeaderBytes + length;
        if (_start == _end)
        {
            _start = _end = 0;
        }

        return true;
    }

    private int PendingFrameBytes() => _end - _start < RaftFrames.HeaderBytes ? RaftFrames.HeaderBytes : RaftFrames.HeaderBytes + ReadLength();

    private int ReadLength()
    {
        var length = BinaryPrimitives.ReadInt32BigEndian(_buffer.AsSpan(_start, RaftFrames.HeaderBytes));
        if (length < 0 || length > RaftFrames.MaxFrameBytes)
        {
            throw new InvalidDataException($"Raft peer transport: a frame claims {length} bytes (at most {RaftFrames.MaxFrameBytes}); the stream is out of step.");
        }

        return length;
    }
}
