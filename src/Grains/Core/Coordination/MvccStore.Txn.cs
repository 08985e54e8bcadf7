namespace Orleans.Patterns.Coordination;

public sealed partial class MvccStore
{
    /// <summary>
    /// Applies a transaction atomically. As in etcd, every compare (nested ones too) is evaluated against the store as
    /// it was before the transaction, the chosen ops are checked, and only then applied, all at one revision (which
    /// moves only if an op wrote).
    /// </summary>
    public TxnResponse Txn(TxnRequest request)
    {
        _ = WritesOf(request);
        var plan = Plan(request);
        Check(plan);
        BeginWrite();
        var response = Execute(plan);
        EndWrite();
        return Stamp(response, Revision);
    }

    private void ValidateKey(byte[] key)
    {
        if (key.Length == 0)
        {
            throw CoordinationException.Of(CoordinationErrorCode.EmptyKey, "etcdserver: key is not provided");
        }

        if (key.Length > Limits.MaxKeyBytes)
        {
            throw CoordinationException.Limit(CoordinationErrorCode.KeyTooLarge, "key is too large", "max key bytes", key.Length, Limits.MaxKeyBytes);
        }
    }

    private void ValidatePut(PutRequest request)
    {
        ValidateKey(request.Key);
        if (request.Value.Length > Limits.MaxValueBytes)
        {
            throw CoordinationException.Limit(CoordinationErrorCode.ValueTooLarge, "value is too large", "max value bytes", request.Value.Length, Limits.MaxValueBytes);
        }

        if (request.IgnoreValue && request.Value.Length != 0)
        {
            throw CoordinationException.Of(CoordinationErrorCode.ValueProvided, "etcdserver: value is provided");
        }

        if (request.IgnoreLease && request.Lease != 0)
        {
            throw CoordinationException.Of(CoordinationErrorCode.LeaseProvided, "etcdserver: lease is provided");
        }
    }

    private void CheckPut(PutRequest request)
    {
        if ((request.IgnoreValue || request.IgnoreLease) && Find(request.Key)?.Current is null)
        {
            throw CoordinationException.Of(CoordinationErrorCode.KeyNotFound, "etcdserver: key not found");
        }

        if (!request.IgnoreLease && request.Lease != 0 && !_leases.ContainsKey(request.Lease))
        {
            throw CoordinationException.Of(CoordinationErrorCode.LeaseNotFound, $"etcdserver: requested lease not found (lease {request.Lease})");
        }
    }

    // Checks that need no state: limits at every level, keys, and etcd's rule that the ops that may run together
    // never put one key twice nor put a key they also delete; one pass over the request, however deeply nested.
    // A transaction's writes are the union of its two branches', which never run together.
    private (HashSet<byte[]> Puts, List<(byte[] Key, byte[] End)> Deletes) WritesOf(TxnRequest request)
    {
        CheckOpCount("compares", request.Compare.Count);
        CheckOpCount("success ops", request.Success.Count);
        CheckOpCount("failure ops", request.Failure.Count);
        foreach (var compare in request.Compare)
        {
            ValidateKey(compare.Key);
        }

        var (puts, deletes) = WritesOf(request.Success);
        var (failurePuts, failureDeletes) = WritesOf(request.Failure);
        puts.UnionWith(failurePuts);
        deletes.AddRange(failureDeletes);
        return (puts, deletes);
    }

    private void CheckOpCount(string what, int count)
    {
        if (count > Limits.MaxTxnOps)
        {
            throw CoordinationException.Limit(CoordinationErrorCode.TooManyOps, $"etcdserver: too many operations in txn request: {what}", "max txn ops", count, Limits.MaxTxnOps);
        }
    }

    // The keys a branch may put and the ranges it may delete. Direct ops form one group and each nested transaction
    // another; groups must not conflict with each other.
    private (HashSet<byte[]> Puts, List<(byte[] Key, byte[] End)> Deletes) WritesOf(IReadOnlyList<RequestOp> ops)
    {
        var groups = new List<(HashSet<byte[]> Puts, List<(byte[] Key, byte[] End)> Deletes)>();
        var direct = (Puts: new HashSet<byte[]>(ByteKeys.EqualityComparer), Deletes: new List<(byte[] Key, byte[] End)>());
        groups.Add(direct);
        foreach (var op in ops)
        {
            if (op.RequestPut is { } put)
            {
                ValidatePut(put);
                if (!direct.Puts.Add(put.Key))
                {
                    throw DuplicateKey();
                }
            }
            else if (op.RequestDeleteRange is { } delete)
            {
                ValidateKey(delete.Key);
                direct.Deletes.Add((delete.Key, delete.RangeEnd));
            }
            else if (op.RequestRange is { } range)
            {
                ValidateKey(range.Key);
            }
            else if (op.RequestTxn is { } txn)
            {
                groups.Add(WritesOf(txn));
            }
        }

        // Within the direct group: a put under a delete of the same branch.
        if (direct.Puts.Any(key => direct.Deletes.Any(d => ByteKeys.InRange(key, d.Key, d.End))))
        {
            throw DuplicateKey();
        }

        for (var i = 0; i < groups.Count; i++)
        {
            for (var j = i + 1; j < groups.Count; j++)
            {
                if (groups[i].Puts.Overlaps(groups[j].Puts) || Covers(groups[i].Deletes, groups[j].Puts) || Covers(groups[j].Deletes, groups[i].Puts))
                {
                    throw DuplicateKey();
                }
            }
        }

        var puts = new HashSet<byte[]>(ByteKeys.EqualityComparer);
        var deletes = new List<(byte[] Key, byte[] End)>();
        foreach (var group in groups)
        {
            puts.UnionWith(group.Puts);
            deletes.AddRange(group.Deletes);
        }

        return (puts, deletes);
    }

