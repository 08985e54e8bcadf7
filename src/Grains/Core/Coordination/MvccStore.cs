namespace Orleans.Patterns.Coordination;

/// <summary>
/// etcd's multi-version key/value store as a pure, deterministic core: one cluster-wide <see cref="Revision"/> (1 when
/// empty) that every write request or transaction with writes moves on by exactly one, per-key generations, history
/// for reads and watches at older revisions until <see cref="Compact"/>, and leases. Time enters only through the
/// requests (the leader's clock), so every replica that applies the same requests holds the same store.
/// Refusals throw <see cref="CoordinationException"/> before anything changes.
/// </summary>
public sealed partial class MvccStore
{
    // Every key ever written and not yet compacted away, in byte order; a sorted list so a range is a binary search
    // and a walk. Keys are only removed by compaction, so live and deleted keys share one index.
    private readonly SortedList<byte[], KeyHistory> _keys = new(ByteKeys.Comparer);

    // Writes under way at revision Revision + 1: the position of the next change within it, -1 when none is open.
    private int _sub = -1;

    public MvccStore(CoordinationLimits? limits = null) => Limits = limits ?? CoordinationLimits.Default;

    public CoordinationLimits Limits { get; }

    /// <summary>The revision of the last change (1 for an empty store, as etcd); watchers use it for progress notifications.</summary>
    public long Revision { get; private set; } = 1;

    /// <summary>Reads and watches below this revision are refused (0: nothing compacted).</summary>
    public long CompactRevision { get; private set; }

    /// <summary>Reads keys at the current or an older revision.</summary>
    public RangeResponse Range(RangeRequest request)
    {
        ValidateKey(request.Key);
        CheckReadRevision(request.Revision);
        return ReadRange(request) with { Revision = Revision };
    }

    /// <summary>Sets one key at a new revision.</summary>
    public PutResponse Put(PutRequest request)
    {
        ValidatePut(request);
        CheckPut(request);
        BeginWrite();
        var response = ApplyPut(request);
        EndWrite();
        return response with { Revision = Revision };
    }

    /// <summary>Deletes every live key in the range at one new revision; deleting nothing leaves the revision as it is.</summary>
    public DeleteRangeResponse DeleteRange(DeleteRangeRequest request)
    {
        ValidateKey(request.Key);
        BeginWrite();
        var response = ApplyDelete(request);
        EndWrite();
        return response with { Revision = Revision };
    }

    /// <summary>
    /// Drops the history below <paramref name="request"/>'s revision: each key keeps its versions from that revision on
    /// and the one live just before it. The revision must be above the last compaction and at most the current one.
    /// </summary>
    public CompactionResponse Compact(CompactionRequest request)
    {
        if (request.Revision <= CompactRevision)
        {
            throw CoordinationException.Compacted(CompactRevision);
        }

        if (request.Revision > Revision)
        {
            throw CoordinationException.Future(Revision);
        }

        var emptied = new List<byte[]>();
        foreach (var history in _keys.Values)
        {
            if (history.Compact(request.Revision))
            {
                emptied.Add(history.Key);
            }
        }

        foreach (var key in emptied)
        {
            _keys.Remove(key);
        }

        CompactRevision = request.Revision;
        return new CompactionResponse(Revision);
    }

    private void CheckReadRevision(long revision)
    {
        if (revision > Revision)
        {
            throw CoordinationException.Future(Revision);
        }

        if (revision > 0 && revision < CompactRevision)
        {
            throw CoordinationException.Compacted(CompactRevision);
        }
    }

    private RangeResponse ReadRange(RangeRequest request)
    {
        // Inside a transaction that has written, reads see its writes (as etcd's write transactions do).
        var revision = request.Revision > 0 ? request.Revision : Revision + (_sub > 0 ? 1 : 0);
        var found = new List<KeyValue>();
        foreach (var history in InRange(request.Key, request.RangeEnd))
        {
            if (history.At(revision) is { } kv)
            {
                found.Add(kv);
            }
        }

        var count = found.Count;
        if (request.CountOnly)
        {
            return new RangeResponse(0, [], false, count);
        }

        IEnumerable<KeyValue> kvs = found.Where(kv =>
            (request.MinModRevision == 0 || kv.ModRevision >= request.MinModRevision) &&
            (request.MaxModRevision == 0 || kv.ModRevision <= request.MaxModRevision) &&
            (request.MinCreateRevision == 0 || kv.CreateRevision >= request.MinCreateRevision) &&
            (request.MaxCreateRevision == 0 || kv.CreateRevision <= request.MaxCreateRevision));
        kvs = Sort(kvs, request.SortOrder, request.SortTarget);
        var list = kvs.ToList();
        var more = request.Limit > 0 && list.Count > request.Limit;
        if (more)
        {
            list.RemoveRange((int)request.Limit, list.Count - (int)request.Limit);
        }

        if (request.KeysOnly)
        {
            list = list.ConvertAll(kv => kv with { Value = [] });
        }

        return new RangeResponse(0, list, more, count);
    }

