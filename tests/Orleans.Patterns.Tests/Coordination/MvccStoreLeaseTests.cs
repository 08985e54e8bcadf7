using Orleans.Patterns.Coordination;
using static Orleans.Patterns.Tests.Coordination.Bytes;

namespace Orleans.Patterns.Tests.Coordination;

[Trait("Category", "Unit")]
public sealed class MvccStoreLeaseTests
{
    [Fact]
    public void GrantTakesTheRequestedIdOrTheNextFreeOne()
    {
        var store = new MvccStore();
        Assert.Equal(new LeaseGrantResponse(1, 1, 10), store.LeaseGrant(new LeaseGrantRequest(10, 0, 0)));
        Assert.Equal(7, store.LeaseGrant(new LeaseGrantRequest(10, 7, 0)).ID);
        Assert.Equal(8, store.LeaseGrant(new LeaseGrantRequest(10, 0, 0)).ID);
        var exists = Assert.Throws<CoordinationException>(() => store.LeaseGrant(new LeaseGrantRequest(10, 7, 0)));
        Assert.Equal(CoordinationErrorCode.LeaseExists, exists.Code);
        Assert.StartsWith("etcdserver: lease already exists", exists.Message);
        Assert.Equal([1L, 7L, 8L], store.LeaseLeases().Leases);
        Assert.Equal(1, store.Revision);
    }

    [Fact]
    public void GrantRaisesAShortTtlToTheMinimum_AndRefusesOneAboveTheMaximum()
    {
        var store = new MvccStore(new CoordinationLimits { MinLeaseTtlSeconds = 5, MaxLeaseTtlSeconds = 100 });
        Assert.Equal(5, store.LeaseGrant(new LeaseGrantRequest(1, 0, 0)).TTL);
        var refused = Assert.Throws<CoordinationException>(() => store.LeaseGrant(new LeaseGrantRequest(101, 0, 0)));
        Assert.Equal(CoordinationErrorCode.LeaseTtlTooLarge, refused.Code);
        Assert.Contains("max lease TTL is 100, got 101", refused.Message);
    }

    [Fact]
    public void APutNeedsAnExistingLease_AndAttachesTheKeyToIt()
    {
        var store = new MvccStore();
        var refused = Assert.Throws<CoordinationException>(() => store.Put("k", "v", lease: 5));
        Assert.Equal(CoordinationErrorCode.LeaseNotFound, refused.Code);
        Assert.StartsWith("etcdserver: requested lease not found", refused.Message);

        var lease = store.LeaseGrant(new LeaseGrantRequest(10, 0, 0)).ID;
        store.Put("k", "v", lease);
        store.Put("j", "v", lease);
        Assert.Equal(lease, store.Get("k")!.Lease);
        var ttl = store.LeaseTimeToLive(new LeaseTimeToLiveRequest(lease, 0) { Keys = true });
        Assert.Equal(["j", "k"], ttl.Keys.Select(S));

        // A put without the lease detaches the key; ignore_lease keeps it.
        store.Put("j", "w");
        store.Put(new PutRequest(B("k"), B("w")) { IgnoreLease = true });
        Assert.Equal(lease, store.Get("k")!.Lease);
        Assert.Equal(["k"], store.LeaseTimeToLive(new LeaseTimeToLiveRequest(lease, 0) { Keys = true }).Keys.Select(S));
        Assert.Equal(CoordinationErrorCode.LeaseProvided,
            Assert.Throws<CoordinationException>(() => store.Put(new PutRequest(B("k"), B("w")) { IgnoreLease = true, Lease = lease })).Code);
    }

