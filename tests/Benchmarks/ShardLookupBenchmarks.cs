using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Orleans.Patterns.Ring;
using Orleans.Patterns.Sharding;

namespace Orleans.Patterns.Benchmarks;

/// <summary>
/// Per-user cost of user id → owner through the shard map, against two same-run baselines: hashing alone, and
/// hash-mod-N (Orleans' built-in hash-based placement), with the ring lookup beside it. Each invocation walks 1024
/// user ids so the figures are per lookup and the id mix is not one cached path. The split variants look up the same
/// ids in the same map with 1% of its shards split (the expected case under hot shards) and with every shard split
/// (the worst case: every lookup reads the two-entries-per-shard table).
/// </summary>
[MemoryDiagnoser]
public class ShardLookupBenchmarks
{
    private const int UserCount = 1024;

    private string[] _users = [];
    private ShardMap _map = null!;
    private ShardMap _onePercentSplit = null!;
    private ShardMap _allSplit = null!;
    private PreSplitLookup _preSplit = null!;
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
        _onePercentSplit = Split(_map, every: 100);
        _allSplit = Split(_map, every: 1);
        _preSplit = new PreSplitLookup([.. Enumerable.Range(0, Shards).Select(_map.OwnerOfShard)]);
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

    // ShardMap.OwnerOf as it was before splits, to show what the split table's shift and mask cost a map without splits.
    [Benchmark(OperationsPerInvoke = UserCount)]
    public int OwnerOfPreSplitCode()
    {
        int sum = 0;
        foreach (string user in _users)
        {
            sum += _preSplit.OwnerOf(user).Length;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = UserCount)]
    public int OwnerOfOnePercentSplit()
    {
        int sum = 0;
        foreach (string user in _users)
        {
            sum += _onePercentSplit.OwnerOf(user).Length;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = UserCount)]
    public int OwnerOfAllSplit()
    {
        int sum = 0;
        foreach (string user in _users)
        {
            sum += _allSplit.OwnerOf(user).Length;
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

    // Every shard whose number is a multiple of `every`, split to the member after its owner.
    private static ShardMap Split(ShardMap map, int every)
    {
        var splits = new List<ShardSplit>();
        for (int shard = 0; shard < map.ShardCount; shard += every)
        {
            splits.Add(new ShardSplit(shard, map.Members[(map.OwnerIndexOfShard(shard) + 1) % map.Members.Count]));
        }

        return new ShardMap(map.Epoch, map.Members, [.. Enumerable.Range(0, map.ShardCount).Select(map.OwnerOfShard)], splits);
    }

    private sealed class PreSplitLookup(string[] ownerNames)
    {
        public string OwnerOf(ReadOnlySpan<char> userId)
        {
            string[] owners = ownerNames;
            int shard = ShardMap.ShardOfHash(ShardMap.HashUserId(userId), owners.Length);
            return Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(owners), shard);
        }
    }
}
