using Orleans.Patterns.Coordination;
using static Orleans.Patterns.Tests.Coordination.Bytes;

namespace Orleans.Patterns.Tests.Coordination;

[Trait("Category", "Unit")]
public sealed class MvccStoreKeyValueTests
{
    [Fact]
    public void AnEmptyStoreIsAtRevisionOne_AndTheFirstPutMakesRevisionTwo()
    {
        var store = new MvccStore();
        Assert.Equal(1, store.Revision);
        Assert.Equal(2, store.Put("a", "1").Revision);
        Assert.Equal(new KeyValue(B("a"), 2, 2, 1, B("1"), 0), store.Get("a"));
    }

    [Fact]
    public void VersionsCountChangesWithinAGeneration_AndADeleteStartsANewOne()
    {
        var store = new MvccStore();
        store.Put("k", "1");                                       // rev 2
        store.Put("k", "2");                                       // rev 3
        Assert.Equal(new KeyValue(B("k"), 2, 3, 2, B("2"), 0), store.Get("k"));

        var deleted = store.DeleteRange(new DeleteRangeRequest(B("k")) { PrevKv = true });   // rev 4
        Assert.Equal(4, deleted.Revision);
        Assert.Equal(1, deleted.Deleted);
        Assert.Equal(new KeyValue(B("k"), 2, 3, 2, B("2"), 0), Assert.Single(deleted.PrevKvs));
        Assert.Null(store.Get("k"));

        store.Put("k", "3");                                       // rev 5: a new generation
        Assert.Equal(new KeyValue(B("k"), 5, 5, 1, B("3"), 0), store.Get("k"));
    }

    [Fact]
    public void PutReturnsThePreviousVersionOnlyWhenAsked()
    {
        var store = new MvccStore();
        Assert.Null(store.Put(new PutRequest(B("k"), B("1")) { PrevKv = true }).PrevKv);
        Assert.Null(store.Put("k", "2").PrevKv);
        var response = store.Put(new PutRequest(B("k"), B("3")) { PrevKv = true });
        Assert.Equal(new KeyValue(B("k"), 2, 3, 2, B("2"), 0), response.PrevKv);
    }

    [Fact]
    public void IgnoreValueKeepsTheValue_AndNeedsAnExistingKeyAndNoValue()
    {
        var store = new MvccStore();
        var missing = Assert.Throws<CoordinationException>(() => store.Put(new PutRequest(B("k"), []) { IgnoreValue = true }));
        Assert.Equal(CoordinationErrorCode.KeyNotFound, missing.Code);
        store.Put("k", "v");
        var provided = Assert.Throws<CoordinationException>(() => store.Put(new PutRequest(B("k"), B("x")) { IgnoreValue = true }));
        Assert.Equal(CoordinationErrorCode.ValueProvided, provided.Code);

        store.Put(new PutRequest(B("k"), []) { IgnoreValue = true });
        Assert.Equal(new KeyValue(B("k"), 2, 3, 2, B("v"), 0), store.Get("k"));
    }

    [Fact]
    public void AnEmptyKeyIsRefused()
    {
        var store = new MvccStore();
        Assert.Equal(CoordinationErrorCode.EmptyKey, Assert.Throws<CoordinationException>(() => store.Put("", "v")).Code);
        Assert.Equal(CoordinationErrorCode.EmptyKey, Assert.Throws<CoordinationException>(() => store.Range(new RangeRequest([]))).Code);
        Assert.Equal(1, store.Revision);
    }

    [Fact]
    public void RangeEndSelectsOneKey_EveryKeyFrom_OrAHalfOpenRange()
    {
        var store = new MvccStore();
        foreach (var key in new[] { "a", "b", "b/1", "b/2", "c", "d" })
        {
            store.Put(key, key);
        }

        Assert.Equal(["b"], Keys(store.Range(new RangeRequest(B("b")))));
        Assert.Equal(["c", "d"], Keys(store.Range(new RangeRequest(B("c")) { RangeEnd = ByteKeys.AllFrom })));
        Assert.Equal(["a", "b", "b/1", "b/2", "c", "d"], Keys(store.Range(new RangeRequest([0]) { RangeEnd = ByteKeys.AllFrom })));
        Assert.Equal(["b", "b/1", "b/2"], Keys(store.Range(new RangeRequest(B("b")) { RangeEnd = B("c") })));
        Assert.Equal(["b/1", "b/2"], Keys(store.Range(new RangeRequest(B("b/")) { RangeEnd = ByteKeys.PrefixEnd(B("b/")) })));
        Assert.Empty(store.Range(new RangeRequest(B("c")) { RangeEnd = B("b") }).Kvs);
    }

    [Fact]
    public void PrefixEndIncrementsTheLastByteBelow0xff()
    {
        Assert.Equal(B("b0"), ByteKeys.PrefixEnd(B("b/")));
        Assert.Equal(new byte[] { 1, 3 }, ByteKeys.PrefixEnd([1, 2, 0xff, 0xff]));
        Assert.Equal(ByteKeys.AllFrom, ByteKeys.PrefixEnd([0xff]));
    }

