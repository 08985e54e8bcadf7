namespace Orleans.Patterns.Coordination;

internal static partial class CoordinationCodec
{
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
        RefreshLeases = 11,
    }

    public static void WriteResponse(CodecWriter w, ICoordinationResponse response)
    {
        switch (response)
        {
            case RangeResponse range:
                w.Byte((byte)ResponseTag.Range);
                w.Long(range.Revision);
                WriteList(w, range.Kvs, Write);

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
                WriteList(w, delete.PrevKvs, Write);

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
                WriteList(w, expire.Expired, static (w, id) => w.Long(id));

                break;
            case PromoteLeasesResponse promote:
                w.Byte((byte)ResponseTag.PromoteLeases);
                w.Long(promote.Revision);
                w.Long(promote.Extended);
                break;
            case RefreshLeasesResponse refresh:
                w.Byte((byte)ResponseTag.RefreshLeases);
                w.Long(refresh.Revision);
                w.Long(refresh.Refreshed);
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
            case ResponseTag.PromoteLeases:
                return new PromoteLeasesResponse(r.Long("revision"), r.LongCount("extended count"));
            default:
                return new RefreshLeasesResponse(r.Long("revision"), r.LongCount("refreshed count"));
        }
    }

    private static ResponseOp ToResponseOp(CodecReader r, ICoordinationResponse response) => response switch
    {
        RangeResponse range => range,
        PutResponse put => put,
        DeleteRangeResponse delete => delete,
        TxnResponse txn => txn,
        _ => throw r.Garbage($"{response.GetType().Name} inside a transaction response"),
    };
}
