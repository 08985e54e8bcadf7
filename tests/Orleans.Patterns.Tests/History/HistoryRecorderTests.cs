using Orleans.Patterns.History;

namespace Orleans.Patterns.Tests.History;

[Trait("Category", "Unit")]
public sealed class HistoryRecorderTests
{
    [Fact]
    public void RecordsInInvocationOrder_WithCallAndReturnTimes_OnTheRunClock()
    {
        var time = new ManualTime(); // 1000 ticks per second: one tick is 1 ms = 1,000,000 ns
        var recorder = new HistoryRecorder(time);

        time.Advance(2);
        HistoryHandle put = recorder.Invoke(3, HistoryOpKind.Put, "k1", "v7");
        time.Advance(1);
        HistoryHandle get = recorder.Invoke(5, HistoryOpKind.Get, "k1");
        time.Advance(1);
        HistoryHandle cas = recorder.Invoke(2, HistoryOpKind.Cas, "k1", "v8", expected: "v7");
        time.Advance(1);
        recorder.Complete(get, ok: true, output: "v7");
        time.Advance(1);
        recorder.Complete(put, ok: true);
        recorder.Unknown(cas);

        var text = new StringWriter();
        recorder.WriteTo(text);
        Assert.Equal(
            """
            {"client":3,"op":"put","key":"k1","value":"v7","call_ns":2000000,"return_ns":6000000,"ok":true}
            {"client":5,"op":"get","key":"k1","call_ns":3000000,"return_ns":5000000,"ok":true,"output":"v7"}
            {"client":2,"op":"cas","key":"k1","expected":"v7","value":"v8","call_ns":4000000,"return_ns":null,"ok":null}

            """.ReplaceLineEndings("\n"),
            text.ToString());
    }

    [Fact]
    public void PendingOperations_AreReportedAsUnknown_AndFailuresCarryNoOutput()
    {
        var recorder = new HistoryRecorder();
        HistoryHandle failed = recorder.Invoke(1, HistoryOpKind.Get, "k");
        _ = recorder.Invoke(1, HistoryOpKind.Put, "k", "v");
        recorder.Complete(failed, ok: false, output: "ignored");

        IReadOnlyList<HistoryOperation> history = recorder.Snapshot();
        Assert.Equal((false, (string?)null), (history[0].Ok!.Value, history[0].Output));
        Assert.NotNull(history[0].ReturnNs);
        Assert.Equal(((bool?)null, (long?)null), (history[1].Ok, history[1].ReturnNs));
    }

    [Fact]
    public void CompletingTwice_Throws()
    {
        var recorder = new HistoryRecorder();
        HistoryHandle handle = recorder.Invoke(1, HistoryOpKind.Delete, "k");
        recorder.Complete(handle, ok: true);
        Assert.Throws<InvalidOperationException>(() => recorder.Unknown(handle));
        Assert.Throws<InvalidOperationException>(() => recorder.Complete(handle, ok: true));
    }

    [Fact]
    public void Txn_RecordsItsSubOperationsAndResults()
    {
        var recorder = new HistoryRecorder(new ManualTime());
        HistoryHandle txn = recorder.InvokeTxn(4, [new() { Op = HistoryOpKind.Get, Key = "a" }, new() { Op = HistoryOpKind.Put, Key = "b", Value = "1" }]);
        recorder.Complete(txn, ok: true, txnResults: [new() { Op = HistoryOpKind.Get, Key = "a", Output = "0" }, new() { Op = HistoryOpKind.Put, Key = "b", Value = "1" }]);
        Assert.Equal(
            """{"client":4,"op":"txn","ops":[{"op":"get","key":"a","output":"0"},{"op":"put","key":"b","value":"1"}],"call_ns":0,"return_ns":0,"ok":true}""",
            recorder.Snapshot()[0].ToString());
    }

    [Fact]
    public void ConcurrentClients_KeepCallTimesInInvocationOrder_AndEveryIntervalOrdered()
    {
        var recorder = new HistoryRecorder();
        Parallel.For(0, 8, client =>
        {
            for (int i = 0; i < 500; i++)
            {
                HistoryHandle handle = recorder.Invoke(client, HistoryOpKind.Put, $"k{i % 5}", $"v{client}-{i}");
                recorder.Complete(handle, ok: true);
            }
        });

        IReadOnlyList<HistoryOperation> history = recorder.Snapshot();
        Assert.Equal(4000, history.Count);
        Assert.All(history, op => Assert.True(op.ReturnNs >= op.CallNs));
        Assert.True(history.Zip(history.Skip(1)).All(pair => pair.First.CallNs <= pair.Second.CallNs));
    }

    private sealed class ManualTime : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => 1000;

        public override long GetTimestamp() => _ticks;

        public void Advance(long ticks) => _ticks += ticks;
    }
}