    [Fact]
    public void KeysAreOrderedAsUnsignedBytes()
    {
        var store = new MvccStore();
        store.Put(new PutRequest([0x80], B("high")));
        store.Put(new PutRequest([0x7f], B("low")));
        store.Put(new PutRequest([0x7f, 0x00], B("longer")));
        var all = store.Range(new RangeRequest([0]) { RangeEnd = ByteKeys.AllFrom });
        Assert.Equal(["low", "longer", "high"], all.Kvs.Select(kv => S(kv.Value)));
    }

    [Fact]
    public void LimitTruncates_SetsMore_AndCountCountsTheWholeRange()
    {
        var store = new MvccStore();
        foreach (var key in new[] { "a", "b", "c", "d" })
        {
            store.Put(key, key);
        }

        var all = new RangeRequest(B("a")) { RangeEnd = ByteKeys.AllFrom };
        var limited = store.Range(all with { Limit = 2 });
        Assert.Equal(["a", "b"], Keys(limited));
        Assert.True(limited.More);
        Assert.Equal(4, limited.Count);

        var exact = store.Range(all with { Limit = 4 });
        Assert.False(exact.More);
        Assert.Equal(4, exact.Count);
    }

    [Fact]
    public void CountOnlyReturnsNoKeys_AndKeysOnlyDropsValues()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        store.Put("b", "2");
        var all = new RangeRequest(B("a")) { RangeEnd = ByteKeys.AllFrom };

        var counted = store.Range(all with { CountOnly = true });
        Assert.Empty(counted.Kvs);
        Assert.Equal(2, counted.Count);

