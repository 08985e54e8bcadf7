extern alias etcd;
using Google.Protobuf;
using Grpc.Core;
using Orleans.Patterns.Coordination;
using Orleans.Patterns.Raft;
using Orleans.Patterns.Etcd;
using static Orleans.Patterns.Tests.Coordination.Bytes;
using Api = etcd::Orleans.Patterns.Etcd.Api;

namespace Orleans.Patterns.Tests.Coordination.Etcd;

/// <summary>etcd's protobuf messages to the store's requests and back, and the store's refusals to etcd's statuses.</summary>
[Trait("Category", "Unit")]
public sealed class EtcdMappingTests
{
    private static readonly Func<long, Api.ResponseHeader> Header = revision => new Api.ResponseHeader { ClusterId = 7, MemberId = 9, Revision = revision, RaftTerm = 3 };

    [Fact]
    public void A_range_request_maps_every_field()
    {
        var mapped = EtcdMapping.ToCore(new Api.RangeRequest
        {
            Key = Bs("a"), RangeEnd = Bs("z"), Limit = 5, Revision = 42,
            SortOrder = Api.RangeRequest.Types.SortOrder.Descend, SortTarget = Api.RangeRequest.Types.SortTarget.Mod,
            Serializable = true, KeysOnly = true, CountOnly = true,
            MinModRevision = 1, MaxModRevision = 2, MinCreateRevision = 3, MaxCreateRevision = 4,
        });

        Assert.Equal("a", S(mapped.Key));
        Assert.Equal("z", S(mapped.RangeEnd));
        Assert.Equal((5L, 42L), (mapped.Limit, mapped.Revision));
        Assert.Equal((SortOrder.Descend, SortTarget.Mod), (mapped.SortOrder, mapped.SortTarget));
        Assert.True(mapped.Serializable && mapped.KeysOnly && mapped.CountOnly);
        Assert.Equal((1L, 2L, 3L, 4L), (mapped.MinModRevision, mapped.MaxModRevision, mapped.MinCreateRevision, mapped.MaxCreateRevision));
    }

    [Fact]
    public void A_sort_target_without_an_order_sorts_ascending_and_negative_revisions_read_the_newest()
    {
        var mapped = EtcdMapping.ToCore(new Api.RangeRequest { Key = Bs("a"), SortTarget = Api.RangeRequest.Types.SortTarget.Value, Revision = -3, Limit = -1 });
        Assert.Equal((SortOrder.Ascend, SortTarget.Value, 0L, 0L), (mapped.SortOrder, mapped.SortTarget, mapped.Revision, mapped.Limit));
    }

    [Fact]
    public void An_undefined_sort_option_is_refused_with_etcds_message()
    {
        var error = Assert.Throws<RpcException>(() => EtcdMapping.ToCore(new Api.RangeRequest { Key = Bs("a"), SortOrder = (Api.RangeRequest.Types.SortOrder)9 }));
        Assert.Equal((StatusCode.InvalidArgument, "etcdserver: invalid sort option"), (error.StatusCode, error.Status.Detail));
    }

    [Fact]
    public void Put_and_delete_map_their_options()
    {
        var put = EtcdMapping.ToCore(new Api.PutRequest { Key = Bs("k"), Value = Bs("v"), Lease = 12, PrevKv = true, IgnoreValue = true, IgnoreLease = true });
        Assert.Equal(("k", "v", 12L), (S(put.Key), S(put.Value), put.Lease));
        Assert.True(put.PrevKv && put.IgnoreValue && put.IgnoreLease);

        var delete = EtcdMapping.ToCore(new Api.DeleteRangeRequest { Key = Bs("k"), RangeEnd = Bs("\0"), PrevKv = true });
        Assert.Equal(("k", "\0", true), (S(delete.Key), S(delete.RangeEnd), delete.PrevKv));
    }