    [Fact]
    public void RevokeDeletesTheLeasesKeysAtOneRevision()
    {
        var store = new MvccStore();
        var lease = store.LeaseGrant(new LeaseGrantRequest(10, 0, 0)).ID;
        store.Put("a", "1", lease);                         // rev 2
        store.Put("b", "1", lease);                         // rev 3
        store.Put("c", "1");                                // rev 4

        Assert.Equal(5, store.LeaseRevoke(new LeaseRevokeRequest(lease)).Revision);
        Assert.Null(store.Get("a"));
        Assert.Null(store.Get("b"));
        Assert.NotNull(store.Get("c"));
        var events = store.Watch(new WatchRequest(B("a")) { RangeEnd = ByteKeys.AllFrom, StartRevision = 5 }).Events;
        Assert.Equal([EventType.Delete, EventType.Delete], events.Select(e => e.Type));
        Assert.All(events, e => Assert.Equal(5, e.Kv.ModRevision));
        Assert.Empty(store.LeaseLeases().Leases);
        Assert.Equal(CoordinationErrorCode.LeaseNotFound, Assert.Throws<CoordinationException>(() => store.LeaseRevoke(new LeaseRevokeRequest(lease))).Code);
    }

    [Fact]
    public void RevokingALeaseWithoutKeysDoesNotMoveTheRevision()
    {
        var store = new MvccStore();
        var lease = store.LeaseGrant(new LeaseGrantRequest(10, 0, 0)).ID;
        Assert.Equal(1, store.LeaseRevoke(new LeaseRevokeRequest(lease)).Revision);
    }

    [Fact]
    public void TimeToLiveCountsDownOnTheCallersClock_AndKeepAliveRefreshes()
    {
        var store = new MvccStore();
        var lease = store.LeaseGrant(new LeaseGrantRequest(10, 0, 1_000)).ID;        // deadline 11,000
        Assert.Equal(10, store.LeaseTimeToLive(new LeaseTimeToLiveRequest(lease, 1_000)).TTL);
        Assert.Equal(6, store.LeaseTimeToLive(new LeaseTimeToLiveRequest(lease, 4_500)).TTL);    // 6.5 s: expires in under 7
        Assert.Equal(0, store.LeaseTimeToLive(new LeaseTimeToLiveRequest(lease, 20_000)).TTL);
        Assert.Equal(10, store.LeaseTimeToLive(new LeaseTimeToLiveRequest(lease, 0)).GrantedTTL);

        Assert.Equal(new LeaseKeepAliveResponse(1, lease, 10), store.LeaseKeepAlive(new LeaseKeepAliveRequest(lease, 9_000)));  // deadline 19,000
        Assert.Equal(9, store.LeaseTimeToLive(new LeaseTimeToLiveRequest(lease, 10_000)).TTL);
        Assert.Empty(store.ExpireLeases(new ExpireLeasesRequest(18_999)).Expired);
        Assert.Equal([lease], store.ExpireLeases(new ExpireLeasesRequest(19_000)).Expired);

        Assert.Equal(0, store.LeaseKeepAlive(new LeaseKeepAliveRequest(lease, 20_000)).TTL);
        var gone = store.LeaseTimeToLive(new LeaseTimeToLiveRequest(lease, 20_000));
        Assert.Equal(-1, gone.TTL);
        Assert.Equal(0, gone.GrantedTTL);
    }

    [Fact]
    public void ExpiryDeletesEachLeasesKeysAtARevisionOfItsOwn_InDeadlineOrder()
    {
        var store = new MvccStore();
        var late = store.LeaseGrant(new LeaseGrantRequest(20, 0, 0)).ID;     // deadline 20,000
        var early = store.LeaseGrant(new LeaseGrantRequest(10, 0, 0)).ID;    // deadline 10,000
        var empty = store.LeaseGrant(new LeaseGrantRequest(5, 0, 0)).ID;     // deadline 5,000, no keys
        var kept = store.LeaseGrant(new LeaseGrantRequest(60, 0, 0)).ID;
        store.Put("late/1", "v", late);       // rev 2
        store.Put("late/2", "v", late);       // rev 3
        store.Put("early", "v", early);       // rev 4
        store.Put("kept", "v", kept);         // rev 5

        var expired = store.ExpireLeases(new ExpireLeasesRequest(30_000));
        Assert.Equal([empty, early, late], expired.Expired);
        Assert.Equal(7, expired.Revision);

        var events = store.Watch(new WatchRequest(B("a")) { RangeEnd = ByteKeys.AllFrom, StartRevision = 6 }).Events;
        Assert.Equal([("early", 6L), ("late/1", 7L), ("late/2", 7L)], events.Select(e => (S(e.Kv.Key), e.Kv.ModRevision)));
        Assert.Equal([kept], store.LeaseLeases().Leases);
        Assert.NotNull(store.Get("kept"));
    }

