using Orleans.Patterns.Raft;
using Orleans.Patterns.Raft.KeyValue;

namespace Orleans.Patterns.Tests.Raft.KeyValue;

[Trait("Category", "Unit")]
public sealed class KvStateMachineTests
{
    private static LogEntry Entry(long index, KvCommand command) => new(index, 1, EntryKind.Command, command.Encode());

    [Fact]
    public void Commands_round_trip_through_their_log_encoding()
    {
        var command = new KvCommand("client-7", 42, KvOperation.Cas, "k1", "v2", null);

        Assert.Equal(command, KvCommand.Decode(command.Encode()));
    }

    [Fact]
    public void Put_delete_and_cas_apply_in_index_order_and_report_the_previous_value()
    {
        var machine = new KvStateMachine();

        Assert.Equal(new KvResult(true, null, 1), machine.Apply(Entry(1, new("a", 1, KvOperation.Put, "k", "v1", null))));
        Assert.Null(machine.Apply(new LogEntry(2, 1, EntryKind.NoOp, ReadOnlyMemory<byte>.Empty)));
        Assert.Equal(new KvResult(false, "v1", 3), machine.Apply(Entry(3, new("a", 2, KvOperation.Cas, "k", "v2", "wrong"))));
        Assert.Equal(new KvResult(true, "v1", 4), machine.Apply(Entry(4, new("a", 3, KvOperation.Cas, "k", "v2", "v1"))));
        Assert.Equal("v2", machine.Get("k"));
        Assert.Equal(new KvResult(true, "v2", 5), machine.Apply(Entry(5, new("a", 4, KvOperation.Delete, "k", null, null))));
        Assert.Null(machine.Get("k"));
        Assert.Equal(new KvResult(false, null, 6), machine.Apply(Entry(6, new("a", 5, KvOperation.Delete, "k", null, null))));
        Assert.Equal(6, machine.AppliedIndex);
    }

    [Fact]
    public void A_retried_command_applies_once_and_gets_the_first_outcome()
    {
        var machine = new KvStateMachine();
        machine.Apply(Entry(1, new("a", 1, KvOperation.Put, "k", "v1", null)));
        var first = machine.Apply(Entry(2, new("a", 2, KvOperation.Cas, "k", "v2", "v1")));
        machine.Apply(Entry(3, new("b", 1, KvOperation.Put, "k", "v3", null)));

        // Client a timed out and proposed its cas again; it lands later in the log.
        var retried = machine.Apply(Entry(4, new("a", 2, KvOperation.Cas, "k", "v2", "v1")));

        Assert.Equal(first, retried);
        Assert.Equal("v3", machine.Get("k"));
    }

    [Fact]
    public void Entries_out_of_order_are_refused()
    {
        var machine = new KvStateMachine();
        var error = Assert.Throws<InvalidOperationException>(() => machine.Apply(Entry(2, new("a", 1, KvOperation.Put, "k", "v", null))));

        Assert.Equal("Entries must be applied in order: applied 0, got 2.", error.Message);
    }

    [Fact]
    public void A_restored_snapshot_holds_the_same_values_sessions_and_applied_index()
    {
        var machine = new KvStateMachine();
        machine.Apply(Entry(1, new("a", 1, KvOperation.Put, "x", "1", null)));
        machine.Apply(Entry(2, new("b", 7, KvOperation.Put, "y", "2", null)));

        var restored = KvStateMachine.Restore(machine.TakeSnapshot());

        Assert.Equal(2, restored.AppliedIndex);
        Assert.Equal("1", restored.Get("x"));
        Assert.Equal("2", restored.Get("y"));
        Assert.Equal(machine.TakeSnapshot(), restored.TakeSnapshot());
        // The session survived: b's sequence 7 is a duplicate after the restore too.
        Assert.Equal(new KvResult(true, null, 2), restored.Apply(Entry(3, new("b", 7, KvOperation.Put, "y", "other", null))));
        Assert.Equal("2", restored.Get("y"));
    }
}
