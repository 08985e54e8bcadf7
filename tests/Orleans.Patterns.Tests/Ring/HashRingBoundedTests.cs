using Orleans.Patterns.Ring;

namespace Orleans.Patterns.Tests.Ring;

[Trait("Category", "Unit")]
public sealed class HashRingBoundedTests
{
    private static readonly HashRing Ring = new(Enumerable.Range(0, 5).Select(i => $"silo-{i}"), 16);

    [Fact]
    public void WithRoomEverywhere_BoundedEqualsUnbounded()
    {
        var loads = new int[Ring.Count];
        for (int i = 0; i < 2_000; i++)
        {
            string key = $"user-{i}";
            Assert.Equal(Ring.GetOwnerIndex(key), Ring.GetOwnerIndexBounded(key, loads, 1));
        }
    }

    [Fact]
    public void NaturalOwnerFull_GoesToTheNextMemberClockwise()
    {
        var oracle = new RingOracle(Ring.Members, 16);
        for (int i = 0; i < 2_000; i++)
        {
            string key = $"user-{i}";
            RingLocation location = Ring.Locate(key);
            var loads = new int[Ring.Count];
            loads[location.OwnerIndex] = 10;

            // Walk the definition: the first virtual node after the key's whose member differs.
            int node = oracle.NodeFor(location.KeyHash);
            int expected = location.OwnerIndex;
            for (int step = 1; expected == location.OwnerIndex; step++)
            {
                expected = oracle.Node(node + step).Member;
            }

            int chosen = Ring.GetOwnerIndexBounded(key, loads, 10);
            Assert.NotEqual(location.OwnerIndex, chosen);
            Assert.Equal(expected, chosen);
        }
    }

    [Fact]
    public void EveryMemberFull_ReturnsMinusOne()
    {
        Assert.Equal(-1, Ring.GetOwnerIndexBounded("user-1", [3, 3, 3, 3, 3], 3));
        Assert.Equal(-1, Ring.GetOwnerIndexBounded("user-1", [4, 9, 3, 5, 3], 3));
        Assert.Equal(2, Ring.GetOwnerIndexBounded("user-1", [4, 9, 2, 5, 3], 3));
    }

    [Fact]
    public void LoadsOfTheWrongLength_Throw() =>
        Assert.Equal("loads", Assert.Throws<ArgumentException>(() => Ring.GetOwnerIndexBounded("k", [0, 0], 1)).ParamName);

    [Fact]
    public void PlacingWithBoundedCapacity_KeepsEveryMemberWithinTheFactor()
    {
        HashRing ring = new(Enumerable.Range(0, 10).Select(i => $"silo-{i}"));
        var loads = new int[ring.Count];
        const int Keys = 50_000;
        for (int i = 0; i < Keys; i++)
        {
            int capacity = HashRing.BoundedCapacity(i, ring.Count, 1.1);
            int owner = ring.GetOwnerIndexBounded($"user-{i}", loads, capacity);
            Assert.NotEqual(-1, owner);
            loads[owner]++;
        }

        // Unbounded, this layout peaks well above 1.1 x mean (see the balance test); bounded it cannot.
        Assert.True(loads.Max() <= HashRing.BoundedCapacity(Keys - 1, ring.Count, 1.1));
        Assert.Equal(Keys, loads.Sum());
    }

    [Theory]
    [InlineData(0, 10, 1.25, 1)]
    [InlineData(99, 10, 1.0, 10)]
    [InlineData(100, 10, 1.0, 11)]
    [InlineData(1000, 10, 1.25, 126)]
    [InlineData(7, 1, 2.0, 16)]
    public void BoundedCapacity_IsTheCeilingOfFactorTimesAverage(long total, int members, double factor, int expected) =>
        Assert.Equal(expected, HashRing.BoundedCapacity(total, members, factor));

    [Fact]
    public void BoundedCapacity_RejectsBadArguments()
    {
        Assert.Equal("balanceFactor", Assert.Throws<ArgumentOutOfRangeException>(() => HashRing.BoundedCapacity(10, 3, 0.99)).ParamName);
        Assert.Equal("balanceFactor", Assert.Throws<ArgumentOutOfRangeException>(() => HashRing.BoundedCapacity(10, 3, double.NaN)).ParamName);
        Assert.Equal("members", Assert.Throws<ArgumentOutOfRangeException>(() => HashRing.BoundedCapacity(10, 0, 1.2)).ParamName);
        Assert.Equal("totalLoad", Assert.Throws<ArgumentOutOfRangeException>(() => HashRing.BoundedCapacity(-1, 3, 1.2)).ParamName);
    }
}