    private static bool Covers(List<(byte[] Key, byte[] End)> deletes, HashSet<byte[]> puts) =>
        puts.Any(key => deletes.Any(d => ByteKeys.InRange(key, d.Key, d.End)));

    private static CoordinationException DuplicateKey() =>
        CoordinationException.Of(CoordinationErrorCode.DuplicateKey, "etcdserver: duplicate key given in txn request");

    private TxnPlan Plan(TxnRequest request)
    {
        var succeeded = request.Compare.All(Holds);
        var ops = succeeded ? request.Success : request.Failure;
        var nested = new Dictionary<int, TxnPlan>();
        for (var i = 0; i < ops.Count; i++)
        {
            if (ops[i].RequestTxn is { } txn)
            {
                nested[i] = Plan(txn);
            }
        }

        return new TxnPlan(succeeded, ops, nested);
    }

    private bool Holds(Compare compare)
    {
        var kvs = InRange(compare.Key, compare.RangeEnd).Select(h => h.Current).OfType<KeyValue>().ToList();
        if (kvs.Count == 0)
        {
            // An absent key reads as zeros, but its value cannot be told from an empty one, so value compares fail.
            return compare.Target != CompareTarget.Value && Holds(compare, new KeyValue(compare.Key, 0, 0, 0, [], 0));
        }

        return kvs.All(kv => Holds(compare, kv));
    }

    private static bool Holds(Compare compare, KeyValue kv)
    {
        var order = compare.Target switch
        {
            CompareTarget.Version => kv.Version.CompareTo(compare.Version),
            CompareTarget.Create => kv.CreateRevision.CompareTo(compare.CreateRevision),
            CompareTarget.Mod => kv.ModRevision.CompareTo(compare.ModRevision),
            CompareTarget.Lease => kv.Lease.CompareTo(compare.Lease),
            _ => kv.Value.AsSpan().SequenceCompareTo(compare.Value),
        };
        return compare.Result switch
        {
            CompareResult.Equal => order == 0,
            CompareResult.Greater => order > 0,
            CompareResult.Less => order < 0,
            _ => order != 0,
        };
    }

    private void Check(TxnPlan plan)
    {
        for (var i = 0; i < plan.Ops.Count; i++)
        {
            var op = plan.Ops[i];
            if (op.RequestRange is { } range)
            {
                CheckReadRevision(range.Revision);
            }
            else if (op.RequestPut is { } put)
            {
                CheckPut(put);
            }
            else if (op.RequestTxn is not null)
            {
                Check(plan.Nested[i]);
            }
        }
    }

    private TxnResponse Execute(TxnPlan plan)
    {
        var responses = new List<ResponseOp>(plan.Ops.Count);
        for (var i = 0; i < plan.Ops.Count; i++)
        {
            var op = plan.Ops[i];
            responses.Add(
                op.RequestRange is { } range ? ReadRange(range) :
                op.RequestPut is { } put ? ApplyPut(put) :
                op.RequestDeleteRange is { } delete ? ApplyDelete(delete) :
                Execute(plan.Nested[i]));
        }

        return new TxnResponse(0, plan.Succeeded, responses);
    }

    // Every response in a transaction carries the transaction's revision (etcd sets the nested headers alike).
    private static TxnResponse Stamp(TxnResponse response, long revision) => response with
    {
        Revision = revision,
        Responses = response.Responses.Select(op =>
            op.ResponseRange is { } range ? (ResponseOp)(range with { Revision = revision }) :
            op.ResponsePut is { } put ? put with { Revision = revision } :
            op.ResponseDeleteRange is { } delete ? delete with { Revision = revision } :
            Stamp(op.ResponseTxn!, revision)).ToList(),
    };

    /// <summary>The branch a transaction takes, decided before any of its ops apply, with the plans of its nested transactions by op position.</summary>
    private sealed record TxnPlan(bool Succeeded, IReadOnlyList<RequestOp> Ops, Dictionary<int, TxnPlan> Nested);
}
