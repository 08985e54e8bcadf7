using Orleans.Patterns.Coordination;

namespace Orleans.Patterns.Tests.Coordination;

/// <summary>Compares two stores by everything a client can read from them.</summary>
internal static class StoreEquivalence
{
    public static void AssertSameReads(MvccStore expected, MvccStore actual)
    {
        Assert.Equal(expected.Revision, actual.Revision);
        Assert.Equal(expected.CompactRevision, actual.CompactRevision);
        for (var revision = Math.Max(1, expected.CompactRevision); revision <= expected.Revision; revision++)
        {
            var all = new RangeRequest([0]) { RangeEnd = ByteKeys.AllFrom, Revision = revision };
            Assert.Equal(expected.Range(all).Kvs, actual.Range(all).Kvs);
        }

        var watch = new WatchRequest([0]) { RangeEnd = ByteKeys.AllFrom, StartRevision = Math.Max(1, expected.CompactRevision), PrevKv = true };
        Assert.Equal(expected.Watch(watch).Events, actual.Watch(watch).Events);

        var leases = expected.LeaseLeases().Leases;
        Assert.Equal(leases, actual.LeaseLeases().Leases);
        foreach (var id in leases)
        {
            var request = new LeaseTimeToLiveRequest(id, 0) { Keys = true };
            var (left, right) = (expected.LeaseTimeToLive(request), actual.LeaseTimeToLive(request));
            Assert.Equal((left.TTL, left.GrantedTTL), (right.TTL, right.GrantedTTL));
            Assert.Equal(left.Keys.Select(Convert.ToHexString), right.Keys.Select(Convert.ToHexString));
        }
    }
}