        var keysOnly = store.Range(all with { KeysOnly = true });
        Assert.Equal(["a", "b"], Keys(keysOnly));
        Assert.All(keysOnly.Kvs, kv => Assert.Empty(kv.Value));
        Assert.Equal(3, keysOnly.Kvs[1].ModRevision);
    }

    [Fact]
    public void SortOrdersByEachTarget_TiesInKeyOrder()
    {
        var store = new MvccStore();
        store.Put("a", "z");     // rev 2
        store.Put("b", "y");     // rev 3
        store.Put("c", "y");     // rev 4
        store.Put("a", "x");     // rev 5: a has version 2
        var all = new RangeRequest(B("a")) { RangeEnd = ByteKeys.AllFrom };

        Assert.Equal(["c", "b", "a"], Keys(store.Range(all with { SortOrder = SortOrder.Descend })));
        Assert.Equal(["a", "b", "c"], Keys(store.Range(all with { SortTarget = SortTarget.Value })));
        Assert.Equal(["b", "c", "a"], Keys(store.Range(all with { SortTarget = SortTarget.Value, SortOrder = SortOrder.Descend })));
        Assert.Equal(["b", "c", "a"], Keys(store.Range(all with { SortTarget = SortTarget.Mod, SortOrder = SortOrder.Ascend })));
        Assert.Equal(["c", "b", "a"], Keys(store.Range(all with { SortTarget = SortTarget.Create, SortOrder = SortOrder.Descend })));
        Assert.Equal(["a", "b", "c"], Keys(store.Range(all with { SortTarget = SortTarget.Version, SortOrder = SortOrder.Descend })));

        // Sorting happens before the limit: the two most recently modified keys.
        var latest = store.Range(all with { SortTarget = SortTarget.Mod, SortOrder = SortOrder.Descend, Limit = 2 });
        Assert.Equal(["a", "c"], Keys(latest));
        Assert.True(latest.More);
    }

    [Fact]
    public void MinAndMaxRevisionsFilterWithoutChangingTheCount()
    {
        var store = new MvccStore();
        store.Put("a", "1");     // rev 2
        store.Put("b", "1");     // rev 3
        store.Put("a", "2");     // rev 4
        var all = new RangeRequest(B("a")) { RangeEnd = ByteKeys.AllFrom };

        var modified = store.Range(all with { MinModRevision = 4 });
        Assert.Equal(["a"], Keys(modified));
        Assert.Equal(2, modified.Count);
        Assert.Equal(["b"], Keys(store.Range(all with { MaxModRevision = 3 })));
        Assert.Equal(["b"], Keys(store.Range(all with { MinCreateRevision = 3 })));
        Assert.Equal(["a"], Keys(store.Range(all with { MaxCreateRevision = 2 })));
    }

    [Fact]
    public void RangeAtAnOlderRevisionSeesTheStoreAsItWas()
    {
        var store = new MvccStore();
        store.Put("a", "1");                                  // rev 2
        store.Put("b", "1");                                  // rev 3
        store.Put("a", "2");                                  // rev 4
        store.DeleteRange(new DeleteRangeRequest(B("b")));    // rev 5
        var all = new RangeRequest(B("a")) { RangeEnd = ByteKeys.AllFrom };

        Assert.Empty(store.Range(all with { Revision = 1 }).Kvs);
        Assert.Equal(["1"], store.Range(all with { Revision = 2 }).Kvs.Select(kv => S(kv.Value)));
        Assert.Equal(["1", "1"], store.Range(all with { Revision = 3 }).Kvs.Select(kv => S(kv.Value)));
        Assert.Equal(new KeyValue(B("a"), 2, 4, 2, B("2"), 0), store.Get("a", revision: 4));
        Assert.Equal(["a", "b"], Keys(store.Range(all with { Revision = 4 })));
        Assert.Equal(["a"], Keys(store.Range(all with { Revision = 5 })));
        Assert.Equal(5, store.Range(all with { Revision = 2 }).Revision);
    }

    [Fact]
    public void AReadAtAFutureRevisionIsRefusedNamingTheCurrentOne()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        var refused = Assert.Throws<CoordinationException>(() => store.Get("a", revision: 3));
        Assert.Equal(CoordinationErrorCode.FutureRevision, refused.Code);
        Assert.Equal(2, refused.Error.Revision);
        Assert.StartsWith("mvcc: required revision is a future revision", refused.Message);
        Assert.Contains("current revision 2", refused.Message);
    }

    [Fact]
    public void CompactionDropsOlderHistory_AndOlderReadsAreRefusedNamingTheCompactedRevision()
    {
        var store = new MvccStore();
        store.Put("a", "1");                                  // rev 2
        store.Put("b", "1");                                  // rev 3
        store.Put("a", "2");                                  // rev 4
        store.DeleteRange(new DeleteRangeRequest(B("b")));    // rev 5
        store.Put("c", "1");                                  // rev 6

        Assert.Equal(6, store.Compact(new CompactionRequest(4)).Revision);
        Assert.Equal(4, store.CompactRevision);
        Assert.Equal(6, store.Revision);

        var refused = Assert.Throws<CoordinationException>(() => store.Get("a", revision: 3));
        Assert.Equal(CoordinationErrorCode.Compacted, refused.Code);
        Assert.Equal(4, refused.Error.Revision);
        Assert.StartsWith("mvcc: required revision has been compacted", refused.Message);
        Assert.Contains("compacted revision 4", refused.Message);

        // From the compacted revision on, history is intact.
        var all = new RangeRequest(B("a")) { RangeEnd = ByteKeys.AllFrom };
        Assert.Equal(["a", "b"], Keys(store.Range(all with { Revision = 4 })));
        Assert.Equal(["a"], Keys(store.Range(all with { Revision = 5 })));
        Assert.Equal(["a", "c"], Keys(store.Range(all)));

        Assert.Equal(CoordinationErrorCode.Compacted, Assert.Throws<CoordinationException>(() => store.Compact(new CompactionRequest(4))).Code);
        Assert.Equal(CoordinationErrorCode.FutureRevision, Assert.Throws<CoordinationException>(() => store.Compact(new CompactionRequest(7))).Code);

        // Compacting past the delete forgets the deleted key entirely; a new put starts a fresh generation.
        store.Compact(new CompactionRequest(6));
        store.Put("b", "2");
        Assert.Equal(new KeyValue(B("b"), 7, 7, 1, B("2"), 0), store.Get("b"));
    }

    [Fact]
    public void DeletingNothingDoesNotMoveTheRevision()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        var response = store.DeleteRange(new DeleteRangeRequest(B("zz")) { RangeEnd = ByteKeys.AllFrom });
        Assert.Equal(0, response.Deleted);
        Assert.Equal(2, response.Revision);
        Assert.Equal(2, store.Revision);
    }

    [Fact]
    public void ADeleteRangeRemovesEveryKeyAtOneRevision()
    {
        var store = new MvccStore();
        store.Put("p/1", "1");
        store.Put("p/2", "2");
        store.Put("q", "3");
        var response = store.DeleteRange(new DeleteRangeRequest(B("p/")) { RangeEnd = ByteKeys.PrefixEnd(B("p/")), PrevKv = true });
        Assert.Equal(2, response.Deleted);
        Assert.Equal(5, response.Revision);
        Assert.Equal(["p/1", "p/2"], response.PrevKvs.Select(kv => S(kv.Key)));
        Assert.Equal(["q"], Keys(store.Range(new RangeRequest(B("a")) { RangeEnd = ByteKeys.AllFrom })));
    }

    [Fact]
    public void KeysAndValuesOverTheLimitsAreRefusedNamingLimitAndSize()
    {
        var store = new MvccStore(new CoordinationLimits { MaxKeyBytes = 4, MaxValueBytes = 8 });
        var key = Assert.Throws<CoordinationException>(() => store.Put("12345", "v"));
        Assert.Equal(CoordinationErrorCode.KeyTooLarge, key.Code);
        Assert.Contains("max key bytes is 4, got 5", key.Message);
        var value = Assert.Throws<CoordinationException>(() => store.Put("k", "123456789"));
        Assert.Equal(CoordinationErrorCode.ValueTooLarge, value.Code);
        Assert.Contains("max value bytes is 8, got 9", value.Message);
        Assert.Equal(1, store.Revision);
    }

    [Fact]
    public void TheStoreCopiesKeysAndValues()
    {
        var store = new MvccStore();
        var key = B("k");
        var value = B("v");
        store.Put(new PutRequest(key, value));
        key[0] = (byte)'x';
        value[0] = (byte)'x';
        Assert.Equal("v", S(store.Get("k")!.Value));
    }
}
