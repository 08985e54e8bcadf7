using Orleans.Patterns.Ring;

namespace Orleans.Patterns.Tests.Ring;

[Trait("Category", "Unit")]
public sealed class HashRingTests
{
    private const int KeyCount = 100_000;

    private static readonly string[] Keys = [.. Enumerable.Range(0, KeyCount).Select(i => $"user-{i}")];

    private static HashRing Ring(int members, int virtualNodes = HashRing.DefaultVirtualNodes) =>
        new(Enumerable.Range(0, members).Select(i => $"silo-{i}"), virtualNodes);

    // Measured with the default virtual nodes, members "silo-{i}", keys "user-{i}": 3 members 1.094, 10 members 1.174, 100 members 1.226.
    // The bounds leave slack for that one layout, not for a different default: changing the default should make
    // someone re-measure (tests/Benchmarks ring-balance) and revisit these.
    [Theory]
    [InlineData(3, 1.15)]
    [InlineData(10, 1.25)]
    [InlineData(100, 1.30)]
    public void Balance_PeakToMeanLoadIsBounded(int members, double bound)
    {
        HashRing ring = Ring(members);
        var loads = new int[members];
        foreach (string key in Keys)
        {
            loads[ring.GetOwnerIndex(key)]++;
        }

        double peakToMean = loads.Max() / loads.Average();
        Assert.True(peakToMean <= bound, $"peak/mean {peakToMean:F3} exceeds {bound} at {members} members");
    }

    [Theory]
    [InlineData(3)]
    [InlineData(10)]
    [InlineData(100)]
    public void AddingAMember_MovesOnlyKeysToIt_AndCloseToTheOptimalFraction(int members)
    {
        HashRing before = Ring(members);
        const string Joiner = "silo-new";
        HashRing after = before.WithMember(Joiner);

        int moved = 0;
        foreach (string key in Keys)
        {
            string oldOwner = before.GetOwner(key);
            string newOwner = after.GetOwner(key);
            if (oldOwner != newOwner)
            {
                Assert.Equal(Joiner, newOwner);
                moved++;
            }
        }

        // The optimum is 1/(N+1) of the keys; the joiner's share varies with its vnode layout like any member's.
        double ratio = moved / (double)KeyCount * (members + 1);
        Assert.InRange(ratio, 0.7, 1.3);
    }

    [Fact]
    public void RemovingAMember_MovesExactlyItsKeys()
    {
        HashRing before = Ring(10);
        HashRing after = before.WithoutMember("silo-4");

        int moved = 0;
        foreach (string key in Keys)
        {
            string oldOwner = before.GetOwner(key);
            string newOwner = after.GetOwner(key);
            Assert.Equal(oldOwner == "silo-4", oldOwner != newOwner);
            moved += oldOwner != newOwner ? 1 : 0;
        }

        Assert.True(moved > 0);
        Assert.Equal(9, after.Count);
        Assert.False(after.Contains("silo-4"));
    }

    [Fact]
    public void MemberOrder_DoesNotChangeAnyOwner()
    {
        string[] members = [.. Enumerable.Range(0, 12).Select(i => $"silo-{i}")];
        var reference = new HashRing(members);
        var reversed = new HashRing(members.Reverse());
        var shuffled = new HashRing(members.OrderBy(m => HashRing.HashKey(m)));

        Assert.Equal(reference.Members, reversed.Members);
        Assert.Equal(reference.Members, shuffled.Members);
        foreach (string key in Keys.Take(20_000))
        {
            int owner = reference.GetOwnerIndex(key);
            Assert.Equal(owner, reversed.GetOwnerIndex(key));
            Assert.Equal(owner, shuffled.GetOwnerIndex(key));
        }
    }

    // Pinned once from this implementation. These values are the cross-process contract: a silo and a client built
    // from different commits must compute the same positions, so any change to the hash function, its seed, the
    // key encoding or the vnode naming has to fail here first.
    [Theory]
    [InlineData("alice", 16379572870926341049UL)]
    [InlineData("bob", 9647842042864050601UL)]
    [InlineData("", 3244421341483603138UL)]
    [InlineData("user-42", 7095089167748349013UL)]
    public void HashKey_IsPinned(string key, ulong expected) => Assert.Equal(expected, HashRing.HashKey(key));

    [Fact]
    public void VirtualNodePositionsAndOwners_ArePinned()
    {
        Assert.Equal(HashRing.HashKey("silo-0#0"), HashRing.VirtualNodePosition("silo-0", 0));
        Assert.Equal(HashRing.HashKey("silo-2#127"), HashRing.VirtualNodePosition("silo-2", 127));
        Assert.Equal(17128858805405423494UL, HashRing.VirtualNodePosition("silo-1", 7));

        var ring = new HashRing(["silo-0", "silo-1", "silo-2"]);
        Assert.Equal("silo-1,silo-2,silo-2,silo-2,silo-0,silo-0", string.Join(",", Enumerable.Range(0, 6).Select(i => ring.GetOwner($"user-{i}"))));
    }

