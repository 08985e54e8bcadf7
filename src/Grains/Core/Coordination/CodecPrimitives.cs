using System.Text;

namespace Orleans.Patterns.Coordination;

/// <summary>Writes the coordination codec's primitives: length-prefixed byte strings, fixed-width integers.</summary>
internal sealed class CodecWriter : IDisposable
{
    private readonly MemoryStream _stream = new();
    private readonly BinaryWriter _writer;

    public CodecWriter() => _writer = new BinaryWriter(_stream, Encoding.UTF8, leaveOpen: true);

    public void Byte(byte value) => _writer.Write(value);

    public void Bool(bool value) => _writer.Write(value);

    public void Long(long value) => _writer.Write(value);

    public void Count(int count) => _writer.Write7BitEncodedInt(count);

    public void Bytes(ReadOnlySpan<byte> bytes)
    {
        _writer.Write7BitEncodedInt(bytes.Length);
        _writer.Write(bytes);
    }

    public void String(string value) => Bytes(Encoding.UTF8.GetBytes(value));

    public byte[] ToArray()
    {
        _writer.Flush();
        return _stream.ToArray();
    }

    public void Dispose()
    {
        _writer.Dispose();
        _stream.Dispose();
    }
}

/// <summary>
/// Reads what <see cref="CodecWriter"/> wrote, checking every length and tag against the bytes left, so garbage fails
/// with a <see cref="FormatException"/> naming what was being read and where, never with a huge allocation.
/// </summary>
internal sealed class CodecReader
{
    private readonly byte[] _data;
    private int _position;

    public CodecReader(ReadOnlySpan<byte> data) => _data = data.ToArray();

    public int Remaining => _data.Length - _position;

    public byte Byte(string what)
    {
        Need(1, what);
        return _data[_position++];
    }

    public bool Bool(string what) => Byte(what) switch
    {
        0 => false,
        1 => true,
        var other => throw Garbage($"{what}: {other} is not a boolean"),
    };

    public long Long(string what)
    {
        Need(8, what);
        var value = BitConverter.ToInt64(_data, _position);
        _position += 8;
        return value;
    }

    /// <summary>A count written as a long that must fit an int and not be negative.</summary>
    public int LongCount(string what)
    {
        var value = Long(what);
        return value is >= 0 and <= int.MaxValue ? (int)value : throw Garbage($"{what} {value} is out of range");
    }

    public T Enum<T>(string what)
        where T : struct, Enum
    {
        var raw = Byte(what);
        var value = (T)System.Enum.ToObject(typeof(T), raw);
        return System.Enum.IsDefined(value) ? value : throw Garbage($"{what}: {raw} is not a {typeof(T).Name}");
    }

    /// <summary>A count of items that each take at least one byte, so it can never exceed what is left.</summary>
    public int Count(string what)
    {
        var count = VarInt(what);
        return count <= Remaining ? count : throw Garbage($"{what}: count {count} exceeds the {Remaining} bytes left");
    }

    public byte[] Bytes(string what)
    {
        var length = VarInt(what);
        Need(length, what);
        var bytes = _data.AsSpan(_position, length).ToArray();
        _position += length;
        return bytes;
    }

    public string String(string what)
    {
        var bytes = Bytes(what);
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Garbage($"{what}: not UTF-8");
        }
    }

    public void End(string what)
    {
        if (Remaining != 0)
        {
            throw Garbage($"{what}: {Remaining} bytes left over");
        }
    }

    public FormatException Garbage(string message) => new($"Malformed coordination data at byte {_position}: {message}.");

    private int VarInt(string what)
    {
        var result = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            var b = Byte(what);
            result |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return result >= 0 ? result : throw Garbage($"{what}: negative length");
            }
        }

        throw Garbage($"{what}: length is not a valid 7-bit encoded integer");
    }

    private void Need(int length, string what)
    {
        if (length > Remaining)
        {
            throw Garbage($"{what}: needs {length} bytes, {Remaining} left");
        }
    }
}
