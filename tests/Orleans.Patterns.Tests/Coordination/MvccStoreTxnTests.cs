using Orleans.Patterns.Coordination;
using static Orleans.Patterns.Tests.Coordination.Bytes;

namespace Orleans.Patterns.Tests.Coordination;

[Trait("Category", "Unit")]
public sealed class MvccStoreTxnTests
{
    private static TxnRequest If(Compare compare, RequestOp[] success, RequestOp[]? failure = null) => new([compare], success, failure ?? []);

    private static MvccStore Store()
    {
        var store = new MvccStore();
        store.Put("k", "v1");                                  // rev 2: create 2
        store.Put("k", "v2");                                  // rev 3: version 2, mod 3
        return store;
    }

    [Theory]
    [InlineData(CompareTarget.Version, CompareResult.Equal, 2, true)]
    [InlineData(CompareTarget.Version, CompareResult.Greater, 1, true)]
    [InlineData(CompareTarget.Version, CompareResult.Less, 2, false)]
    [InlineData(CompareTarget.Version, CompareResult.NotEqual, 2, false)]
    [InlineData(CompareTarget.Create, CompareResult.Equal, 2, true)]
    [InlineData(CompareTarget.Create, CompareResult.Less, 3, true)]
    [InlineData(CompareTarget.Mod, CompareResult.Equal, 3, true)]
    [InlineData(CompareTarget.Mod, CompareResult.Greater, 3, false)]
    [InlineData(CompareTarget.Lease, CompareResult.Equal, 0, true)]
    [InlineData(CompareTarget.Lease, CompareResult.NotEqual, 0, false)]
    public void NumericComparesReadTheirTarget(CompareTarget target, CompareResult result, long operand, bool holds)
    {
        var store = Store();
        var compare = new Compare(B("k"), target, result) { Version = operand, CreateRevision = operand, ModRevision = operand, Lease = operand };
        Assert.Equal(holds, store.Txn(If(compare, [])).Succeeded);
    }

    [Theory]
    [InlineData("v2", CompareResult.Equal, true)]
    [InlineData("v1", CompareResult.Greater, true)]
    [InlineData("v3", CompareResult.Less, true)]
    [InlineData("v2", CompareResult.NotEqual, false)]
    public void ValueComparesOrderBytes(string operand, CompareResult result, bool holds) =>
        Assert.Equal(holds, Store().Txn(If(new Compare(B("k"), CompareTarget.Value, result) { Value = B(operand) }, [])).Succeeded);

    [Fact]
    public void AnAbsentKeyReadsAsZeros_ButAValueCompareOnItFails()
    {
        var store = Store();
        Assert.True(store.Txn(If(new Compare(B("absent"), CompareTarget.Version, CompareResult.Equal) { Version = 0 }, [])).Succeeded);
        Assert.True(store.Txn(If(new Compare(B("absent"), CompareTarget.Create, CompareResult.Equal), [])).Succeeded);
        Assert.False(store.Txn(If(new Compare(B("absent"), CompareTarget.Value, CompareResult.Equal) { Value = [] }, [])).Succeeded);
        Assert.False(store.Txn(If(new Compare(B("absent"), CompareTarget.Value, CompareResult.NotEqual) { Value = B("x") }, [])).Succeeded);
    }

    [Fact]
    public void ARangeCompareMustHoldForEveryKey()
    {
        var store = new MvccStore();
        store.Put("p/1", "1");
        store.Put("p/2", "2");
        var prefix = ByteKeys.PrefixEnd(B("p/"));
        Assert.True(store.Txn(If(new Compare(B("p/"), CompareTarget.Version, CompareResult.Equal) { RangeEnd = prefix, Version = 1 }, [])).Succeeded);
        Assert.False(store.Txn(If(new Compare(B("p/"), CompareTarget.Value, CompareResult.Equal) { RangeEnd = prefix, Value = B("1") }, [])).Succeeded);
    }