    [Fact]
    public void EmptyRing_ThrowsOnLookup()
    {
        Assert.True(HashRing.Empty.IsEmpty);
        Assert.Equal(0, HashRing.Empty.Count);
        Assert.Empty(HashRing.Empty.KeySpaceShares());
        Assert.True(new HashRing([]).IsEmpty);

        HashRing empty = HashRing.Empty;
        Assert.Equal("The ring has no members", Assert.Throws<InvalidOperationException>(() => empty.GetOwnerIndex("k")).Message);
        Assert.Equal("The ring has no members", Assert.Throws<InvalidOperationException>(() => empty.GetOwner("k")).Message);
        Assert.Equal("The ring has no members", Assert.Throws<InvalidOperationException>(() => empty.Locate("k")).Message);
        Assert.Throws<InvalidOperationException>(() => empty.GetOwnerIndexBounded("k", [], 1));

        // Removing the last member gives an empty ring again.
        Assert.True(empty.WithMember("a").WithoutMember("a").IsEmpty);
    }

    [Fact]
    public void BadInput_ThrowsNamingTheParameterAndValue()
    {
        Assert.Equal("members", Assert.Throws<ArgumentNullException>(() => new HashRing(null!)).ParamName);

        ArgumentException nullMember = Assert.Throws<ArgumentException>(() => new HashRing(["a", null!]));
        Assert.Equal("members", nullMember.ParamName);
        Assert.Contains("null", nullMember.Message, StringComparison.Ordinal);

        Assert.Equal("members", Assert.Throws<ArgumentException>(() => new HashRing(["a", ""])).ParamName);
        Assert.Equal("members", Assert.Throws<ArgumentException>(() => new HashRing(["a", " \t"])).ParamName);

        ArgumentException duplicate = Assert.Throws<ArgumentException>(() => new HashRing(["a", "silo-1", "b", "silo-1"]));
        Assert.Equal("members", duplicate.ParamName);
        Assert.Contains("'silo-1'", duplicate.Message, StringComparison.Ordinal);

        foreach (int bad in new[] { 0, -1, HashRing.MaxVirtualNodes + 1 })
        {
            ArgumentOutOfRangeException e = Assert.Throws<ArgumentOutOfRangeException>(() => new HashRing(["a"], bad));
            Assert.Equal("virtualNodesPerMember", e.ParamName);
            Assert.Equal(bad, e.ActualValue);
        }

        Assert.Equal(1, new HashRing(["a"], 1).VirtualNodesPerMember);
        Assert.Equal(HashRing.MaxVirtualNodes, new HashRing(["a"], HashRing.MaxVirtualNodes).VirtualNodesPerMember);
        Assert.Equal("member", Assert.Throws<ArgumentException>(() => Ring(3).WithMember(" ")).ParamName);
    }

    [Fact]
    public void MembersAreSortedOrdinalAndReadOnly()
    {
        var ring = new HashRing(["b", "a", "B", "silo-10", "silo-9"], 8);
        Assert.Equal(["B", "a", "b", "silo-10", "silo-9"], ring.Members);
        Assert.IsNotType<string[]>(ring.Members);
        Assert.Equal(8, ring.VirtualNodesPerMember);
        Assert.Equal(5, ring.Count);
        Assert.Equal(3, ring.IndexOf("silo-10"));
        Assert.Equal(-1, ring.IndexOf("c"));
    }

    [Fact]
    public void WithAndWithoutMember_KeepVirtualNodesAndAreIdempotent()
    {
        HashRing ring = Ring(3, 32);
        HashRing grown = ring.WithMember("silo-x");
        Assert.Equal(32, grown.VirtualNodesPerMember);
        Assert.Equal(["silo-0", "silo-1", "silo-2", "silo-x"], grown.Members);
        Assert.Same(grown, grown.WithMember("silo-x"));
        Assert.Same(ring, ring.WithoutMember("silo-x"));
        Assert.Equal(ring.Members, grown.WithoutMember("silo-x").Members);
        Assert.Equal(32, ring.WithoutMember("silo-0").VirtualNodesPerMember);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(10)]
    [InlineData(100)]
    public void KeySpaceShares_SumToOne_AndAreNearEqual(int members)
    {
        double[] shares = Ring(members).KeySpaceShares();
        Assert.Equal(members, shares.Length);
        Assert.Equal(1.0, shares.Sum(), 1e-9);

        // Bounds from the same layouts as the balance test (key-space shares, no key-sampling noise).
        foreach (double share in shares)
        {
            Assert.InRange(share * members, 0.7, 1.3);
        }
    }

    [Fact]
    public void KeySpaceShares_OfASingleVirtualNode_IsTheWholeCircle() =>
        Assert.Equal([1.0], new HashRing(["only"], 1).KeySpaceShares());

    [Fact]
    public void Locate_AgreesWithGetOwnerIndexAndTheDefinition()
    {
        HashRing ring = Ring(5, 16);
        var oracle = new RingOracle(ring.Members, 16);
        foreach (string key in Keys.Take(5_000))
        {
            RingLocation location = ring.Locate(key);
            Assert.Equal(HashRing.HashKey(key), location.KeyHash);
            Assert.Equal(ring.GetOwnerIndex(key), location.OwnerIndex);
            Assert.Equal(ring.Members[location.OwnerIndex], location.Owner);
            Assert.Equal(ring.GetOwner(key), location.Owner);
            Assert.InRange(location.VirtualNode, 0, 15);
            Assert.Equal(HashRing.VirtualNodePosition(location.Owner, location.VirtualNode), location.VirtualNodePosition);

            (ulong position, int member, int vnode) = oracle.Node(oracle.NodeFor(location.KeyHash));
            Assert.Equal((position, member, vnode), (location.VirtualNodePosition, location.OwnerIndex, location.VirtualNode));
        }
    }
}