    [Fact]
    public void A_txn_maps_every_compare_target_and_nested_ops()
    {
        var request = new Api.TxnRequest();
        request.Compare.Add(new Api.Compare { Key = Bs("a"), Target = Api.Compare.Types.CompareTarget.Version, Result = Api.Compare.Types.CompareResult.Greater, Version = 2 });
        request.Compare.Add(new Api.Compare { Key = Bs("b"), Target = Api.Compare.Types.CompareTarget.Create, Result = Api.Compare.Types.CompareResult.Equal, CreateRevision = 3 });
        request.Compare.Add(new Api.Compare { Key = Bs("c"), Target = Api.Compare.Types.CompareTarget.Mod, Result = Api.Compare.Types.CompareResult.Less, ModRevision = 4, RangeEnd = Bs("d") });
        request.Compare.Add(new Api.Compare { Key = Bs("e"), Target = Api.Compare.Types.CompareTarget.Value, Result = Api.Compare.Types.CompareResult.NotEqual, Value = Bs("x") });
        request.Compare.Add(new Api.Compare { Key = Bs("f"), Target = Api.Compare.Types.CompareTarget.Lease, Result = Api.Compare.Types.CompareResult.Equal, Lease = 5 });
        // The operand the target does not name reads as zero, as in etcd.
        request.Compare.Add(new Api.Compare { Key = Bs("g"), Target = Api.Compare.Types.CompareTarget.Version, Result = Api.Compare.Types.CompareResult.Equal, ModRevision = 8 });
        var nested = new Api.TxnRequest();
        nested.Success.Add(new Api.RequestOp { RequestDeleteRange = new Api.DeleteRangeRequest { Key = Bs("n") } });
        request.Success.Add(new Api.RequestOp { RequestPut = new Api.PutRequest { Key = Bs("p"), Value = Bs("1") } });
        request.Success.Add(new Api.RequestOp { RequestTxn = nested });
        request.Failure.Add(new Api.RequestOp { RequestRange = new Api.RangeRequest { Key = Bs("r") } });

        var txn = EtcdMapping.ToCore(request);

        Assert.Equal(
            [(CompareTarget.Version, CompareResult.Greater, 2L), (CompareTarget.Create, CompareResult.Equal, 3L), (CompareTarget.Mod, CompareResult.Less, 4L),
             (CompareTarget.Value, CompareResult.NotEqual, 0L), (CompareTarget.Lease, CompareResult.Equal, 5L), (CompareTarget.Version, CompareResult.Equal, 0L)],
            txn.Compare.Select(c => (c.Target, c.Result, c.Target switch
            {
                CompareTarget.Version => c.Version,
                CompareTarget.Create => c.CreateRevision,
                CompareTarget.Mod => c.ModRevision,
                CompareTarget.Lease => c.Lease,
                _ => 0,
            })));
        Assert.Equal("d", S(txn.Compare[2].RangeEnd));
        Assert.Equal("x", S(txn.Compare[3].Value));
        Assert.Equal(0, txn.Compare[5].ModRevision);
        Assert.Equal("p", S(txn.Success[0].RequestPut!.Key));
        Assert.Equal("n", S(txn.Success[1].RequestTxn!.Success[0].RequestDeleteRange!.Key));
        Assert.Equal("r", S(txn.Failure[0].RequestRange!.Key));
    }

    [Fact]
    public void An_empty_txn_op_is_refused_naming_the_fields()
    {
        var request = new Api.TxnRequest();
        request.Success.Add(new Api.RequestOp());
        var error = Assert.Throws<RpcException>(() => EtcdMapping.ToCore(request));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("request_put", error.Status.Detail);
    }

    [Fact]
    public void A_watch_create_maps_its_range_start_and_filters()
    {
        var create = new Api.WatchCreateRequest { Key = Bs("a"), RangeEnd = Bs("b"), StartRevision = 17, PrevKv = true };
        create.Filters.Add(Api.WatchCreateRequest.Types.FilterType.Nodelete);
        var mapped = EtcdMapping.ToCore(create);
        Assert.Equal(("a", "b", 17L, true, false, true), (S(mapped.Key), S(mapped.RangeEnd), mapped.StartRevision, mapped.PrevKv, mapped.NoPut, mapped.NoDelete));

        create.Filters.Add((Api.WatchCreateRequest.Types.FilterType)5);
        Assert.Equal(StatusCode.InvalidArgument, Assert.Throws<RpcException>(() => EtcdMapping.ToCore(create)).StatusCode);
    }

    [Fact]
    public void Store_answers_map_back_with_the_header_and_every_field()
    {
        var kv = new KeyValue(B("k"), 2, 5, 3, B("v"), 11);
        var range = EtcdMapping.ToPb(new RangeResponse(9, [kv], More: true, Count: 4), Header);
        Assert.Equal((9L, 7UL, 9UL, 3UL), (range.Header.Revision, range.Header.ClusterId, range.Header.MemberId, range.Header.RaftTerm));
        Assert.True(range.More);
        Assert.Equal(4, range.Count);
        var only = range.Kvs.Single();
        Assert.Equal(("k", 2L, 5L, 3L, "v", 11L), (only.Key.ToStringUtf8(), only.CreateRevision, only.ModRevision, only.Version, only.Value.ToStringUtf8(), only.Lease));

        var deleted = new Event(EventType.Delete, new KeyValue(B("k"), 0, 6, 0, [], 0), kv);
        var e = EtcdMapping.ToPb(deleted);
        Assert.Equal(Api.Event.Types.EventType.Delete, e.Type);
        Assert.Equal((6L, "v"), (e.Kv.ModRevision, e.PrevKv.Value.ToStringUtf8()));
        Assert.Null(EtcdMapping.ToPb(new Event(EventType.Put, kv, null)).PrevKv);

        var txn = EtcdMapping.ToPb(new TxnResponse(10, true, [new PutResponse(10, kv), new DeleteRangeResponse(10, 1, [kv]), new TxnResponse(10, false, [new RangeResponse(10, [], false, 0)])]), Header);
        Assert.True(txn.Succeeded);
        Assert.Equal("v", txn.Responses[0].ResponsePut.PrevKv.Value.ToStringUtf8());
        Assert.Equal(1, txn.Responses[1].ResponseDeleteRange.Deleted);
        Assert.False(txn.Responses[2].ResponseTxn.Succeeded);
        Assert.Equal(10, txn.Responses[2].ResponseTxn.Responses[0].ResponseRange.Header.Revision);

        var ttl = EtcdMapping.ToPb(new LeaseTimeToLiveResponse(3, 99, 4, 10, [B("a"), B("b")]), Header);
        Assert.Equal((99L, 4L, 10L), (ttl.ID, ttl.TTL, ttl.GrantedTTL));
        Assert.Equal(["a", "b"], ttl.Keys.Select(k => k.ToStringUtf8()));
        Assert.Equal([5L, 6L], EtcdMapping.ToPb(new LeaseLeasesResponse(3, [5, 6]), Header).Leases.Select(l => l.ID));
    }

