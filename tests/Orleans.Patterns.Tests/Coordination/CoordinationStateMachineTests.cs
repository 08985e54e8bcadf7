using CsCheck;
using Orleans.Patterns.Coordination;
using Orleans.Patterns.Raft;
using static Orleans.Patterns.Tests.Coordination.Bytes;

namespace Orleans.Patterns.Tests.Coordination;

/// <remarks>
/// On failure CsCheck shrinks the input and prints its seed. To replay exactly that case, pass it to the failing
/// <c>Sample</c> call (<c>seed: "..."</c>) or set the <c>CsCheck_Seed</c> environment variable and rerun the test.
/// </remarks>
[Trait("Category", "Unit")]
public sealed class CoordinationStateMachineTests
{
    private static LogEntry Entry(long index, CoordinationCommand command) => new(index, 1, EntryKind.Command, command.Encode());

    private static LogEntry Entry(long index, string client, long sequence, ICoordinationWrite write) => Entry(index, new CoordinationCommand(client, sequence, write));

    [Fact]
    public void EntriesApplyInIndexOrder_AndOnlyCommandsAnswer()
    {
        var machine = new CoordinationStateMachine();
        var put = machine.Apply(Entry(1, "a", 1, new PutRequest(B("k"), B("v"))))!;
        Assert.Equal(1, put.Index);
        Assert.Equal(2, put.ResponseOrThrow<PutResponse>().Revision);
        Assert.Null(machine.Apply(new LogEntry(2, 1, EntryKind.NoOp, ReadOnlyMemory<byte>.Empty)));
        Assert.Equal(2, machine.AppliedIndex);
        Assert.Throws<InvalidOperationException>(() => machine.Apply(Entry(4, "a", 2, new PutRequest(B("k"), B("v")))));
        Assert.Equal("v", S(machine.Store.Get("k")!.Value));
    }

    [Fact]
    public void SessionsPastTheLimitAreForgottenOldestFirst_AndAForgottenSessionsLaterCommandIsRefusedNotApplied()
    {
        var machine = new CoordinationStateMachine(CoordinationLimits.Default with { MaxSessions = 2 });
        machine.Apply(Entry(1, "a", 1, new PutRequest(B("k"), B("a1"))));
        machine.Apply(Entry(2, "b", 1, new PutRequest(B("k"), B("b1"))));
        machine.Apply(Entry(3, "a", 2, new PutRequest(B("k"), B("a2")))); // a is now used more recently than b
        machine.Apply(Entry(4, "c", 1, new PutRequest(B("k"), B("c1")))); // three sessions: b, the oldest, goes
        Assert.Equal(2, machine.SessionCount);

        var revision = machine.Store.Revision;
        var expired = machine.Apply(Entry(5, "b", 2, new PutRequest(B("k"), B("b2"))))!;
        Assert.Equal(CoordinationErrorCode.SessionExpired, expired.Error!.Code);
        Assert.Contains("'b'", expired.Error.Message);
        Assert.Equal(revision, machine.Store.Revision);

        // The session goes on from there, and a's retry is still answered from memory.
        Assert.Null(machine.Apply(Entry(6, "b", 3, new PutRequest(B("k"), B("b3"))))!.Error);
        Assert.Equal("b3", S(machine.Store.Get("k")!.Value));
    }

    [Fact]
    public void ARetriedCommandAppliesOnce_AndGetsTheFirstOutcome()
    {
        var machine = new CoordinationStateMachine();
        var first = machine.Apply(Entry(1, "a", 1, new PutRequest(B("k"), B("v1"))));
        var again = machine.Apply(Entry(2, "a", 1, new PutRequest(B("k"), B("v1"))));
        Assert.Same(first, again);
        Assert.Equal(2, machine.Store.Revision);

        machine.Apply(Entry(3, "a", 2, new PutRequest(B("k"), B("v2"))));
        var stale = machine.Apply(Entry(4, "a", 1, new PutRequest(B("k"), B("v1"))))!;
        Assert.Equal(CoordinationErrorCode.StaleSequence, stale.Error!.Code);
        Assert.Equal("v2", S(machine.Store.Get("k")!.Value));
    }

    [Fact]
    public void CommandsWithoutAClientIdAlwaysApply()
    {
        var machine = new CoordinationStateMachine();
        machine.Apply(Entry(1, "", 0, new LeaseGrantRequest(10, 1, 0)));
        machine.Apply(Entry(2, "", 0, new PromoteLeasesRequest(5_000)));
        Assert.Empty(machine.Apply(Entry(3, "", 0, new ExpireLeasesRequest(10_000)))!.ResponseOrThrow<ExpireLeasesResponse>().Expired);
        Assert.Equal([1L], machine.Apply(Entry(4, "", 0, new ExpireLeasesRequest(15_000)))!.ResponseOrThrow<ExpireLeasesResponse>().Expired);
    }

