using Google.Protobuf;
using Grpc.Core;
using Orleans.Patterns.Coordination;

namespace Orleans.Patterns.Etcd;

/// <summary>
/// etcd's protobuf messages to the coordination store's requests and back, field by field. Requests the store would
/// misread (an enum value etcd does not define, an empty transaction op) are refused here with INVALID_ARGUMENT naming
/// the field. Byte strings from the store are wrapped, not copied: the store hands out arrays it never changes.
/// </summary>
internal static class EtcdMapping
{
    public static RangeRequest ToCore(Api.RangeRequest request)
    {
        if (!Enum.IsDefined(request.SortOrder) || !Enum.IsDefined(request.SortTarget))
        {
            throw Invalid(EtcdErrors.InvalidSortOption);
        }

        // etcd sorts ascending when only a target other than the key is given.
        var order = request.SortOrder == Api.RangeRequest.Types.SortOrder.None && request.SortTarget != Api.RangeRequest.Types.SortTarget.Key
            ? SortOrder.Ascend
            : (SortOrder)request.SortOrder;
        return new RangeRequest(request.Key.ToByteArray())
        {
            RangeEnd = request.RangeEnd.ToByteArray(),
            Limit = Math.Max(0, request.Limit),
            Revision = Math.Max(0, request.Revision),
            SortOrder = order,
            SortTarget = (SortTarget)request.SortTarget,
            Serializable = request.Serializable,
            KeysOnly = request.KeysOnly,
            CountOnly = request.CountOnly,
            MinModRevision = request.MinModRevision,
            MaxModRevision = request.MaxModRevision,
            MinCreateRevision = request.MinCreateRevision,
            MaxCreateRevision = request.MaxCreateRevision,
        };
    }

    public static PutRequest ToCore(Api.PutRequest request) => new(request.Key.ToByteArray(), request.Value.ToByteArray())
    {
        Lease = request.Lease,
        PrevKv = request.PrevKv,
        IgnoreValue = request.IgnoreValue,
        IgnoreLease = request.IgnoreLease,
    };

    public static DeleteRangeRequest ToCore(Api.DeleteRangeRequest request) => new(request.Key.ToByteArray())
    {
        RangeEnd = request.RangeEnd.ToByteArray(),
        PrevKv = request.PrevKv,
    };

    public static TxnRequest ToCore(Api.TxnRequest request) => new(
        [.. request.Compare.Select(ToCore)],
        [.. request.Success.Select(ToCore)],
        [.. request.Failure.Select(ToCore)]);

    public static Compare ToCore(Api.Compare compare)
    {
        if (!Enum.IsDefined(compare.Target))
        {
            throw Invalid($"etcdserver: unknown compare target {(int)compare.Target}");
        }

        if (!Enum.IsDefined(compare.Result))
        {
            throw Invalid($"etcdserver: unknown compare result {(int)compare.Result}");
        }

        // The operand is the union member the target names; any other member (or none) leaves it zero, as in etcd.
        var union = compare.TargetUnionCase;
        var target = (CompareTarget)compare.Target;
        return new Compare(compare.Key.ToByteArray(), target, (CompareResult)compare.Result)
        {
            RangeEnd = compare.RangeEnd.ToByteArray(),
            Version = target == CompareTarget.Version && union == Api.Compare.TargetUnionOneofCase.Version ? compare.Version : 0,
            CreateRevision = target == CompareTarget.Create && union == Api.Compare.TargetUnionOneofCase.CreateRevision ? compare.CreateRevision : 0,
            ModRevision = target == CompareTarget.Mod && union == Api.Compare.TargetUnionOneofCase.ModRevision ? compare.ModRevision : 0,
            Value = target == CompareTarget.Value && union == Api.Compare.TargetUnionOneofCase.Value ? compare.Value.ToByteArray() : [],
            Lease = target == CompareTarget.Lease && union == Api.Compare.TargetUnionOneofCase.Lease ? compare.Lease : 0,
        };
    }

    public static RequestOp ToCore(Api.RequestOp op) => op.RequestCase switch
    {
        Api.RequestOp.RequestOneofCase.RequestRange => ToCore(op.RequestRange),
        Api.RequestOp.RequestOneofCase.RequestPut => ToCore(op.RequestPut),
        Api.RequestOp.RequestOneofCase.RequestDeleteRange => ToCore(op.RequestDeleteRange),
        Api.RequestOp.RequestOneofCase.RequestTxn => ToCore(op.RequestTxn),
        _ => throw Invalid("etcdserver: a transaction op sets none of request_range, request_put, request_delete_range, request_txn"),
    };