    private static IEnumerable<KeyValue> Sort(IEnumerable<KeyValue> kvs, SortOrder order, SortTarget target)
    {
        // The index yields keys in ascending order; like etcd, a target other than the key sorts ascending by default.
        if (order == SortOrder.None && target != SortTarget.Key)
        {
            order = SortOrder.Ascend;
        }

        if (order == SortOrder.None || (order == SortOrder.Ascend && target == SortTarget.Key))
        {
            return kvs;
        }

        if (target == SortTarget.Key)
        {
            return kvs.Reverse();
        }

        // Stable sorts: ties keep key order, so every replica answers alike.
        return (target, order) switch
        {
            (SortTarget.Value, SortOrder.Ascend) => kvs.OrderBy(kv => kv.Value, ByteKeys.Comparer),
            (SortTarget.Value, _) => kvs.OrderByDescending(kv => kv.Value, ByteKeys.Comparer),
            (_, SortOrder.Ascend) => kvs.OrderBy(kv => SortField(kv, target)),
            _ => kvs.OrderByDescending(kv => SortField(kv, target)),
        };
    }

    private static long SortField(KeyValue kv, SortTarget target) => target switch
    {
        SortTarget.Version => kv.Version,
        SortTarget.Create => kv.CreateRevision,
        _ => kv.ModRevision,
    };

    private PutResponse ApplyPut(PutRequest request)
    {
        var current = Find(request.Key)?.Current;
        var value = request.IgnoreValue ? current!.Value : request.Value.ToArray();
        var lease = request.IgnoreLease ? current!.Lease : request.Lease;
        var previous = WriteKey(request.Key, value, lease);
        return new PutResponse(0, request.PrevKv ? previous : null);
    }

    private DeleteRangeResponse ApplyDelete(DeleteRangeRequest request)
    {
        var live = InRange(request.Key, request.RangeEnd).Where(h => h.Current is not null).ToList();
        var previous = live.ConvertAll(DeleteKey);
        return new DeleteRangeResponse(0, previous.Count, request.PrevKv ? previous : []);
    }

    private void BeginWrite() => _sub = 0;

    // A write request that changed nothing (a delete that matched no key) does not move the revision, as in etcd.
    private void EndWrite()
    {
        if (_sub > 0)
        {
            Revision++;
        }

        _sub = -1;
    }

    private KeyValue? WriteKey(byte[] key, byte[] value, long lease)
    {
        if (!_keys.TryGetValue(key, out var history))
        {
            history = new KeyHistory(key.ToArray());
            _keys.Add(history.Key, history);
        }

        var previous = history.Current;
        var revision = Revision + 1;
        var kv = new KeyValue(history.Key, previous?.CreateRevision ?? revision, revision, (previous?.Version ?? 0) + 1, value, lease);
        history.Entries.Add(new KeyRevision(revision, _sub++, kv));
        if (previous is { Lease: not 0 } && previous.Lease != lease)
        {
            Detach(previous.Lease, history.Key);
        }

        if (lease != 0)
        {
            _leases[lease].Keys.Add(history.Key);
        }

        return previous;
    }

    private KeyValue DeleteKey(KeyHistory history)
    {
        var previous = history.Current!;
        history.Entries.Add(new KeyRevision(Revision + 1, _sub++, null));
        if (previous.Lease != 0)
        {
            Detach(previous.Lease, history.Key);
        }

        return previous;
    }

    private KeyHistory? Find(byte[] key) => _keys.GetValueOrDefault(key);

    private IEnumerable<KeyHistory> InRange(byte[] key, byte[] rangeEnd)
    {
        if (rangeEnd.Length == 0)
        {
            if (_keys.TryGetValue(key, out var single))
            {
                yield return single;
            }

            yield break;
        }

        var keys = _keys.Keys;
        var all = ByteKeys.IsAllFrom(rangeEnd);
        for (var i = LowerBound(key); i < keys.Count && (all || ByteKeys.Comparer.Compare(keys[i], rangeEnd) < 0); i++)
        {
            yield return _keys.Values[i];
        }
    }

    private int LowerBound(byte[] key)
    {
        var keys = _keys.Keys;
        int low = 0, high = keys.Count;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (ByteKeys.Comparer.Compare(keys[middle], key) < 0)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    /// <summary>One change of a key: the revision, its position among that revision's changes, and the new version (null: deleted).</summary>
    private readonly record struct KeyRevision(long Main, int Sub, KeyValue? Kv);

    /// <summary>A key's versions in revision order, across generations (a delete ends one, the next put starts another).</summary>
    private sealed class KeyHistory(byte[] key)
    {
        public byte[] Key { get; } = key;

        public List<KeyRevision> Entries { get; } = [];

        public KeyValue? Current => Entries.Count == 0 ? null : Entries[^1].Kv;

        public KeyValue? At(long revision)
        {
            for (var i = Entries.Count - 1; i >= 0; i--)
            {
                if (Entries[i].Main <= revision)
                {
                    return Entries[i].Kv;
                }
            }

            return null;
        }

        /// <summary>Keeps the changes from <paramref name="revision"/> on and the version live just before; true when nothing is left.</summary>
        public bool Compact(long revision)
        {
            var first = Entries.FindIndex(e => e.Main >= revision);
            if (first < 0)
            {
                first = Entries.Count;
            }

            var keepFrom = first > 0 && Entries[first - 1].Kv is not null ? first - 1 : first;
            Entries.RemoveRange(0, keepFrom);
            return Entries.Count == 0;
        }
    }
}