    [Fact]
    public void TheChosenBranchAppliesAtOneRevision_WithEveryResponseAtIt()
    {
        var store = Store();
        var response = store.Txn(If(
            new Compare(B("k"), CompareTarget.Value, CompareResult.Equal) { Value = B("v2") },
            [new PutRequest(B("a"), B("1")), new PutRequest(B("b"), B("2")) { PrevKv = true }, new DeleteRangeRequest(B("k")) { PrevKv = true }, new RangeRequest(B("a")) { RangeEnd = ByteKeys.AllFrom }],
            [new PutRequest(B("failed"), B("x"))]));

        Assert.True(response.Succeeded);
        Assert.Equal(4, response.Revision);
        Assert.Equal(4, store.Revision);
        Assert.All(response.Responses, op => Assert.Equal(4, ((ICoordinationResponse?)op.ResponsePut ?? (ICoordinationResponse?)op.ResponseDeleteRange ?? op.ResponseRange)!.Revision));
        Assert.Equal(new KeyValue(B("a"), 4, 4, 1, B("1"), 0), store.Get("a"));
        Assert.Equal(new KeyValue(B("b"), 4, 4, 1, B("2"), 0), store.Get("b"));
        Assert.Null(store.Get("k"));
        Assert.Null(store.Get("failed"));

        // A range inside the transaction sees the transaction's own earlier writes.
        Assert.Equal(["a", "b"], Keys(response.Responses[3].ResponseRange!));
        Assert.Equal(1, response.Responses[2].ResponseDeleteRange!.Deleted);
    }

    [Fact]
    public void TheFailureBranchRunsWhenACompareFails()
    {
        var store = Store();
        var response = store.Txn(If(new Compare(B("k"), CompareTarget.Mod, CompareResult.Equal) { ModRevision = 2 },
            [new PutRequest(B("k"), B("mine"))], [new RangeRequest(B("k"))]));
        Assert.False(response.Succeeded);
        Assert.Equal(3, response.Revision);
        Assert.Equal("v2", S(response.Responses[0].ResponseRange!.Kvs[0].Value));
    }

    [Fact]
    public void AReadOnlyTransactionDoesNotMoveTheRevision()
    {
        var store = Store();
        Assert.Equal(3, store.Txn(new TxnRequest([], [new RangeRequest(B("k"))], [])).Revision);
        Assert.Equal(3, store.Revision);
    }

    [Fact]
    public void NestedTransactionsDecideTheirBranchOnTheStoreBeforeTheOuterWrites()
    {
        var store = Store();
        var inner = If(new Compare(B("k"), CompareTarget.Value, CompareResult.Equal) { Value = B("v2") },
            [new PutRequest(B("inner"), B("success"))], [new PutRequest(B("inner"), B("failure"))]);
        var response = store.Txn(new TxnRequest([], [new PutRequest(B("k"), B("changed")), inner], []));

        Assert.True(response.Responses[1].ResponseTxn!.Succeeded);
        Assert.Equal(4, response.Responses[1].ResponseTxn!.Revision);
        Assert.Equal("success", S(store.Get("inner")!.Value));
        Assert.Equal(4, store.Revision);
    }

    [Fact]
    public void PuttingOneKeyTwiceIsADuplicate()
    {
        var store = Store();
        var refused = Assert.Throws<CoordinationException>(() =>
            store.Txn(new TxnRequest([], [new PutRequest(B("a"), B("1")), new PutRequest(B("a"), B("2"))], [])));
        Assert.Equal(CoordinationErrorCode.DuplicateKey, refused.Code);
        Assert.StartsWith("etcdserver: duplicate key given in txn request", refused.Message);
        Assert.Equal(3, store.Revision);
    }

    [Fact]
    public void PuttingAKeyTheTransactionDeletesIsADuplicate()
    {
        var store = Store();
        var refused = Assert.Throws<CoordinationException>(() => store.Txn(new TxnRequest([],
            [new DeleteRangeRequest(B("a")) { RangeEnd = B("c") }, new PutRequest(B("b"), B("1"))], [])));
        Assert.Equal(CoordinationErrorCode.DuplicateKey, refused.Code);
    }

    [Fact]
    public void ANestedPutOfAnOuterKeyIsADuplicate_ButTheTwoBranchesOfOneNestedTxnMayShareKeys()
    {
        var store = Store();
        var sharing = If(new Compare(B("k"), CompareTarget.Version, CompareResult.Equal), [new PutRequest(B("x"), B("1"))], [new DeleteRangeRequest(B("x")), new PutRequest(B("y"), B("1"))]);
        store.Txn(new TxnRequest([], [sharing], [new PutRequest(B("x"), B("2"))]));

        var refused = Assert.Throws<CoordinationException>(() => store.Txn(new TxnRequest([], [new PutRequest(B("x"), B("0")), sharing], [])));
        Assert.Equal(CoordinationErrorCode.DuplicateKey, refused.Code);
        var twoNested = Assert.Throws<CoordinationException>(() => store.Txn(new TxnRequest([], [sharing, sharing], [])));
        Assert.Equal(CoordinationErrorCode.DuplicateKey, twoNested.Code);
    }

