using CsCheck;
using Orleans.Patterns.Coordination;

namespace Orleans.Patterns.Tests.Coordination;

/// <summary>Random coordination commands over a few short keys, so random sequences collide, conflict and get refused often.</summary>
internal static class CoordinationGens
{
    private static readonly byte[][] KeyPool = [[(byte)'a'], [(byte)'a', (byte)'b'], [(byte)'b'], [(byte)'b', 0], [(byte)'c'], [(byte)'d', 0xff]];

    public static readonly Gen<byte[]> Key = Gen.Int[0, KeyPool.Length - 1].Select(i => KeyPool[i]);

    public static readonly Gen<byte[]> Value = Gen.Byte.Array[0, 3];

    public static readonly Gen<byte[]> RangeEnd = Gen.Frequency(
        (3, Gen.Const(Array.Empty<byte>())),
        (1, Gen.Const(ByteKeys.AllFrom)),
        (2, Key));

    public static readonly Gen<long> Now = Gen.Long[0, 60_000];

    public static readonly Gen<PutRequest> Put =
        Gen.Select(Key, Value, Gen.Int[0, 3], Gen.Bool, Gen.Int[0, 9]).Select((key, value, lease, prevKv, ignore) => new PutRequest(key, ignore == 0 ? [] : value)
        {
            Lease = ignore == 1 ? 0 : lease,
            PrevKv = prevKv,
            IgnoreValue = ignore == 0,
            IgnoreLease = ignore == 1,
        });

    public static readonly Gen<DeleteRangeRequest> Delete =
        Gen.Select(Key, RangeEnd, Gen.Bool).Select((key, end, prevKv) => new DeleteRangeRequest(key) { RangeEnd = end, PrevKv = prevKv });

    public static readonly Gen<RangeRequest> Range =
        Gen.Select(Key, RangeEnd, Gen.Long[0, 3], Gen.Long[0, 12], Gen.Int[0, 2], Gen.Int[0, 4], Gen.Bool, Gen.Bool).Select((key, end, limit, revision, order, target, keysOnly, countOnly) =>
            new RangeRequest(key) { RangeEnd = end, Limit = limit, Revision = revision, SortOrder = (SortOrder)order, SortTarget = (SortTarget)target, KeysOnly = keysOnly, CountOnly = countOnly, MinModRevision = revision % 3 });

    public static readonly Gen<Compare> Compare =
        Gen.Select(Key, RangeEnd, Gen.Int[0, 4], Gen.Int[0, 3], Gen.Long[0, 6], Value).Select((key, end, target, result, number, value) =>
            new Compare(key, (CompareTarget)target, (CompareResult)result) { RangeEnd = end, Version = number, CreateRevision = number, ModRevision = number, Lease = number % 4, Value = value });

    private static readonly Gen<RequestOp> FlatOp = Gen.OneOf(
        Put.Select(p => (RequestOp)p),
        Delete.Select(d => (RequestOp)d),
        Range.Select(r => (RequestOp)r));

    private static readonly Gen<TxnRequest> FlatTxn =
        Gen.Select(Compare.Array[0, 2], FlatOp.Array[0, 3], FlatOp.Array[0, 2]).Select((compares, success, failure) => new TxnRequest(compares, success, failure));

    public static readonly Gen<TxnRequest> Txn =
        Gen.Select(Compare.Array[0, 2], Gen.Frequency((4, FlatOp), (1, FlatTxn.Select(t => (RequestOp)t))).Array[0, 3], FlatOp.Array[0, 2])
            .Select((compares, success, failure) => new TxnRequest(compares, success, failure));

    public static readonly Gen<ICoordinationWrite> Write = Gen.Frequency(
        (6, Put.Select(p => (ICoordinationWrite)p)),
        (2, Delete.Select(d => (ICoordinationWrite)d)),
        (3, Txn.Select(t => (ICoordinationWrite)t)),
        (1, Gen.Long[0, 12].Select(r => (ICoordinationWrite)new CompactionRequest(r))),
        (2, Gen.Select(Gen.Long[1, 20], Gen.Long[0, 3], Now).Select((ttl, id, now) => (ICoordinationWrite)new LeaseGrantRequest(ttl, id, now))),
        (1, Gen.Long[0, 3].Select(id => (ICoordinationWrite)new LeaseRevokeRequest(id))),
        (1, Gen.Select(Gen.Long[0, 3], Now).Select((id, now) => (ICoordinationWrite)new LeaseKeepAliveRequest(id, now))),
        (1, Now.Select(now => (ICoordinationWrite)new ExpireLeasesRequest(now))),
        (1, Now.Select(now => (ICoordinationWrite)new PromoteLeasesRequest(now))),
        (1, Gen.Select(Gen.Long[0, 3], Now).Select((id, at) => new LeaseRenewedAt(id, at)).Array[0, 3]
            .Select(leases => (ICoordinationWrite)new RefreshLeasesRequest(leases))));

    public static readonly Gen<CoordinationCommand> Command =
        Gen.Select(Gen.OneOf(Gen.Const(""), Gen.Const("c1"), Gen.Const("c-é")), Gen.Long[0, 20], Write).Select((client, sequence, write) => new CoordinationCommand(client, sequence, write));
}
