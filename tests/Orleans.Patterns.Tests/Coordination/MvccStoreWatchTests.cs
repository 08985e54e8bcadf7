using Orleans.Patterns.Coordination;
using static Orleans.Patterns.Tests.Coordination.Bytes;

namespace Orleans.Patterns.Tests.Coordination;

[Trait("Category", "Unit")]
public sealed class MvccStoreWatchTests
{
    private static readonly WatchRequest All = new(B("a")) { RangeEnd = ByteKeys.AllFrom, StartRevision = 1 };

    [Fact]
    public void EventsComeInRevisionOrder_ThenInTheOrderOfATransactionsWrites()
    {
        var store = new MvccStore();
        store.Put("b", "1");                                                                            // rev 2
        store.Txn(new TxnRequest([], [new PutRequest(B("z"), B("1")), new PutRequest(B("a"), B("1")), new DeleteRangeRequest(B("b"))], []));   // rev 3
        store.Put("a", "2");                                                                            // rev 4

        var events = store.Watch(All).Events;
        Assert.Equal(
            [(EventType.Put, "b", 2L), (EventType.Put, "z", 3L), (EventType.Put, "a", 3L), (EventType.Delete, "b", 3L), (EventType.Put, "a", 4L)],
            events.Select(e => (e.Type, S(e.Kv.Key), e.Kv.ModRevision)));
        Assert.All(events, e => Assert.Null(e.PrevKv));
    }

    [Fact]
    public void PrevKvCarriesTheVersionBeforeEachChange()
    {
        var store = new MvccStore();
        store.Put("k", "1");                                  // rev 2
        store.Put("k", "2");                                  // rev 3
        store.DeleteRange(new DeleteRangeRequest(B("k")));    // rev 4
        store.Put("k", "3");                                  // rev 5

        var events = store.Watch(new WatchRequest(B("k")) { StartRevision = 2, PrevKv = true }).Events;
        Assert.Equal(4, events.Count);
        Assert.Null(events[0].PrevKv);
        Assert.Equal(new KeyValue(B("k"), 2, 2, 1, B("1"), 0), events[1].PrevKv);
        Assert.Equal(new Event(EventType.Delete, new KeyValue(B("k"), 0, 4, 0, [], 0), new KeyValue(B("k"), 2, 3, 2, B("2"), 0)), events[2]);
        Assert.Equal(new KeyValue(B("k"), 5, 5, 1, B("3"), 0), events[3].Kv);
        Assert.Null(events[3].PrevKv);
    }

    [Fact]
    public void AWatchFromARevisionSkipsEarlierEvents_AndFromZeroWaitsForTheNext()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        store.Put("a", "2");
        Assert.Equal([3L], store.Watch(All with { StartRevision = 3 }).Events.Select(e => e.Kv.ModRevision));
        Assert.Empty(store.Watch(All with { StartRevision = 0 }).Events);
        Assert.Empty(store.Watch(All with { StartRevision = 10 }).Events);
    }

    [Fact]
    public void AnEmptyAnswerIsAProgressNotificationAtTheCurrentRevision()
    {
        var store = new MvccStore();
        store.Put("other", "1");
        var progress = store.Watch(new WatchRequest(B("mine")) { StartRevision = 1 });
        Assert.Empty(progress.Events);
        Assert.Equal(2, progress.Revision);
        Assert.Equal(store.Revision, progress.Revision);
    }

    [Fact]
    public void FiltersLeaveOutPutsOrDeletes()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        store.DeleteRange(new DeleteRangeRequest(B("a")));
        Assert.Equal([EventType.Delete], store.Watch(All with { NoPut = true }).Events.Select(e => e.Type));
        Assert.Equal([EventType.Put], store.Watch(All with { NoDelete = true }).Events.Select(e => e.Type));
    }

    [Fact]
    public void AWatchFromACompactedRevisionIsRefusedNamingIt_WhileOneFromItStillSeesPrevKv()
    {
        var store = new MvccStore();
        store.Put("k", "1");     // rev 2
        store.Put("k", "2");     // rev 3
        store.Put("k", "3");     // rev 4
        store.Compact(new CompactionRequest(3));

        var refused = Assert.Throws<CoordinationException>(() => store.Watch(All with { StartRevision = 2 }));
        Assert.Equal(CoordinationErrorCode.Compacted, refused.Code);
        Assert.Equal(3, refused.Error.Revision);
        Assert.Contains("compacted revision 3", refused.Message);

        var events = store.Watch(All with { StartRevision = 3, PrevKv = true }).Events;
        Assert.Equal([3L, 4L], events.Select(e => e.Kv.ModRevision));
        Assert.Equal(new KeyValue(B("k"), 2, 2, 1, B("1"), 0), events[0].PrevKv);
    }
}