    [Fact]
    public void PromoteExtendsEveryLeaseFromTheNewLeadersNow()
    {
        var store = new MvccStore();
        var a = store.LeaseGrant(new LeaseGrantRequest(10, 0, 0)).ID;        // deadline 10,000
        var b = store.LeaseGrant(new LeaseGrantRequest(30, 0, 0)).ID;        // deadline 30,000
        store.Put("a", "v", a);

        // The old leader went silent at 5 s; the new one is elected at 12 s, after a's deadline.
        Assert.Equal(2, store.PromoteLeases(new PromoteLeasesRequest(12_000)).Extended);
        Assert.Empty(store.ExpireLeases(new ExpireLeasesRequest(12_000)).Expired);
        Assert.Equal(10, store.LeaseTimeToLive(new LeaseTimeToLiveRequest(a, 12_000)).TTL);
        Assert.Equal(30, store.LeaseTimeToLive(new LeaseTimeToLiveRequest(b, 12_000)).TTL);
        Assert.Equal([a], store.ExpireLeases(new ExpireLeasesRequest(22_000)).Expired);
        Assert.Null(store.Get("a"));
    }

    [Fact]
    public void ARefreshExtendsEachListedLeaseFromItsOwnRenewal_SkipsMissingOnes_AndNeverShortens()
    {
        var store = new MvccStore();
        var a = store.LeaseGrant(new LeaseGrantRequest(10, 0, 0)).ID;        // deadline 10,000
        var b = store.LeaseGrant(new LeaseGrantRequest(5, 0, 0)).ID;         // deadline 5,000
        var c = store.LeaseGrant(new LeaseGrantRequest(10, 0, 0)).ID;        // deadline 10,000, not renewed
        store.Put("b", "v", b);
        var revision = store.Revision;

        var refreshed = store.RefreshLeases(new RefreshLeasesRequest([new(a, 8_000), new(b, 4_000), new(99, 4_000)]));
        Assert.Equal(new RefreshLeasesResponse(revision, 2), refreshed);                     // no revision of its own
        Assert.Equal(new LeaseDeadline(10, 18_000), store.LeaseDeadlineOf(a));
        Assert.Equal(new LeaseDeadline(5, 9_000), store.LeaseDeadlineOf(b));
        Assert.Equal(new LeaseDeadline(10, 10_000), store.LeaseDeadlineOf(c));
        Assert.Null(store.LeaseDeadlineOf(99));

        // A renewal older than the deadline the store already has (a promote since) changes nothing.
        store.RefreshLeases(new RefreshLeasesRequest([new(a, 1_000)]));
        Assert.Equal(18_000, store.LeaseDeadlineOf(a)!.Value.DeadlineMillis);

        Assert.Equal([b, c], store.ExpireLeases(new ExpireLeasesRequest(10_000)).Expired);
        Assert.Null(store.Get("b"));
        Assert.Equal([a], store.LeaseLeases().Leases);
    }

    [Fact]
    public void DeletingAKeyDetachesItFromItsLease()
    {
        var store = new MvccStore();
        var lease = store.LeaseGrant(new LeaseGrantRequest(10, 0, 0)).ID;
        store.Put("a", "v", lease);
        store.DeleteRange(new DeleteRangeRequest(B("a")));
        store.Put("a", "again");
        Assert.Empty(store.LeaseTimeToLive(new LeaseTimeToLiveRequest(lease, 0) { Keys = true }).Keys);
        store.LeaseRevoke(new LeaseRevokeRequest(lease));
        Assert.Equal("again", S(store.Get("a")!.Value));
    }
}
