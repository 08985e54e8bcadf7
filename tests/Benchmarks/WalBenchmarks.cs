using BenchmarkDotNet.Attributes;
using Orleans.Patterns.Raft;
using Orleans.Patterns.Raft.Storage;

namespace Orleans.Patterns.Benchmarks;

/// <summary>
/// Durable append throughput of the Raft log: each operation is one awaited PersistAsync of a batch of 128-byte
/// entries, fsync included. Figures are per entry (OperationsPerInvoke = batch size), so the ratio against the
/// batch-of-1 baseline shows how much of an entry's cost is the fsync that batching shares. Each runs twice: with
/// the segment extended ahead of its writes (the default) and appending to a growing file (0), whose fsyncs must also
/// record the new file size.
/// </summary>
[MemoryDiagnoser]
public class WalBenchmarks
{
    private const int EntryBytes = 128;

    private readonly byte[] _payload = new byte[EntryBytes];
    private string _directory = string.Empty;
    private FileRaftStorage? _storage;
    private long _nextIndex;

    [Params(0L, FileRaftStorageOptions.DefaultPreallocateBytes)]
    public long PreallocateBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "wal-bench-" + Guid.NewGuid().ToString("N"));
        _storage = new FileRaftStorage(_directory, new FileRaftStorageOptions { PreallocateBytes = PreallocateBytes });
        _storage.Recover();
        _nextIndex = 1;
        Random.Shared.NextBytes(_payload);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _storage?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = 1)]
    public Task Batch1() => Append(1);

    [Benchmark(OperationsPerInvoke = 16)]
    public Task Batch16() => Append(16);

    [Benchmark(OperationsPerInvoke = 128)]
    public Task Batch128() => Append(128);

    private Task Append(int count)
    {
        var entries = new LogEntry[count];
        for (var i = 0; i < count; i++)
        {
            entries[i] = new LogEntry(_nextIndex++, 1, EntryKind.Command, _payload);
        }

        return _storage!.PersistAsync(new PersistBatch(null, entries, null), CancellationToken.None);
    }
}
