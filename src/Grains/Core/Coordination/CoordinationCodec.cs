namespace Orleans.Patterns.Coordination;

/// <summary>The binary form of requests, responses and store contents, shared by commands and snapshots.</summary>
internal static class CoordinationCodec
{
    // Nested transactions recurse; garbage must not be able to overflow the stack.
    private const int MaxTxnDepth = 64;

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
    }

    private enum ResponseTag : byte
    {
        Range = 1,
        Put = 2,
        DeleteRange = 3,
        Txn = 4,
        Compaction = 5,
        LeaseGrant = 6,
        LeaseRevoke = 7,
        LeaseKeepAlive = 8,
        ExpireLeases = 9,
        PromoteLeases = 10,
    }

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
        _ => new PromoteLeasesRequest(r.Long("now")),
    };

    public static void WriteResponse(CodecWriter w, ICoordinationResponse response)
    {
        switch (response)
        {
            case RangeResponse range:
                w.Byte((byte)ResponseTag.Range);
                w.Long(range.Revision);
                w.Count(range.Kvs.Count);
                foreach (var kv in range.Kvs)
                {
                    Write(w, kv);
                }

                w.Bool(range.More);
                w.Long(range.Count);
                break;
            case PutResponse put:
                w.Byte((byte)ResponseTag.Put);
                w.Long(put.Revision);
                WriteOptional(w, put.PrevKv);
                break;
            case DeleteRangeResponse delete:
                w.Byte((byte)ResponseTag.DeleteRange);
                w.Long(delete.Revision);
                w.Long(delete.Deleted);
                w.Count(delete.PrevKvs.Count);
                foreach (var kv in delete.PrevKvs)
                {
                    Write(w, kv);
                }

                break;
            case TxnResponse txn:
                w.Byte((byte)ResponseTag.Txn);
                w.Long(txn.Revision);
                w.Bool(txn.Succeeded);
                w.Count(txn.Responses.Count);
                foreach (var op in txn.Responses)
                {
                    WriteResponse(w, (ICoordinationResponse?)op.ResponseRange ?? (ICoordinationResponse?)op.ResponsePut ?? (ICoordinationResponse?)op.ResponseDeleteRange ?? op.ResponseTxn!);
                }

                break;
            case CompactionResponse compaction:
                w.Byte((byte)ResponseTag.Compaction);
                w.Long(compaction.Revision);
                break;
            case LeaseGrantResponse grant:
                w.Byte((byte)ResponseTag.LeaseGrant);
                w.Long(grant.Revision);
                w.Long(grant.ID);
                w.Long(grant.TTL);
                break;
            case LeaseRevokeResponse revoke:
                w.Byte((byte)ResponseTag.LeaseRevoke);
                w.Long(revoke.Revision);
                break;
            case LeaseKeepAliveResponse keepAlive:
                w.Byte((byte)ResponseTag.LeaseKeepAlive);
                w.Long(keepAlive.Revision);
                w.Long(keepAlive.ID);
                w.Long(keepAlive.TTL);
                break;
            case ExpireLeasesResponse expire:
                w.Byte((byte)ResponseTag.ExpireLeases);
                w.Long(expire.Revision);
                w.Count(expire.Expired.Count);
                foreach (var id in expire.Expired)
                {
                    w.Long(id);
                }

                break;
            case PromoteLeasesResponse promote:
                w.Byte((byte)ResponseTag.PromoteLeases);
                w.Long(promote.Revision);
                w.Long(promote.Extended);
                break;
            default:
                throw new ArgumentException($"{response.GetType().Name} is not a replicated coordination response.", nameof(response));
        }
    }

    public static ICoordinationResponse ReadResponse(CodecReader r, int depth = 0)
    {
        switch (r.Enum<ResponseTag>("response kind"))
        {
            case ResponseTag.Range:
                var revision = r.Long("revision");
                var kvs = ReadList(r, "kvs", ReadKeyValue);
                return new RangeResponse(revision, kvs, r.Bool("more"), r.Long("count"));
            case ResponseTag.Put:
                return new PutResponse(r.Long("revision"), ReadOptionalKeyValue(r));
            case ResponseTag.DeleteRange:
                return new DeleteRangeResponse(r.Long("revision"), r.Long("deleted"), ReadList(r, "prev_kvs", ReadKeyValue));
            case ResponseTag.Txn:
                if (depth >= MaxTxnDepth)
                {
                    throw r.Garbage($"transactions nested deeper than {MaxTxnDepth}");
                }

                var txnRevision = r.Long("revision");
                var succeeded = r.Bool("succeeded");
                var responses = ReadList(r, "responses", reader => ToResponseOp(reader, ReadResponse(reader, depth + 1)));
                return new TxnResponse(txnRevision, succeeded, responses);
            case ResponseTag.Compaction:
                return new CompactionResponse(r.Long("revision"));
            case ResponseTag.LeaseGrant:
                return new LeaseGrantResponse(r.Long("revision"), r.Long("ID"), r.Long("TTL"));
            case ResponseTag.LeaseRevoke:
                return new LeaseRevokeResponse(r.Long("revision"));
            case ResponseTag.LeaseKeepAlive:
                return new LeaseKeepAliveResponse(r.Long("revision"), r.Long("ID"), r.Long("TTL"));
            case ResponseTag.ExpireLeases:
                return new ExpireLeasesResponse(r.Long("revision"), ReadList(r, "expired", reader => reader.Long("ID")));
            default:
                var promoted = r.Long("revision");
                var extended = r.Long("extended");
                return extended is >= 0 and <= int.MaxValue ? new PromoteLeasesResponse(promoted, (int)extended) : throw r.Garbage($"extended count {extended} is out of range");
        }
    }

    public static void Write(CodecWriter w, CoordinationError error)
    {
        w.Byte((byte)error.Code);
        w.String(error.Message);
        w.Long(error.Revision);
    }

    public static CoordinationError ReadError(CodecReader r) =>
        new(r.Enum<CoordinationErrorCode>("error code"), r.String("error message"), r.Long("error revision"));

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

    private static ResponseOp ToResponseOp(CodecReader r, ICoordinationResponse response) => response switch
    {
        RangeResponse range => range,
        PutResponse put => put,
        DeleteRangeResponse delete => delete,
        TxnResponse txn => txn,
        _ => throw r.Garbage($"{response.GetType().Name} inside a transaction response"),
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