    public static WatchRequest ToCore(Api.WatchCreateRequest request)
    {
        foreach (var filter in request.Filters)
        {
            if (!Enum.IsDefined(filter))
            {
                throw Invalid($"etcdserver: unknown watch filter {(int)filter}");
            }
        }

        return new WatchRequest(request.Key.ToByteArray())
        {
            RangeEnd = request.RangeEnd.ToByteArray(),
            StartRevision = Math.Max(0, request.StartRevision),
            PrevKv = request.PrevKv,
            NoPut = request.Filters.Contains(Api.WatchCreateRequest.Types.FilterType.Noput),
            NoDelete = request.Filters.Contains(Api.WatchCreateRequest.Types.FilterType.Nodelete),
        };
    }

    public static Api.KeyValue ToPb(KeyValue kv) => new()
    {
        Key = Wrap(kv.Key),
        CreateRevision = kv.CreateRevision,
        ModRevision = kv.ModRevision,
        Version = kv.Version,
        Value = Wrap(kv.Value),
        Lease = kv.Lease,
    };

    public static Api.Event ToPb(Event e)
    {
        var result = new Api.Event
        {
            Type = e.Type == EventType.Put ? Api.Event.Types.EventType.Put : Api.Event.Types.EventType.Delete,
            Kv = ToPb(e.Kv),
        };
        if (e.PrevKv is { } prev)
        {
            result.PrevKv = ToPb(prev);
        }

        return result;
    }

    public static Api.RangeResponse ToPb(RangeResponse response, Func<long, Api.ResponseHeader> header)
    {
        var result = new Api.RangeResponse { Header = header(response.Revision), More = response.More, Count = response.Count };
        result.Kvs.AddRange(response.Kvs.Select(ToPb));
        return result;
    }

    public static Api.PutResponse ToPb(PutResponse response, Func<long, Api.ResponseHeader> header)
    {
        var result = new Api.PutResponse { Header = header(response.Revision) };
        if (response.PrevKv is { } prev)
        {
            result.PrevKv = ToPb(prev);
        }

        return result;
    }

    public static Api.DeleteRangeResponse ToPb(DeleteRangeResponse response, Func<long, Api.ResponseHeader> header)
    {
        var result = new Api.DeleteRangeResponse { Header = header(response.Revision), Deleted = response.Deleted };
        result.PrevKvs.AddRange(response.PrevKvs.Select(ToPb));
        return result;
    }

    public static Api.TxnResponse ToPb(TxnResponse response, Func<long, Api.ResponseHeader> header)
    {
        var result = new Api.TxnResponse { Header = header(response.Revision), Succeeded = response.Succeeded };
        result.Responses.AddRange(response.Responses.Select(op => ToPb(op, header)));
        return result;
    }

    public static Api.ResponseOp ToPb(ResponseOp op, Func<long, Api.ResponseHeader> header) => op switch
    {
        { ResponseRange: { } range } => new Api.ResponseOp { ResponseRange = ToPb(range, header) },
        { ResponsePut: { } put } => new Api.ResponseOp { ResponsePut = ToPb(put, header) },
        { ResponseDeleteRange: { } delete } => new Api.ResponseOp { ResponseDeleteRange = ToPb(delete, header) },
        { ResponseTxn: { } txn } => new Api.ResponseOp { ResponseTxn = ToPb(txn, header) },
        _ => throw new InvalidOperationException("The store answered a transaction op with no response."),
    };

    public static Api.LeaseTimeToLiveResponse ToPb(LeaseTimeToLiveResponse response, Func<long, Api.ResponseHeader> header)
    {
        var result = new Api.LeaseTimeToLiveResponse { Header = header(response.Revision), ID = response.ID, TTL = response.TTL, GrantedTTL = response.GrantedTTL };
        result.Keys.AddRange(response.Keys.Select(Wrap));
        return result;
    }

    public static Api.LeaseLeasesResponse ToPb(LeaseLeasesResponse response, Func<long, Api.ResponseHeader> header)
    {
        var result = new Api.LeaseLeasesResponse { Header = header(response.Revision) };
        result.Leases.AddRange(response.Leases.Select(id => new Api.LeaseStatus { ID = id }));
        return result;
    }

    private static ByteString Wrap(byte[] bytes) => bytes.Length == 0 ? ByteString.Empty : UnsafeByteOperations.UnsafeWrap(bytes);

    private static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));
}
