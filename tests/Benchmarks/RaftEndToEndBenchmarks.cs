using BenchmarkDotNet.Attributes;
using Orleans.Patterns.Raft;
using Orleans.Patterns.Raft.Storage;

namespace Orleans.Patterns.Benchmarks;

/// <summary>
/// The same three-replica group as <see cref="RaftCoreBenchmarks"/>, but each replica persists to its own
/// <see cref="FileRaftStorage"/> (fsync on) in a temporary directory, the three writing concurrently as three machines
/// would. A burst of 1 pays several fsync rounds per entry (the leader's append, the followers' appends, then the commit
/// index on each); a burst of 64 shares each round among all its entries, which is what group commit buys.
/// </summary>
[MemoryDiagnoser]
public class RaftEndToEndBenchmarks
{
    private const int Entries = 64;
    private const int EntryBytes = 128;

    private readonly byte[] _payload = new byte[EntryBytes];
    private string _directory = string.Empty;
    private FileRaftStorage[] _storage = [];
    private RaftGroupDriver? _group;

    [GlobalSetup]
    public void Setup()
    {
        Random.Shared.NextBytes(_payload);
        _directory = Path.Combine(Path.GetTempPath(), "raft-e2e-bench-" + Guid.NewGuid().ToString("N"));
        _storage = [.. Enumerable.Range(1, 3).Select(i => new FileRaftStorage(Path.Combine(_directory, $"n{i}")))];
        foreach (var storage in _storage)
        {
            storage.Recover();
        }

        _group = new RaftGroupDriver(3, new RaftOptions(), [.. _storage]);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var storage in _storage)
        {
            storage.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Entries)]
    public Task Burst1() => Commit(1);

    [Benchmark(OperationsPerInvoke = Entries)]
    public Task Burst64() => Commit(64);

    private async Task Commit(int burst)
    {
        for (var done = 0; done < Entries; done += burst)
        {
            await _group!.ProposeAndCommitAsync(_payload, Math.Min(burst, Entries - done));
        }
    }
}