    [Fact]
    public void AKeepAliveEntryWrittenBeforeRenewalsMovedToTheLeaderStillDecodesAndApplies()
    {
        // Client "s/0", sequence 1, keep-alive of lease 42 stamped 9,000: the bytes such an entry has in existing logs.
        var logged = Convert.FromHexString("0103732F300100000000000000072A000000000000002823000000000000");
        Assert.Equal(new CoordinationCommand("s/0", 1, new LeaseKeepAliveRequest(42, 9_000)), CoordinationCommand.Decode(logged));

        var machine = new CoordinationStateMachine();
        machine.Apply(Entry(1, "", 0, new LeaseGrantRequest(10, 42, 0)));
        var renewed = machine.Apply(new LogEntry(2, 1, EntryKind.Command, logged))!;
        Assert.Equal(new LeaseKeepAliveResponse(1, 42, 10), renewed.ResponseOrThrow<LeaseKeepAliveResponse>());
        Assert.Equal(19_000, machine.Store.LeaseDeadlineOf(42)!.Value.DeadlineMillis);
        Assert.Same(renewed, machine.Apply(new LogEntry(3, 1, EntryKind.Command, logged))); // a retry, answered from the session
    }

    [Fact]
    public void ARefreshHasAFixedEncoding_AndAppliesWithoutASession()
    {
        var refresh = new CoordinationCommand("", 0, new RefreshLeasesRequest([new(3, 12_000), new(7, 12_500)]));
        var bytes = Convert.FromHexString("010000000000000000000A020300000000000000E02E0000000000000700000000000000D430000000000000");
        Assert.Equal(bytes, refresh.Encode());
        var decoded = Assert.IsType<RefreshLeasesRequest>(CoordinationCommand.Decode(bytes).Request);
        Assert.Equal(new[] { new LeaseRenewedAt(3, 12_000), new LeaseRenewedAt(7, 12_500) }, decoded.Leases);

        var machine = new CoordinationStateMachine();
        machine.Apply(Entry(1, "", 0, new LeaseGrantRequest(2, 3, 0)));
        Assert.Equal(new RefreshLeasesResponse(1, 1), machine.Apply(new LogEntry(2, 1, EntryKind.Command, bytes))!.ResponseOrThrow<RefreshLeasesResponse>());
        Assert.Equal(new RefreshLeasesResponse(1, 1), machine.Apply(new LogEntry(3, 1, EntryKind.Command, bytes))!.ResponseOrThrow<RefreshLeasesResponse>());
        Assert.Equal(0, machine.SessionCount);
        Assert.Equal(14_000, machine.Store.LeaseDeadlineOf(3)!.Value.DeadlineMillis);
    }

    [Fact]
    public void ARefusalIsAnOutcome_RememberedLikeAnyOther()
    {
        var machine = new CoordinationStateMachine();
        var refused = machine.Apply(Entry(1, "a", 1, new PutRequest(B("k"), B("v")) { Lease = 9 }))!;
        Assert.Null(refused.Response);
        Assert.Equal(CoordinationErrorCode.LeaseNotFound, refused.Error!.Code);
        Assert.Equal(CoordinationErrorCode.LeaseNotFound, Assert.Throws<CoordinationException>(() => refused.ResponseOrThrow<PutResponse>()).Code);

        machine.Apply(Entry(2, "b", 1, new LeaseGrantRequest(10, 9, 0)));
        Assert.Same(refused, machine.Apply(Entry(3, "a", 1, new PutRequest(B("k"), B("v")) { Lease = 9 })));
        Assert.Null(machine.Store.Get("k"));
    }

    [Fact]
    public void ACommandOverTheRequestSizeIsRefusedNamingLimitAndSize()
    {
        var machine = new CoordinationStateMachine(new CoordinationLimits { MaxRequestBytes = 64 });
        var command = new CoordinationCommand("a", 1, new PutRequest(B("k"), new byte[100]));
        var refused = machine.Apply(Entry(1, command))!;
        Assert.Equal(CoordinationErrorCode.RequestTooLarge, refused.Error!.Code);
        Assert.StartsWith("etcdserver: request is too large", refused.Error.Message);
        Assert.Contains($"max request bytes is 64, got {command.Encode().Length}", refused.Error.Message);
        Assert.Equal(1_572_864, CoordinationLimits.Default.MaxRequestBytes);
    }

    [Fact]
    public void AGarbageEntryIsAFormatException()
    {
        var machine = new CoordinationStateMachine();
        Assert.Throws<FormatException>(() => machine.Apply(new LogEntry(1, 1, EntryKind.Command, new byte[] { 1, 2, 3 })));
    }

    [Fact]
    public void CommandsRoundTripThroughTheirEncoding() =>
        CoordinationGens.Command.Sample(command =>
        {
            var bytes = command.Encode();
            var decoded = CoordinationCommand.Decode(bytes);
            Assert.Equal(command.ClientId, decoded.ClientId);
            Assert.Equal(command.Sequence, decoded.Sequence);
            Assert.Equal(command.Request.GetType(), decoded.Request.GetType());
            Assert.Equal(bytes, decoded.Encode());
        }, iter: 2_000);

