using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Orleans.Patterns.Raft;

namespace Orleans.Patterns.Benchmarks;

/// <summary>
/// Commit throughput of the Raft core alone: three replicas on a synchronous in-memory network, the log kept in memory,
/// so no disk and no thread hand-off is measured. Each invocation commits 1,000 commands of 128 B proposed in bursts:
/// propose a burst at the leader, then run the group until the leader has applied it. Figures are per committed entry;
/// the burst-of-1 baseline pays a full replication round (an AppendEntries, two acknowledgements, a commit update)
/// per entry, which larger bursts share.
/// </summary>
[MemoryDiagnoser]
public class RaftCoreBenchmarks
{
    private const int Entries = 1000;
    private const int EntryBytes = 128;

    private readonly byte[] _payload = new byte[EntryBytes];
    private RaftGroupDriver? _group;

    [GlobalSetup]
    public void Setup()
    {
        Random.Shared.NextBytes(_payload);
        _group = new RaftGroupDriver(3, new RaftOptions());

        // A short job's three warm-up iterations hold only some hundred invocations, too few for tiered compilation
        // to finish with the protocol's loops: a first run's iterations fell from 1.2 to 0.35 us per entry. Running
        // every burst size for a while here lets all of them reach optimized code before the first measured iteration.
        var warmUp = Stopwatch.StartNew();
        while (warmUp.Elapsed < TimeSpan.FromSeconds(2))
        {
            Commit(1);
            Commit(16);
            Commit(256);
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Entries)]
    public long Burst1() => Commit(1);

    [Benchmark(OperationsPerInvoke = Entries)]
    public long Burst16() => Commit(16);

    [Benchmark(OperationsPerInvoke = Entries)]
    public long Burst256() => Commit(256);

    private long Commit(int burst)
    {
        var group = _group!;
        for (var done = 0; done < Entries; done += burst)
        {
            group.ProposeAndCommit(_payload, Math.Min(burst, Entries - done));
        }

        // Part of the measurement on purpose: a real host compacts too, and 1,000 entries make it a small share.
        group.Compact();
        return group.LeaderApplied;
    }
}

/// <summary>
/// The wire form's cost: encoding and decoding one full AppendEntries (64 entries of 128 B, the default
/// <see cref="RaftOptions.MaxEntriesPerMessage"/>), as every replica grain does for each batch it sends or receives.
/// </summary>
[MemoryDiagnoser]
public class RaftCoreCodecBenchmarks
{
    private AppendEntries _message = null!;
    private byte[] _encoded = [];

    [GlobalSetup]
    public void Setup()
    {
        var payload = new byte[128];
        Random.Shared.NextBytes(payload);
        var entries = Enumerable.Range(1, 64).Select(i => new LogEntry(1000 + i, 3, EntryKind.Command, payload)).ToArray();
        _message = new AppendEntries(new NodeId("silo-1"), new NodeId("silo-2"), 3, 1000, 3, entries, 1000);
        _encoded = RaftMessageCodec.Encode(_message);
    }

    /// <summary>
    /// The floor any wire form pays: allocating one buffer and copying the 8 KiB of payload into it. The codec's
    /// ratios against it show what the framing, the stream and the per-entry fields add.
    /// </summary>
    [Benchmark(Baseline = true)]
    public byte[] CopyPayloads()
    {
        var entries = _message.Entries;
        var buffer = new byte[entries.Count * entries[0].Data.Length];
        var offset = 0;
        foreach (var entry in entries)
        {
            entry.Data.Span.CopyTo(buffer.AsSpan(offset));
            offset += entry.Data.Length;
        }

        return buffer;
    }

    [Benchmark]
    public byte[] Encode() => RaftMessageCodec.Encode(_message);

    [Benchmark]
    public RaftMessage Decode() => RaftMessageCodec.Decode(_encoded);

    [Benchmark]
    public RaftMessage RoundTrip() => RaftMessageCodec.Decode(RaftMessageCodec.Encode(_message));
}
