using Orleans.Patterns.Coordination;
using Orleans.Patterns.Raft;
using Orleans.Patterns.Raft.KeyValue;
using static Orleans.Patterns.Tests.Coordination.Bytes;

namespace Orleans.Patterns.Tests.Coordination;

/// <summary>One log feeding both stores: tagged entries, shared applied index, snapshots of both, and logs that predate the tag.</summary>
public sealed class ReplicaStateMachinesTests
{
    private static LogEntry Kv(long index, string client, long sequence, string key, string value) =>
        new(index, 1, EntryKind.Command, new KvCommand(client, sequence, KvOperation.Put, key, value, null).Encode());

    private static LogEntry Coordination(long index, string client, long sequence, ICoordinationWrite request) =>
        new(index, 1, EntryKind.Command, CoordinationWire.ToEntry(new CoordinationCommand(client, sequence, request)));

    private static LogEntry NoOp(long index) => new(index, 1, EntryKind.NoOp, ReadOnlyMemory<byte>.Empty);

    private static IReadOnlyList<LogEntry> MixedLog() =>
    [
        NoOp(1),
        Kv(2, "a", 1, "shard", "map-1"),
        Coordination(3, "b", 1, new PutRequest(B("/x"), B("1"))),
        Coordination(4, "b", 2, new PutRequest(B("/x"), B("2"))),
        Kv(5, "a", 2, "shard", "map-2"),
        Coordination(6, "b", 3, new LeaseGrantRequest(10, 0, 1_000)),
    ];

    [Fact]
    public void Each_entry_goes_to_the_store_its_tag_names_and_both_keep_the_logs_index()
    {
        var machines = new ReplicaStateMachines();
        var results = MixedLog().Select(machines.Apply).ToList();

        Assert.Null(results[0]);
        Assert.IsType<KvResult>(results[1]);
        Assert.Equal(2, Assert.IsType<CoordinationResult>(results[2]).ResponseOrThrow<PutResponse>().Revision);
        Assert.Equal(3, Assert.IsType<CoordinationResult>(results[3]).ResponseOrThrow<PutResponse>().Revision);
        Assert.Equal(6, machines.AppliedIndex);
        Assert.Equal(6, machines.Coordination.AppliedIndex);
        Assert.Equal("map-2", machines.Kv.Get("shard"));
        Assert.Equal(3, machines.Coordination.Store.Revision); // key/value entries never move the coordination revision
        Assert.Equal("2", S(machines.Coordination.Store.Get("/x")!.Value));
    }

    [Fact]
    public void A_snapshot_holds_both_stores_and_the_restored_replica_goes_on_exactly_as_the_original()
    {
        var original = new ReplicaStateMachines();
        foreach (var entry in MixedLog())
        {
            original.Apply(entry);
        }

        var restored = ReplicaStateMachines.Restore(original.TakeSnapshot());
        Assert.Equal(original.Digest(), restored.Digest());

        // A retried command is answered from the restored session, as by the original.
        var retry = Coordination(7, "b", 2, new PutRequest(B("/x"), B("2")));
        var next = Coordination(8, "b", 4, new PutRequest(B("/y"), B("3")));
        Assert.Equal(original.Apply(retry), restored.Apply(retry));
        Assert.Equal(original.Apply(next), restored.Apply(next));
        Assert.Equal(original.Digest(), restored.Digest());
    }

    [Fact]
    public void A_key_value_snapshot_from_before_the_coordination_store_restores_with_an_empty_store_at_its_index()
    {
        var kvOnly = new KvStateMachine();
        kvOnly.Apply(NoOp(1));
        kvOnly.Apply(Kv(2, "a", 1, "shard", "map-1"));

        var restored = ReplicaStateMachines.Restore(kvOnly.TakeSnapshot());

        Assert.Equal(2, restored.AppliedIndex);
        Assert.Equal(2, restored.Coordination.AppliedIndex);
        Assert.Equal("map-1", restored.Kv.Get("shard"));
        var put = Assert.IsType<CoordinationResult>(restored.Apply(Coordination(3, "b", 1, new PutRequest(B("/x"), B("1")))));
        Assert.Equal(2, put.ResponseOrThrow<PutResponse>().Revision);
    }

    [Theory]
    [InlineData(new byte[0], "empty")]
    [InlineData(new byte[] { 9, 0, 0 }, "format 9")]
    [InlineData(new byte[] { 2, 255, 255, 0, 0 }, "part length")]
    public void A_malformed_snapshot_is_refused_naming_what_is_wrong(byte[] snapshot, string expected)
    {
        var error = Assert.Throws<FormatException>(() => ReplicaStateMachines.Restore(snapshot));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void A_snapshot_whose_two_parts_disagree_on_the_applied_index_is_refused()
    {
        var machines = new ReplicaStateMachines();
        machines.Apply(NoOp(1));
        var kv = new KvStateMachine();
        kv.Apply(NoOp(1));
        kv.Apply(NoOp(2));
        var kvPart = kv.TakeSnapshot();
        var coordinationPart = machines.Coordination.TakeSnapshot();
        var forged = new byte[5 + kvPart.Length + coordinationPart.Length];
        forged[0] = 2;
        BitConverter.TryWriteBytes(forged.AsSpan(1, 4), kvPart.Length);
        kvPart.CopyTo(forged, 5);
        coordinationPart.CopyTo(forged, 5 + kvPart.Length);

        var error = Assert.Throws<FormatException>(() => ReplicaStateMachines.Restore(forged));
        Assert.Contains("inconsistent", error.Message);
    }
}
