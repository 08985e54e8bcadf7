namespace Orleans.Patterns.Coordination;

/// <summary>The binary form of requests, responses and store contents, shared by commands and snapshots.</summary>
internal static partial class CoordinationCodec
{
    // Nested transactions recurse; garbage must not be able to overflow the stack.
    private const int MaxTxnDepth = 64;

    public static void Write(CodecWriter w, KeyValue kv)
    {
        w.Bytes(kv.Key);
        w.Long(kv.CreateRevision);
        w.Long(kv.ModRevision);
        w.Long(kv.Version);
        w.Bytes(kv.Value);
        w.Long(kv.Lease);
    }

    public static KeyValue ReadKeyValue(CodecReader r) =>
        new(r.Bytes("key"), r.Long("create_revision"), r.Long("mod_revision"), r.Long("version"), r.Bytes("value"), r.Long("lease"));

    public static void WriteOptional(CodecWriter w, KeyValue? kv)
    {
        w.Bool(kv is not null);
        if (kv is not null)
        {
            Write(w, kv);
        }
    }

    public static KeyValue? ReadOptionalKeyValue(CodecReader r) => r.Bool("kv present") ? ReadKeyValue(r) : null;

    public static void Write(CodecWriter w, CoordinationError error)
    {
        w.Byte((byte)error.Code);
        w.String(error.Message);
        w.Long(error.Revision);
    }

    public static CoordinationError ReadError(CodecReader r) =>
        new(r.Enum<CoordinationErrorCode>("error code"), r.String("error message"), r.Long("error revision"));

    /// <summary>A count, then each item: what <see cref="ReadList"/> reads back.</summary>
    public static void WriteList<T>(CodecWriter w, IReadOnlyList<T> items, Action<CodecWriter, T> write)
    {
        w.Count(items.Count);
        foreach (var item in items)
        {
            write(w, item);
        }
    }

    public static List<T> ReadList<T>(CodecReader r, string what, Func<CodecReader, T> read)
    {
        var count = r.Count(what);
        var items = new List<T>(count);
        for (var i = 0; i < count; i++)
        {
            items.Add(read(r));
        }

        return items;
    }
}
