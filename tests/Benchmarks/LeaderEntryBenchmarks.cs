using System.Text;
using BenchmarkDotNet.Attributes;
using Orleans.Patterns.Coordination;

namespace Orleans.Patterns.Benchmarks;

/// <summary>
/// What the Raft leader does with each client command of a coordination batch before proposing it: decode it (a
/// malformed command is refused, naming it), then make the log entry. The baseline encodes again what it decoded,
/// as the leader did for every command; the other tags the client's bytes as they came, as it now does whenever it
/// has nothing of its own to add (puts, deletes, txns: all but lease grants and keep-alives, which it stamps with its
/// clock). A put of a 128-byte value under a 20-byte key, as `bench kv` sends.
/// </summary>
[MemoryDiagnoser]
public class LeaderEntryBenchmarks
{
    private byte[] _command = [];

    [GlobalSetup]
    public void Setup()
    {
        var value = new byte[128];
        Random.Shared.NextBytes(value);
        _command = new CoordinationCommand("etcd-api-silo-1-session-17", 123_456, new PutRequest(Encoding.ASCII.GetBytes("bench-key-0000000123"), value)).Encode();
    }

    [Benchmark(Baseline = true)]
    public byte[] DecodeThenEncodeAgain() => CoordinationWire.ToEntry(CoordinationCommand.Decode(_command));

    [Benchmark]
    public byte[] DecodeThenTagTheClientsBytes()
    {
        _ = CoordinationCommand.Decode(_command);
        return CoordinationWire.ToEntry(_command);
    }
}
