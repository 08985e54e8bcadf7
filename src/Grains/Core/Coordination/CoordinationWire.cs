namespace Orleans.Patterns.Coordination;

/// <summary>
/// A read of the coordination store, as it travels to a replica: a range, the watch feed from a revision, a lease's
/// time to live, or the list of leases. Reads never enter the log; where they are served decides their consistency.
/// </summary>
public abstract record CoordinationQuery
{
    private CoordinationQuery()
    {
    }

    /// <summary>A range of keys (<see cref="RangeRequest.Serializable"/> says whether any replica may answer).</summary>
    public sealed record Range(RangeRequest Request) : CoordinationQuery;

    /// <summary>Every event of a key or range from a start revision to the replica's current revision.</summary>
    public sealed record Watch(WatchRequest Request) : CoordinationQuery;

    /// <summary>A lease's remaining time on the leader's clock, and optionally its keys.</summary>
    public sealed record TimeToLive(long LeaseId, bool Keys) : CoordinationQuery;

    /// <summary>Every live lease.</summary>
    public sealed record Leases : CoordinationQuery;
}

/// <summary>
/// The binary form of what crosses from a client to a replica and back: commands (with the log-entry tag that tells
/// coordination entries from the key/value store's), their results, queries and their answers. Public so callers in
/// other processes encode with the replicas' own codec; malformed bytes are a <see cref="FormatException"/>.
/// </summary>
public static class CoordinationWire
{
    /// <summary>
    /// First byte of a log entry carrying a <see cref="CoordinationCommand"/>. The key/value store's commands start with
    /// their format version (1), so the tag tells the two apart without changing a byte of logs written before it.
    /// </summary>
    public const byte EntryTag = 0xC0;

    private const byte ResultVersion = 1;
    private const byte QueryVersion = 1;

    private enum QueryTag : byte
    {
        Range = 1,
        Watch = 2,
        TimeToLive = 3,
        Leases = 4,
    }

    /// <summary>The payload of a log entry for <paramref name="command"/>: the tag, then the command.</summary>
    public static byte[] ToEntry(CoordinationCommand command) => ToEntry(command.Encode());

    /// <summary>
    /// The payload of a log entry for a command already encoded (<see cref="CoordinationCommand.Encode"/>): the tag, then
    /// those bytes as they are. The leader takes a client's command this way when it has nothing to add to it, instead
    /// of encoding again what it decoded to check it. Checking is the caller's: the bytes are not decoded here.
    /// </summary>
    public static byte[] ToEntry(ReadOnlySpan<byte> encodedCommand)
    {
        var entry = new byte[encodedCommand.Length + 1];
        entry[0] = EntryTag;
        encodedCommand.CopyTo(entry.AsSpan(1));
        return entry;
    }

    /// <summary>Whether a log entry's payload is a coordination command.</summary>
    public static bool IsCoordinationEntry(ReadOnlySpan<byte> data) => data.Length > 0 && data[0] == EntryTag;

    public static byte[] EncodeResult(CoordinationResult result)
    {
        using var writer = new CodecWriter();
        writer.Byte(ResultVersion);
        WriteResult(writer, result);
        return writer.ToArray();
    }

    public static CoordinationResult DecodeResult(ReadOnlySpan<byte> data)
    {
        var reader = new CodecReader(data);
        Version(reader, ResultVersion, "result");
        var result = ReadResult(reader);
        reader.End("result");
        return result;
    }

    public static byte[] EncodeQuery(CoordinationQuery query)
    {
        using var writer = new CodecWriter();
        writer.Byte(QueryVersion);
        switch (query)
        {
            case CoordinationQuery.Range range:
                writer.Byte((byte)QueryTag.Range);
                CoordinationCodec.WriteRange(writer, range.Request);
                break;
            case CoordinationQuery.Watch watch:
                writer.Byte((byte)QueryTag.Watch);
                writer.Bytes(watch.Request.Key);
                writer.Bytes(watch.Request.RangeEnd);
                writer.Long(watch.Request.StartRevision);
                writer.Bool(watch.Request.PrevKv);
                writer.Bool(watch.Request.NoPut);
                writer.Bool(watch.Request.NoDelete);
                break;
            case CoordinationQuery.TimeToLive ttl:
                writer.Byte((byte)QueryTag.TimeToLive);
                writer.Long(ttl.LeaseId);
                writer.Bool(ttl.Keys);
                break;
            case CoordinationQuery.Leases:
                writer.Byte((byte)QueryTag.Leases);
                break;
            default:
                throw new ArgumentException($"Unknown coordination query {query.GetType().Name}.", nameof(query));
        }

        return writer.ToArray();
    }

