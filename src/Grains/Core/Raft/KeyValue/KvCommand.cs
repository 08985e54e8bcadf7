using System.Text;

namespace Orleans.Patterns.Raft.KeyValue;

/// <summary>What a key/value command does.</summary>
public enum KvOperation : byte
{
    Put = 1,
    Delete = 2,

    /// <summary>Compare-and-swap: sets the value only if the current one equals <see cref="KvCommand.Expected"/> (null: absent).</summary>
    Cas = 3,
}

/// <summary>
/// A write to the replicated key/value store, as it travels in a log entry. <see cref="ClientId"/> and
/// <see cref="Sequence"/> make a retried proposal apply once (thesis §6.3): a client that timed out and proposes the
/// same command again gets the first outcome back instead of a second effect.
/// </summary>
public sealed record KvCommand(string ClientId, long Sequence, KvOperation Operation, string Key, string? Value, string? Expected)
{
    private const byte FormatVersion = 1;

    public byte[] Encode()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(FormatVersion);
            writer.Write(ClientId);
            writer.Write(Sequence);
            writer.Write((byte)Operation);
            writer.Write(Key);
            WriteOptional(writer, Value);
            WriteOptional(writer, Expected);
        }

        return stream.ToArray();
    }

    public static KvCommand Decode(ReadOnlySpan<byte> data)
    {
        using var stream = new MemoryStream(data.ToArray());
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        var version = reader.ReadByte();
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"Key/value command format {version} is not supported (expected {FormatVersion}).");
        }

        var clientId = reader.ReadString();
        var sequence = reader.ReadInt64();
        var operation = (KvOperation)reader.ReadByte();
        if (!Enum.IsDefined(operation))
        {
            throw new InvalidDataException($"Unknown key/value operation {(byte)operation}.");
        }

        return new KvCommand(clientId, sequence, operation, reader.ReadString(), ReadOptional(reader), ReadOptional(reader));
    }

    private static void WriteOptional(BinaryWriter writer, string? value)
    {
        writer.Write(value is not null);
        if (value is not null)
        {
            writer.Write(value);
        }
    }

    private static string? ReadOptional(BinaryReader reader) => reader.ReadBoolean() ? reader.ReadString() : null;
}

/// <summary>The outcome of an applied command: whether it took effect, the previous value, and the log index it applied at.</summary>
public sealed record KvResult(bool Applied, string? Previous, long Index);
