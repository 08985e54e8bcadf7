namespace Orleans.Patterns.Coordination;

/// <summary>
/// One version of a key, as etcd's <c>mvccpb.KeyValue</c>: the revision that created the key's current generation,
/// the revision of its last change, how many times it changed in this generation (a delete resets it to 0), its value
/// and the lease it is attached to (0: none). The store hands out its own instances: treat the arrays as read-only.
/// </summary>
public sealed record KeyValue(byte[] Key, long CreateRevision, long ModRevision, long Version, byte[] Value, long Lease)
{
    /// <inheritdoc/>
    public bool Equals(KeyValue? other) =>
        other is not null && Key.AsSpan().SequenceEqual(other.Key) && CreateRevision == other.CreateRevision &&
        ModRevision == other.ModRevision && Version == other.Version && Value.AsSpan().SequenceEqual(other.Value) && Lease == other.Lease;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(ByteKeys.Hash(Key), ModRevision, Version);
}

/// <summary>What a watch event records, as etcd's <c>mvccpb.Event.EventType</c>.</summary>
public enum EventType : byte
{
    Put = 0,
    Delete = 1,
}

/// <summary>
/// One change seen by a watcher, as etcd's <c>mvccpb.Event</c>. For a delete, <see cref="Kv"/> carries only the key
/// and the deleting revision as its <see cref="KeyValue.ModRevision"/>; <see cref="PrevKv"/> is set only when the
/// watcher asked for it and the key had a value before.
/// </summary>
public sealed record Event(EventType Type, KeyValue Kv, KeyValue? PrevKv);

/// <summary>Byte-string keys in etcd's order (unsigned lexicographic) and its range conventions.</summary>
public static class ByteKeys
{
    /// <summary>Orders keys byte by byte, unsigned, a shorter prefix first.</summary>
    public static IComparer<byte[]> Comparer { get; } = Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b));

    /// <summary>Equality by content, for sets of keys.</summary>
    public static IEqualityComparer<byte[]> EqualityComparer { get; } =
        EqualityComparer<byte[]>.Create((a, b) => a.AsSpan().SequenceEqual(b), key => Hash(key));

    /// <summary>The range end that selects every key from the start key on (etcd's <c>"\0"</c>).</summary>
    public static byte[] AllFrom => [0];

    /// <summary>
    /// The range end that selects every key with the given prefix: the prefix with its last byte below 0xff incremented
    /// and what follows it dropped; a prefix of only 0xff bytes (or empty) has no such end, so it selects every key from it.
    /// </summary>
    public static byte[] PrefixEnd(ReadOnlySpan<byte> prefix)
    {
        for (var i = prefix.Length - 1; i >= 0; i--)
        {
            if (prefix[i] < 0xff)
            {
                var end = prefix[..(i + 1)].ToArray();
                end[i]++;
                return end;
            }
        }

        return AllFrom;
    }

    /// <summary>
    /// Whether <paramref name="key"/> lies in the range etcd's requests describe by <c>key</c> and <c>range_end</c>:
    /// an empty end selects the start key alone, <c>"\0"</c> every key from the start on, otherwise [start, end).
    /// </summary>
    public static bool InRange(ReadOnlySpan<byte> key, ReadOnlySpan<byte> start, ReadOnlySpan<byte> end)
    {
        if (end.IsEmpty)
        {
            return key.SequenceEqual(start);
        }

        return key.SequenceCompareTo(start) >= 0 && (IsAllFrom(end) || key.SequenceCompareTo(end) < 0);
    }

    internal static bool IsAllFrom(ReadOnlySpan<byte> end) => end.Length == 1 && end[0] == 0;

    internal static int Hash(ReadOnlySpan<byte> bytes)
    {
        var hash = new HashCode();
        hash.AddBytes(bytes);
        return hash.ToHashCode();
    }
}
