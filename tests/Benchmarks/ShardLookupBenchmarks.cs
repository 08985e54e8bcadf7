using BenchmarkDotNet.Attributes;
using Orleans.Patterns.Ring;
using Orleans.Patterns.Sharding;

namespace Orleans.Patterns.Benchmarks;

/// <summary>
/// Per-user cost of user id → owner through the shard map, against two same-run baselines: hashing alone, and
/// hash-mod-N (Orleans' built-in hash-based placement), with the ring lookup beside it. Each invocation walks 1024
/// user ids so the figures are per lookup and the id mix is not one cached path.
/// </summary>
[MemoryDiagnoser]
public class ShardLookupBenchmarks
{
    private const int UserCount = 1024;

    private string[] _users = [];
    private ShardMap _map = null!;
    private HashRing _ring = HashRing.Empty;

    [Params(10, 100)]
    public int Members { get; set; }

    [Params(4096)]
    public int Shards { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _users = [.. Enumerable.Range(0, UserCount).Select(i => $"user-{i}")];
        string[] silos = [.. Enumerable.Range(0, Members).Select(i => $"silo-{i}")];
        _map = new RendezvousShardAllocator(new ShardLoadCap()).Allocate(silos, Shards);
        _ring = new HashRing(silos);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = UserCount)]
    public ulong HashOnly()
    {
        ulong sum = 0;
        foreach (string user in _users)
        {
            sum += ShardMap.HashUserId(user);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = UserCount)]
    public int HashModN()
    {
        int sum = 0;
        ulong members = (ulong)Members;
        foreach (string user in _users)
        {
            sum += (int)(ShardMap.HashUserId(user) % members);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = UserCount)]
    public int ShardOf()
    {
        int sum = 0;
        foreach (string user in _users)
        {
            sum += _map.ShardOf(user);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = UserCount)]
    public int OwnerOf()
    {
        int sum = 0;
        foreach (string user in _users)
        {
            sum += _map.OwnerOf(user).Length;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = UserCount)]
    public int RingOwner()
    {
        int sum = 0;
        foreach (string user in _users)
        {
            sum += _ring.GetOwnerIndex(user);
        }

        return sum;
    }
}
