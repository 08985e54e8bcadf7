namespace Orleans.Patterns.Coordination;

/// <summary>
/// A write to the coordination store as it travels in a log entry. <see cref="ClientId"/> and <see cref="Sequence"/>
/// make a retried proposal apply once (Raft thesis §6.3), as for <c>KvCommand</c>; an empty <see cref="ClientId"/>
/// opts out of sessions, for the leader's idempotent clock commands (<see cref="ExpireLeasesRequest"/>,
/// <see cref="PromoteLeasesRequest"/>, <see cref="RefreshLeasesRequest"/>) whose sequence would not survive a leader
/// change.
/// </summary>
public sealed record CoordinationCommand(string ClientId, long Sequence, ICoordinationWrite Request)
{
    private const byte FormatVersion = 1;

    public byte[] Encode()
    {
        using var writer = new CodecWriter();
        writer.Byte(FormatVersion);
        writer.String(ClientId);
        writer.Long(Sequence);
        CoordinationCodec.WriteRequest(writer, Request);
        return writer.ToArray();
    }

    /// <summary>Reads an encoded command; anything else (wrong version, bad tag or length, bytes left over) is a <see cref="FormatException"/>.</summary>
    public static CoordinationCommand Decode(ReadOnlySpan<byte> data)
    {
        var reader = new CodecReader(data);
        var version = reader.Byte("format version");
        if (version != FormatVersion)
        {
            throw new FormatException($"Coordination command format {version} is not supported (expected {FormatVersion}).");
        }

        var command = new CoordinationCommand(reader.String("client id"), reader.Long("sequence"), CoordinationCodec.ReadRequest(reader));
        reader.End("command");
        return command;
    }
}

/// <summary>The outcome of an applied command: exactly one of <see cref="Response"/> and <see cref="Error"/>, and the log index it applied at.</summary>
public sealed record CoordinationResult(long Index, ICoordinationResponse? Response, CoordinationError? Error)
{
    /// <summary>The response, or the refusal as a <see cref="CoordinationException"/>.</summary>
    public T ResponseOrThrow<T>()
        where T : ICoordinationResponse =>
        Error is not null ? throw new CoordinationException(Error) : (T)Response!;
}