    [Theory]
    [InlineData(CoordinationErrorCode.Compacted, StatusCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted")]
    [InlineData(CoordinationErrorCode.FutureRevision, StatusCode.OutOfRange, "etcdserver: mvcc: required revision is a future revision")]
    [InlineData(CoordinationErrorCode.EmptyKey, StatusCode.InvalidArgument, "etcdserver: key is not provided")]
    [InlineData(CoordinationErrorCode.KeyNotFound, StatusCode.InvalidArgument, "etcdserver: key not found")]
    [InlineData(CoordinationErrorCode.ValueProvided, StatusCode.InvalidArgument, "etcdserver: value is provided")]
    [InlineData(CoordinationErrorCode.LeaseProvided, StatusCode.InvalidArgument, "etcdserver: lease is provided")]
    [InlineData(CoordinationErrorCode.DuplicateKey, StatusCode.InvalidArgument, "etcdserver: duplicate key given in txn request")]
    [InlineData(CoordinationErrorCode.TooManyOps, StatusCode.InvalidArgument, "etcdserver: too many operations in txn request")]
    [InlineData(CoordinationErrorCode.RequestTooLarge, StatusCode.InvalidArgument, "etcdserver: request is too large")]
    [InlineData(CoordinationErrorCode.KeyTooLarge, StatusCode.InvalidArgument, "etcdserver: request is too large")]
    [InlineData(CoordinationErrorCode.LeaseNotFound, StatusCode.NotFound, "etcdserver: requested lease not found")]
    [InlineData(CoordinationErrorCode.LeaseExists, StatusCode.FailedPrecondition, "etcdserver: lease already exists")]
    [InlineData(CoordinationErrorCode.LeaseTtlTooLarge, StatusCode.OutOfRange, "etcdserver: too large lease TTL")]
    [InlineData(CoordinationErrorCode.SessionExpired, StatusCode.Unavailable, "etcdserver: request timed out, possibly due to previous leader failure")]
    public void Store_refusals_become_etcds_status_and_exact_message(CoordinationErrorCode code, StatusCode status, string message)
    {
        var rpc = EtcdErrors.ToRpc(new CoordinationException(new CoordinationError(code, "store's own wording", 0)));
        Assert.Equal((status, message), (rpc.StatusCode, rpc.Status.Detail));
    }

    [Fact]
    public void No_leader_timeouts_and_cancellation_map_to_what_etcd_clients_retry_or_stop_on()
    {
        Assert.Equal((StatusCode.Unavailable, EtcdErrors.NoLeader), Of(new NotLeaderException("Silo_1", null)));
        Assert.Equal((StatusCode.Unavailable, EtcdErrors.Timeout), Of(new TimeoutException("slow")));
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var rpc = EtcdErrors.ToRpc(new OperationCanceledException(), cancelled.Token)!;
        Assert.Equal(StatusCode.Cancelled, rpc.StatusCode);
        Assert.Null(EtcdErrors.ToRpc(new ArgumentException("a bug"), default));

        static (StatusCode, string) Of(Exception e) => EtcdErrors.ToRpc(e, default) is { } rpc ? (rpc.StatusCode, rpc.Status.Detail) : default;
    }

    [Fact]
    public void Member_ids_are_stable_per_name_and_never_zero()
    {
        Assert.Equal(EtcdMember.IdOf("silo-1"), EtcdMember.IdOf("silo-1"));
        Assert.NotEqual(EtcdMember.IdOf("silo-1"), EtcdMember.IdOf("silo-2"));
        Assert.NotEqual(0UL, EtcdMember.IdOf(""));
    }

    private static ByteString Bs(string text) => ByteString.CopyFromUtf8(text);
}