    [Fact]
    public void EveryTruncationOrExtensionOfACommandIsRefused() =>
        CoordinationGens.Command.Sample(command =>
        {
            var bytes = command.Encode();
            for (var length = 0; length < bytes.Length; length++)
            {
                Assert.Throws<FormatException>(() => CoordinationCommand.Decode(bytes.AsSpan(0, length)));
            }

            Assert.Throws<FormatException>(() => CoordinationCommand.Decode([.. bytes, 0]));
            var otherVersion = bytes.ToArray();
            otherVersion[0] = 2;
            Assert.Contains("format 2 is not supported", Assert.Throws<FormatException>(() => CoordinationCommand.Decode(otherVersion)).Message);
        }, iter: 300);

    [Fact]
    public void RandomBytesDecodeOrFailWithAFormatException() =>
        Gen.Select(Gen.Byte.Array[0, 64], Gen.Byte.Array[0, 64], CoordinationGens.Command).Sample((noise, tail, command) =>
        {
            // Pure noise, and a valid header followed by noise: anything but a FormatException is a bug.
            foreach (var data in new[] { noise, [.. command.Encode().Take(1 + 1 + command.ClientId.Length + 8), .. tail] })
            {
                try
                {
                    CoordinationCommand.Decode(data);
                }
                catch (FormatException)
                {
                }
            }
        }, iter: 5_000);

    [Fact]
    public void ASnapshotRestoresAnIdenticalMachine() =>
        Gen.Select(CoordinationGens.Command.Array[0, 60], CoordinationGens.Command.Array[0, 30]).Sample((before, after) =>
        {
            var original = new CoordinationStateMachine();
            var index = 0L;
            foreach (var command in before)
            {
                original.Apply(Entry(++index, command));
            }

            var snapshot = original.TakeSnapshot();
            var restored = CoordinationStateMachine.Restore(snapshot);
            Assert.Equal(snapshot, restored.TakeSnapshot());
            Assert.Equal(original.AppliedIndex, restored.AppliedIndex);

            foreach (var command in after)
            {
                index++;
                Assert.Equal(Encode(original.Apply(Entry(index, command))!), Encode(restored.Apply(Entry(index, command))!));
            }

            Assert.Equal(original.TakeSnapshot(), restored.TakeSnapshot());
            StoreEquivalence.AssertSameReads(original.Store, restored.Store);
        }, iter: 300);

    [Fact]
    public void ARestoredMachineStillAnswersRetriesWithTheFirstOutcome()
    {
        var machine = new CoordinationStateMachine();
        var first = machine.Apply(Entry(1, "a", 1, new PutRequest(B("k"), B("v1")) { PrevKv = true }))!;
        var restored = CoordinationStateMachine.Restore(machine.TakeSnapshot());
        var retried = restored.Apply(Entry(2, "a", 1, new PutRequest(B("k"), B("v1")) { PrevKv = true }))!;
        Assert.Equal(Encode(first), Encode(retried));
        Assert.Equal(2, restored.Store.Revision);
    }

    [Fact]
    public void TransactionsNestedBeyondTheDecodersDepthAreRefused()
    {
        var txn = new TxnRequest([], [], []);
        for (var depth = 0; depth < 70; depth++)
        {
            txn = new TxnRequest([], [txn], []);
        }

        var refused = Assert.Throws<FormatException>(() => CoordinationCommand.Decode(new CoordinationCommand("a", 1, txn).Encode()));
        Assert.Contains("nested deeper than 64", refused.Message);
    }

    [Fact]
    public void AGarbageSnapshotIsAFormatException()
    {
        var machine = new CoordinationStateMachine();
        machine.Apply(Entry(1, "a", 1, new PutRequest(B("k"), B("v"))));
        var snapshot = machine.TakeSnapshot();
        Assert.Throws<FormatException>(() => CoordinationStateMachine.Restore(snapshot.AsSpan(0, snapshot.Length - 1)));
        Assert.Throws<FormatException>(() => CoordinationStateMachine.Restore([.. snapshot, 0]));
        Assert.Throws<FormatException>(() => CoordinationStateMachine.Restore([9, .. snapshot[1..]]));
    }

    [Fact]
    public void ACorruptedSnapshotRestoresOrFailsWithAFormatException() =>
        Gen.Select(CoordinationGens.Command.Array[1, 30], Gen.Int, Gen.Byte).Sample((commands, position, value) =>
        {
            var machine = new CoordinationStateMachine();
            var index = 0L;
            foreach (var command in commands)
            {
                machine.Apply(Entry(++index, command));
            }

            var snapshot = machine.TakeSnapshot();
            snapshot[(int)((uint)position % snapshot.Length)] = value;
            try
            {
                CoordinationStateMachine.Restore(snapshot);
            }
            catch (FormatException)
            {
            }
        }, iter: 1_000);

    internal static byte[] Encode(CoordinationResult result)
    {
        using var writer = new CodecWriter();
        writer.Long(result.Index);
        if (result.Error is { } error)
        {
            CoordinationCodec.Write(writer, error);
        }
        else
        {
            CoordinationCodec.WriteResponse(writer, result.Response!);
        }

        return writer.ToArray();
    }
}