    [Fact]
    public void DeeplyNestedTransactionsAreValidatedInOnePass()
    {
        // Each level visiting its nested transaction twice (once to validate it, once to collect its writes) would take
        // 2^depth steps.
        var store = Store();
        var txn = new TxnRequest([], [], []);
        for (var depth = 60; depth > 0; depth--)
        {
            var compare = new Compare(B("k"), CompareTarget.Version, CompareResult.Greater) { Version = depth % 2 };
            txn = new TxnRequest([compare], [new PutRequest(B($"level/{depth}"), B("s")), txn], [new PutRequest(B($"level/{depth}"), B("f"))]);
        }

        var response = store.Txn(txn);
        Assert.True(response.Succeeded);
        Assert.Equal(60, store.Range(new RangeRequest(B("level/")) { RangeEnd = ByteKeys.PrefixEnd(B("level/")), CountOnly = true }).Count);
        Assert.Equal(4, store.Revision);
    }

    [Fact]
    public void DeletingOneKeyTwiceIsAllowed()
    {
        var store = Store();
        var response = store.Txn(new TxnRequest([], [new DeleteRangeRequest(B("k")), new DeleteRangeRequest(B("a")) { RangeEnd = ByteKeys.AllFrom }], []));
        Assert.Equal(1, response.Responses[0].ResponseDeleteRange!.Deleted);
        Assert.Equal(0, response.Responses[1].ResponseDeleteRange!.Deleted);
        Assert.Equal(4, store.Revision);
    }

    [Fact]
    public void TooManyOpsAreRefusedNamingTheLimit()
    {
        var store = new MvccStore(new CoordinationLimits { MaxTxnOps = 2 });
        RequestOp[] three = [new PutRequest(B("a"), B("1")), new PutRequest(B("b"), B("1")), new PutRequest(B("c"), B("1"))];
        var refused = Assert.Throws<CoordinationException>(() => store.Txn(new TxnRequest([], [], three)));
        Assert.Equal(CoordinationErrorCode.TooManyOps, refused.Code);
        Assert.StartsWith("etcdserver: too many operations in txn request", refused.Message);
        Assert.Contains("max txn ops is 2, got 3", refused.Message);

        var nested = Assert.Throws<CoordinationException>(() => store.Txn(new TxnRequest([], [new TxnRequest([], three, [])], [])));
        Assert.Equal(CoordinationErrorCode.TooManyOps, nested.Code);
        Assert.Equal(128, CoordinationLimits.Default.MaxTxnOps);
    }

    [Fact]
    public void ARefusedOpInTheChosenBranchLeavesTheStoreUnchanged()
    {
        var store = Store();
        var refused = Assert.Throws<CoordinationException>(() => store.Txn(new TxnRequest([],
            [new PutRequest(B("a"), B("1")), new PutRequest(B("b"), B("1")) { Lease = 42 }], [])));
        Assert.Equal(CoordinationErrorCode.LeaseNotFound, refused.Code);
        Assert.Null(store.Get("a"));
        Assert.Equal(3, store.Revision);

        var compacted = Assert.Throws<CoordinationException>(() => store.Txn(new TxnRequest([],
            [new PutRequest(B("a"), B("1")), new RangeRequest(B("k")) { Revision = 9 }], [])));
        Assert.Equal(CoordinationErrorCode.FutureRevision, compacted.Code);
        Assert.Null(store.Get("a"));
    }

    [Fact]
    public void RefusalsInTheBranchNotTakenDoNotMatter()
    {
        var store = Store();
        var response = store.Txn(If(new Compare(B("k"), CompareTarget.Version, CompareResult.Equal) { Version = 2 },
            [new PutRequest(B("a"), B("1"))], [new PutRequest(B("b"), B("1")) { Lease = 42 }]));
        Assert.True(response.Succeeded);
    }
}
