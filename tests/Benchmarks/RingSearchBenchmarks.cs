using BenchmarkDotNet.Attributes;
using Orleans.Patterns.Ring;

namespace Orleans.Patterns.Benchmarks;

/// <summary>
/// The ring's hand-written branch-light lower bound against <see cref="Array.BinarySearch{T}(T[], T)"/> on the same
/// positions and pre-computed key hashes, isolating the search from hashing.
/// </summary>
[MemoryDiagnoser]
public class RingSearchBenchmarks
{
    private const int KeyCount = 1024;

    private ulong[] _hashes = [];
    private ulong[] _positions = [];

    [Params(3, 10, 100)]
    public int Members { get; set; }

    [Params(HashRing.DefaultVirtualNodes)]
    public int VirtualNodes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _hashes = [.. Enumerable.Range(0, KeyCount).Select(i => HashRing.HashKey($"user-{i}"))];
        _positions = new HashRing(Enumerable.Range(0, Members).Select(i => $"silo-{i}"), VirtualNodes).PositionsForBenchmark;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = KeyCount)]
    public int ArrayBinarySearch()
    {
        int sum = 0;
        foreach (ulong hash in _hashes)
        {
            sum += HashRing.LowerBoundWithArrayBinarySearch(_positions, hash);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = KeyCount)]
    public int BranchLightLowerBound()
    {
        int sum = 0;
        foreach (ulong hash in _hashes)
        {
            sum += HashRing.LowerBound(_positions, hash);
        }

        return sum;
    }
}