    public static CoordinationQuery DecodeQuery(ReadOnlySpan<byte> data)
    {
        var reader = new CodecReader(data);
        Version(reader, QueryVersion, "query");
        CoordinationQuery query = reader.Enum<QueryTag>("query kind") switch
        {
            QueryTag.Range => new CoordinationQuery.Range(CoordinationCodec.ReadRangeRequest(reader)),
            QueryTag.Watch => new CoordinationQuery.Watch(new WatchRequest(reader.Bytes("key"))
            {
                RangeEnd = reader.Bytes("range_end"),
                StartRevision = reader.Long("start_revision"),
                PrevKv = reader.Bool("prev_kv"),
                NoPut = reader.Bool("no_put"),
                NoDelete = reader.Bool("no_delete"),
            }),
            QueryTag.TimeToLive => new CoordinationQuery.TimeToLive(reader.Long("lease id"), reader.Bool("keys")),
            QueryTag.Leases => new CoordinationQuery.Leases(),
            var tag => throw reader.Garbage($"unknown query kind {(byte)tag}"),
        };
        reader.End("query");
        return query;
    }

    /// <summary>A query's answer: the response (range, watch, time-to-live or leases) or the refusal.</summary>
    public static byte[] EncodeAnswer(ICoordinationResponse? response, CoordinationError? error)
    {
        using var writer = new CodecWriter();
        writer.Byte(ResultVersion);
        writer.Bool(error is null);
        if (error is not null)
        {
            CoordinationCodec.Write(writer, error);
            return writer.ToArray();
        }

        switch (response)
        {
            case RangeResponse:
                writer.Byte((byte)QueryTag.Range);
                CoordinationCodec.WriteResponse(writer, response);
                break;
            case WatchResponse watch:
                writer.Byte((byte)QueryTag.Watch);
                writer.Long(watch.Revision);
                CoordinationCodec.WriteList(writer, watch.Events, static (w, e) =>
                {
                    w.Byte((byte)e.Type);
                    CoordinationCodec.Write(w, e.Kv);
                    CoordinationCodec.WriteOptional(w, e.PrevKv);
                });

                break;
            case LeaseTimeToLiveResponse ttl:
                writer.Byte((byte)QueryTag.TimeToLive);
                writer.Long(ttl.Revision);
                writer.Long(ttl.ID);
                writer.Long(ttl.TTL);
                writer.Long(ttl.GrantedTTL);
                CoordinationCodec.WriteList(writer, ttl.Keys, static (w, key) => w.Bytes(key));

                break;
            case LeaseLeasesResponse leases:
                writer.Byte((byte)QueryTag.Leases);
                writer.Long(leases.Revision);
                CoordinationCodec.WriteList(writer, leases.Leases, static (w, id) => w.Long(id));

                break;
            default:
                throw new ArgumentException($"{response?.GetType().Name ?? "null"} is not a query's answer.", nameof(response));
        }

        return writer.ToArray();
    }

    /// <summary>The answer's response, or its refusal thrown as a <see cref="CoordinationException"/>.</summary>
    public static T DecodeAnswer<T>(ReadOnlySpan<byte> data)
        where T : ICoordinationResponse
    {
        var reader = new CodecReader(data);
        Version(reader, ResultVersion, "answer");
        if (!reader.Bool("answer ok"))
        {
            var error = CoordinationCodec.ReadError(reader);
            reader.End("answer");
            throw new CoordinationException(error);
        }

        ICoordinationResponse response = reader.Enum<QueryTag>("answer kind") switch
        {
            QueryTag.Range => CoordinationCodec.ReadResponse(reader),
            QueryTag.Watch => new WatchResponse(reader.Long("revision"), CoordinationCodec.ReadList(reader, "events", r =>
                new Event(r.Enum<EventType>("event type"), CoordinationCodec.ReadKeyValue(r), CoordinationCodec.ReadOptionalKeyValue(r)))),
            QueryTag.TimeToLive => new LeaseTimeToLiveResponse(
                reader.Long("revision"), reader.Long("lease id"), reader.Long("ttl"), reader.Long("granted ttl"),
                CoordinationCodec.ReadList(reader, "lease keys", r => r.Bytes("key"))),
            QueryTag.Leases => new LeaseLeasesResponse(reader.Long("revision"), CoordinationCodec.ReadList(reader, "leases", r => r.Long("lease id"))),
            var tag => throw reader.Garbage($"unknown answer kind {(byte)tag}"),
        };
        reader.End("answer");
        return response is T typed
            ? typed
            : throw new FormatException($"Expected a {typeof(T).Name} answer, got {response.GetType().Name}.");
    }

    internal static void WriteResult(CodecWriter writer, CoordinationResult result)
    {
        writer.Long(result.Index);
        writer.Bool(result.Error is null);
        if (result.Error is null)
        {
            CoordinationCodec.WriteResponse(writer, result.Response!);
        }
        else
        {
            CoordinationCodec.Write(writer, result.Error);
        }
    }

    internal static CoordinationResult ReadResult(CodecReader reader)
    {
        var index = reader.Long("result index");
        return reader.Bool("result ok")
            ? new CoordinationResult(index, CoordinationCodec.ReadResponse(reader), null)
            : new CoordinationResult(index, null, CoordinationCodec.ReadError(reader));
    }

    private static void Version(CodecReader reader, byte expected, string what)
    {
        var version = reader.Byte($"{what} format version");
        if (version != expected)
        {
            throw new FormatException($"Coordination {what} format {version} is not supported (expected {expected}).");
        }
    }
}
