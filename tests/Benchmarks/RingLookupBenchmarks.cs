using BenchmarkDotNet.Attributes;
using Orleans.Patterns.Ring;

namespace Orleans.Patterns.Benchmarks;

/// <summary>
/// Per-key cost of ring lookups against two same-run baselines: hashing alone, and hash-mod-N (hash-based placement).
/// Each invocation walks 1024 keys so the figures are per lookup and the key mix is not one cached path.
/// </summary>
[MemoryDiagnoser]
public class RingLookupBenchmarks
{
    private const int KeyCount = 1024;

    private string[] _keys = [];
    private HashRing _ring = HashRing.Empty;
    private int[] _loads = [];
    private int _capacity;

    [Params(3, 10, 100)]
    public int Members { get; set; }

    [Params(64, HashRing.DefaultVirtualNodes, 256)]
    public int VirtualNodes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _keys = [.. Enumerable.Range(0, KeyCount).Select(i => $"user-{i}")];
        _ring = new HashRing(Enumerable.Range(0, Members).Select(i => $"silo-{i}"), VirtualNodes);

        // Every member below capacity: measures the bounded path's fixed overhead (load check, first probe).
        _loads = new int[Members];
        _capacity = 1;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = KeyCount)]
    public ulong HashOnly()
    {
        ulong sum = 0;
        foreach (string key in _keys)
        {
            sum += HashRing.HashKey(key);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = KeyCount)]
    public int HashModN()
    {
        int sum = 0;
        ulong members = (ulong)Members;
        foreach (string key in _keys)
        {
            sum += (int)(HashRing.HashKey(key) % members);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = KeyCount)]
    public int GetOwnerIndex()
    {
        int sum = 0;
        foreach (string key in _keys)
        {
            sum += _ring.GetOwnerIndex(key);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = KeyCount)]
    public int Locate()
    {
        int sum = 0;
        foreach (string key in _keys)
        {
            sum += _ring.Locate(key).VirtualNode;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = KeyCount)]
    public int GetOwnerIndexBounded()
    {
        int sum = 0;
        foreach (string key in _keys)
        {
            sum += _ring.GetOwnerIndexBounded(key, _loads, _capacity);
        }

        return sum;
    }
}
