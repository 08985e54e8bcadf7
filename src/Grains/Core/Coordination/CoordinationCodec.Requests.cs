namespace Orleans.Patterns.Coordination;

internal static partial class CoordinationCodec
{
    private enum WriteTag : byte
    {
        Put = 1,
        DeleteRange = 2,
        Txn = 3,
        Compaction = 4,
        LeaseGrant = 5,
        LeaseRevoke = 6,
        LeaseKeepAlive = 7,
        ExpireLeases = 8,
        PromoteLeases = 9,
        RefreshLeases = 10,
    }

    public static void WriteRequest(CodecWriter w, ICoordinationWrite request)
    {
        switch (request)
        {
            case PutRequest put:
                w.Byte((byte)WriteTag.Put);
                Write(w, put);
                break;
            case DeleteRangeRequest delete:
                w.Byte((byte)WriteTag.DeleteRange);
                Write(w, delete);
                break;
            case TxnRequest txn:
                w.Byte((byte)WriteTag.Txn);
                Write(w, txn);
                break;
            case CompactionRequest compaction:
                w.Byte((byte)WriteTag.Compaction);
                w.Long(compaction.Revision);
                break;
            case LeaseGrantRequest grant:
                w.Byte((byte)WriteTag.LeaseGrant);
                w.Long(grant.TTL);
                w.Long(grant.ID);
                w.Long(grant.NowMillis);
                break;
            case LeaseRevokeRequest revoke:
                w.Byte((byte)WriteTag.LeaseRevoke);
                w.Long(revoke.ID);
                break;
            case LeaseKeepAliveRequest keepAlive:
                w.Byte((byte)WriteTag.LeaseKeepAlive);
                w.Long(keepAlive.ID);
                w.Long(keepAlive.NowMillis);
                break;
            case ExpireLeasesRequest expire:
                w.Byte((byte)WriteTag.ExpireLeases);
                w.Long(expire.NowMillis);
                break;
            case PromoteLeasesRequest promote:
                w.Byte((byte)WriteTag.PromoteLeases);
                w.Long(promote.NowMillis);
                break;
            case RefreshLeasesRequest refresh:
                w.Byte((byte)WriteTag.RefreshLeases);
                WriteList(w, refresh.Leases, static (w, lease) =>
                {
                    w.Long(lease.ID);
                    w.Long(lease.RenewedAtMillis);
                });
                break;
            default:
                throw new ArgumentException($"{request.GetType().Name} is not a coordination write.", nameof(request));
        }
    }

    public static ICoordinationWrite ReadRequest(CodecReader r) => r.Enum<WriteTag>("request kind") switch
    {
        WriteTag.Put => ReadPut(r),
        WriteTag.DeleteRange => ReadDeleteRange(r),
        WriteTag.Txn => ReadTxn(r, 0),
        WriteTag.Compaction => new CompactionRequest(r.Long("revision")),
        WriteTag.LeaseGrant => new LeaseGrantRequest(r.Long("TTL"), r.Long("ID"), r.Long("now")),
        WriteTag.LeaseRevoke => new LeaseRevokeRequest(r.Long("ID")),
        WriteTag.LeaseKeepAlive => new LeaseKeepAliveRequest(r.Long("ID"), r.Long("now")),
        WriteTag.ExpireLeases => new ExpireLeasesRequest(r.Long("now")),
        WriteTag.PromoteLeases => new PromoteLeasesRequest(r.Long("now")),
        _ => new RefreshLeasesRequest(ReadList(r, "renewed leases", static reader => new LeaseRenewedAt(reader.Long("ID"), reader.Long("renewed at")))),
    };

    private static void Write(CodecWriter w, PutRequest put)
    {
        w.Bytes(put.Key);
        w.Bytes(put.Value);
        w.Long(put.Lease);
        w.Bool(put.PrevKv);
        w.Bool(put.IgnoreValue);
        w.Bool(put.IgnoreLease);
    }

    private static PutRequest ReadPut(CodecReader r) => new(r.Bytes("key"), r.Bytes("value"))
    {
        Lease = r.Long("lease"),
        PrevKv = r.Bool("prev_kv"),
        IgnoreValue = r.Bool("ignore_value"),
        IgnoreLease = r.Bool("ignore_lease"),
    };

    private static void Write(CodecWriter w, DeleteRangeRequest delete)
    {
        w.Bytes(delete.Key);
        w.Bytes(delete.RangeEnd);
        w.Bool(delete.PrevKv);
    }

