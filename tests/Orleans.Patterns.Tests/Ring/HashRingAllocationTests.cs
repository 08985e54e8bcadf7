using Orleans.Patterns.Ring;

namespace Orleans.Patterns.Tests.Ring;

/// <summary>
/// Lookups sit on every grain call's routing path, so "no garbage per lookup" is a correctness property here, checked
/// by counting bytes, not by timing.
/// </summary>
[Trait("Category", "Unit")]
public sealed class HashRingAllocationTests
{
    private static readonly HashRing Ring = new(Enumerable.Range(0, 10).Select(i => $"silo-{i}"));
    private static readonly string[] Keys = [.. Enumerable.Range(0, 10_000).Select(i => $"user-{i}")];

    [Fact]
    public void GetOwnerIndex_AllocatesNothing() => AssertNoAllocation(static key => Ring.GetOwnerIndex(key));

    [Fact]
    public void Locate_AllocatesNothing() => AssertNoAllocation(static key => Ring.Locate(key).OwnerIndex);

    [Fact]
    public void GetOwnerIndexBounded_AllocatesNothing()
    {
        int[] loads = new int[Ring.Count];
        loads[3] = 5;
        AssertNoAllocation(key => Ring.GetOwnerIndexBounded(key, loads, 5));
    }

    private static void AssertNoAllocation(Func<string, int> lookup)
    {
        // Warm-up first so tiering and static initialisation happen outside the measured window.
        int sink = 0;
        for (int round = 0; round < 3; round++)
        {
            foreach (string key in Keys)
            {
                sink += lookup(key);
            }
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        foreach (string key in Keys)
        {
            sink += lookup(key);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.True(sink >= 0);
    }
}
