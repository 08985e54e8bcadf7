using Orleans.Patterns.Coordination;
using static Orleans.Patterns.Tests.Coordination.Bytes;

namespace Orleans.Patterns.Tests.Coordination;

/// <summary>What crosses between a client and a replica: queries, answers and results survive the trip; garbage is refused.</summary>
public sealed class CoordinationWireTests
{
    public static TheoryData<CoordinationQuery> Queries() =>
    [
        new CoordinationQuery.Range(new RangeRequest(B("a")) { RangeEnd = B("b"), Limit = 3, Revision = 7, SortOrder = SortOrder.Descend, SortTarget = SortTarget.Mod, Serializable = true, KeysOnly = true, MinModRevision = 2 }),
        new CoordinationQuery.Watch(new WatchRequest(B("k")) { RangeEnd = B("l"), StartRevision = 12, PrevKv = true, NoDelete = true }),
        new CoordinationQuery.TimeToLive(42, true),
        new CoordinationQuery.Leases(),
    ];

    [Theory]
    [MemberData(nameof(Queries))]
    public void Queries_round_trip(CoordinationQuery query)
    {
        var decoded = CoordinationWire.DecodeQuery(CoordinationWire.EncodeQuery(query));
        Assert.Equal(CoordinationWire.EncodeQuery(query), CoordinationWire.EncodeQuery(decoded));
        Assert.Equal(query.GetType(), decoded.GetType());
    }

    [Fact]
    public void Answers_round_trip_and_a_refusal_comes_back_as_the_stores_exception()
    {
        var store = new MvccStore();
        store.Put("k", "v1");
        store.Put("k", "v2");
        var watch = store.Watch(new WatchRequest(B("k")) { StartRevision = 2, PrevKv = true });
        var decodedWatch = CoordinationWire.DecodeAnswer<WatchResponse>(CoordinationWire.EncodeAnswer(watch, null));
        Assert.Equal(watch.Revision, decodedWatch.Revision);
        Assert.Equal(watch.Events, decodedWatch.Events);

        var range = store.Range(new RangeRequest(B("k")));
        var decodedRange = CoordinationWire.DecodeAnswer<RangeResponse>(CoordinationWire.EncodeAnswer(range, null));
        Assert.Equal(range.Kvs, decodedRange.Kvs);

        var ttl = new LeaseTimeToLiveResponse(5, 9, 3, 10, [B("a"), B("b")]);
        var decodedTtl = CoordinationWire.DecodeAnswer<LeaseTimeToLiveResponse>(CoordinationWire.EncodeAnswer(ttl, null));
        Assert.Equal(["a", "b"], decodedTtl.Keys.Select(S));
        Assert.Equal((5L, 9L, 3L, 10L), (decodedTtl.Revision, decodedTtl.ID, decodedTtl.TTL, decodedTtl.GrantedTTL));

        var leases = CoordinationWire.DecodeAnswer<LeaseLeasesResponse>(CoordinationWire.EncodeAnswer(new LeaseLeasesResponse(4, [1, 7]), null));
        Assert.Equal([1L, 7L], leases.Leases);

        var error = new CoordinationError(CoordinationErrorCode.Compacted, "mvcc: required revision has been compacted", 3);
        var thrown = Assert.Throws<CoordinationException>(() => CoordinationWire.DecodeAnswer<RangeResponse>(CoordinationWire.EncodeAnswer(null, error)));
        Assert.Equal(error, thrown.Error);

        var wrongKind = Assert.Throws<FormatException>(() => CoordinationWire.DecodeAnswer<WatchResponse>(CoordinationWire.EncodeAnswer(range, null)));
        Assert.Contains("WatchResponse", wrongKind.Message);
    }

    [Fact]
    public void Results_round_trip_with_their_index()
    {
        var ok = new CoordinationResult(17, new PutResponse(4, null), null);
        var refused = new CoordinationResult(18, null, new CoordinationError(CoordinationErrorCode.LeaseNotFound, "etcdserver: requested lease not found", 0));
        Assert.Equal(ok, CoordinationWire.DecodeResult(CoordinationWire.EncodeResult(ok)));
        Assert.Equal(refused, CoordinationWire.DecodeResult(CoordinationWire.EncodeResult(refused)));
        var refreshed = new CoordinationResult(19, new RefreshLeasesResponse(4, 2), null);
        Assert.Equal(refreshed, CoordinationWire.DecodeResult(CoordinationWire.EncodeResult(refreshed)));
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 2, 1 })]
    [InlineData(new byte[] { 1, 99 })]
    [InlineData(new byte[] { 1, 4, 0 })]
    public void Malformed_queries_are_refused(byte[] garbage) =>
        Assert.Throws<FormatException>(() => CoordinationWire.DecodeQuery(garbage));

    [Fact]
    public void An_entry_of_encoded_bytes_is_the_entry_of_the_command_they_encode()
    {
        var command = new CoordinationCommand("client-7", 42, new PutRequest(B("/config/feature_flag"), B("on")) { Lease = 9, PrevKv = true });
        var encoded = command.Encode();

        var entry = CoordinationWire.ToEntry(encoded);

        Assert.Equal(CoordinationWire.ToEntry(command), entry);
        Assert.Equal(encoded, CoordinationCommand.Decode(entry.AsSpan(1)).Encode());
    }

    [Fact]
    public void Only_tagged_entries_are_coordination_entries()
    {
        var entry = CoordinationWire.ToEntry(new CoordinationCommand("c", 1, new PutRequest(B("k"), B("v"))));
        Assert.True(CoordinationWire.IsCoordinationEntry(entry));
        Assert.False(CoordinationWire.IsCoordinationEntry(entry.AsSpan(1)));
        Assert.False(CoordinationWire.IsCoordinationEntry([]));
    }
}