    private static DeleteRangeRequest ReadDeleteRange(CodecReader r) => new(r.Bytes("key")) { RangeEnd = r.Bytes("range_end"), PrevKv = r.Bool("prev_kv") };

    public static void WriteRange(CodecWriter w, RangeRequest range) => Write(w, range);

    public static RangeRequest ReadRangeRequest(CodecReader r) => ReadRange(r);

    private static void Write(CodecWriter w, RangeRequest range)
    {
        w.Bytes(range.Key);
        w.Bytes(range.RangeEnd);
        w.Long(range.Limit);
        w.Long(range.Revision);
        w.Byte((byte)range.SortOrder);
        w.Byte((byte)range.SortTarget);
        w.Bool(range.Serializable);
        w.Bool(range.KeysOnly);
        w.Bool(range.CountOnly);
        w.Long(range.MinModRevision);
        w.Long(range.MaxModRevision);
        w.Long(range.MinCreateRevision);
        w.Long(range.MaxCreateRevision);
    }

    private static RangeRequest ReadRange(CodecReader r) => new(r.Bytes("key"))
    {
        RangeEnd = r.Bytes("range_end"),
        Limit = r.Long("limit"),
        Revision = r.Long("revision"),
        SortOrder = r.Enum<SortOrder>("sort_order"),
        SortTarget = r.Enum<SortTarget>("sort_target"),
        Serializable = r.Bool("serializable"),
        KeysOnly = r.Bool("keys_only"),
        CountOnly = r.Bool("count_only"),
        MinModRevision = r.Long("min_mod_revision"),
        MaxModRevision = r.Long("max_mod_revision"),
        MinCreateRevision = r.Long("min_create_revision"),
        MaxCreateRevision = r.Long("max_create_revision"),
    };

    private static void Write(CodecWriter w, Compare compare)
    {
        w.Bytes(compare.Key);
        w.Bytes(compare.RangeEnd);
        w.Byte((byte)compare.Target);
        w.Byte((byte)compare.Result);
        w.Long(compare.Version);
        w.Long(compare.CreateRevision);
        w.Long(compare.ModRevision);
        w.Bytes(compare.Value);
        w.Long(compare.Lease);
    }

    private static Compare ReadCompare(CodecReader r)
    {
        var key = r.Bytes("compare key");
        var end = r.Bytes("compare range_end");
        return new Compare(key, r.Enum<CompareTarget>("compare target"), r.Enum<CompareResult>("compare result"))
        {
            RangeEnd = end,
            Version = r.Long("compare version"),
            CreateRevision = r.Long("compare create_revision"),
            ModRevision = r.Long("compare mod_revision"),
            Value = r.Bytes("compare value"),
            Lease = r.Long("compare lease"),
        };
    }

    private static void Write(CodecWriter w, TxnRequest txn)
    {
        w.Count(txn.Compare.Count);
        foreach (var compare in txn.Compare)
        {
            Write(w, compare);
        }

        WriteOps(w, txn.Success);
        WriteOps(w, txn.Failure);
    }

    private static void WriteOps(CodecWriter w, IReadOnlyList<RequestOp> ops)
    {
        w.Count(ops.Count);
        foreach (var op in ops)
        {
            if (op.RequestRange is { } range)
            {
                w.Byte(1);
                Write(w, range);
            }
            else if (op.RequestPut is { } put)
            {
                w.Byte(2);
                Write(w, put);
            }
            else if (op.RequestDeleteRange is { } delete)
            {
                w.Byte(3);
                Write(w, delete);
            }
            else
            {
                w.Byte(4);
                Write(w, op.RequestTxn!);
            }
        }
    }

    private static TxnRequest ReadTxn(CodecReader r, int depth)
    {
        if (depth >= MaxTxnDepth)
        {
            throw r.Garbage($"transactions nested deeper than {MaxTxnDepth}");
        }

        var compares = ReadList(r, "compares", ReadCompare);
        var success = ReadList(r, "success ops", reader => ReadOp(reader, depth));
        var failure = ReadList(r, "failure ops", reader => ReadOp(reader, depth));
        return new TxnRequest(compares, success, failure);
    }

    private static RequestOp ReadOp(CodecReader r, int depth) => r.Byte("op kind") switch
    {
        1 => ReadRange(r),
        2 => ReadPut(r),
        3 => ReadDeleteRange(r),
        4 => ReadTxn(r, depth + 1),
        var other => throw r.Garbage($"op kind {other} is not range, put, delete or txn"),
    };
}
