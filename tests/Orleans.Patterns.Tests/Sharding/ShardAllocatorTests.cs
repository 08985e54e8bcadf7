using Orleans.Patterns.Sharding;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Sharding;

[Trait("Category", "Unit")]
public sealed class ShardAllocatorTests(ITestOutputHelper output)
{
    private const int Shards = 4096;

    private static readonly string[] AllNames = [ShardAllocators.Rendezvous, ShardAllocators.RendezvousBounded, ShardAllocators.Ring, ShardAllocators.RingBounded];
    private static readonly string[] BoundedNames = [ShardAllocators.RendezvousBounded, ShardAllocators.RingBounded];

    public static TheoryData<string> All => [.. AllNames];

    public static TheoryData<string> Bounded => [.. BoundedNames];

    public static TheoryData<string, int> AllBySize => Sizes(AllNames);

    public static TheoryData<string, int> BoundedBySize => Sizes(BoundedNames);

    // Pinned like ShardOf: every process must rank members for a shard the same way.
    [Fact]
    public void RendezvousScore_IsPinned()
    {
        Assert.Equal(0x303090694D8AB17BUL, RendezvousShardAllocator.Score("silo-1", 0));
        Assert.Equal(0x1C5C11057F8B8872UL, RendezvousShardAllocator.Score("silo-2", 4095));
        Assert.Equal("shard-17", RingShardAllocator.ShardKey(17));
    }

    [Fact]
    public void LoadCap_KeepsMaxOverAverageAtOrBelowTheFactor_AndLeavesRoomForEveryShard()
    {
        var cap = new ShardLoadCap();

        // 40.96 average: ceil(1.1 * 40.96) = 46 would be 1.12x, so the floor, 45, applies.
        Assert.Equal(45, cap.For(4096, 100));
        Assert.Equal(450, cap.For(4096, 10));

        // Fewer shards than members: one each at most still fits them all.
        Assert.Equal(1, cap.For(3, 10));
        Assert.Equal(2, new ShardLoadCap(1.01).For(11, 10));
    }

    [Fact]
    public void FillLevel_IsTheCapOfOneMoreMember_NeverBelowAnEvenSplit()
    {
        var cap = new ShardLoadCap();

        // 101 members cap at floor(1.1 * 40.55) = 44; filling 100 members to 44 leaves nothing to shed on a join.
        Assert.Equal(44, cap.FillFor(4096, 100));
        Assert.Equal(cap.For(4096, 101), cap.FillFor(4096, 100));

        // floor(1.1 * 4096 / 11) = 409 is below the even split of 410, which every member must be allowed.
        Assert.Equal(410, cap.FillFor(4096, 10));
        Assert.Equal(1, cap.FillFor(3, 10));
    }

    [Theory]
    [InlineData(ShardAllocators.RendezvousBounded)]
    [InlineData(ShardAllocators.RingBounded)]
    public void A_join_at_100_members_moves_within_5_percent_of_the_optimum_and_only_to_the_joiner(string name)
    {
        var allocator = ShardAllocators.Create(name);
        for (var trial = 0; trial < 5; trial++)
        {
            var members = Enumerable.Range(1, 100).Select(i => $"silo-t{trial}-{i}").ToList();
            var before = allocator.Allocate(members, 4096);
            var after = allocator.Allocate([.. members, $"silo-t{trial}-new"], 4096, before);

            var moves = after.MovesFrom(before);
            Assert.All(moves, m => Assert.Equal($"silo-t{trial}-new", m.To));
            Assert.True(moves.Count <= 1.05 * 4096 / 101, $"trial {trial}: {moves.Count} shards moved, optimum {4096 / 101.0:0.0}");
            Assert.True(after.ShardCounts.Max() <= 1.10 * 4096 / 101, $"trial {trial}: max load {after.ShardCounts.Max()}");
        }
    }

    [Theory]
    [MemberData(nameof(All))]
    public void EpochsCount_FromOne(string name)
    {
        IShardAllocator allocator = ShardAllocators.Create(name);
        ShardMap first = allocator.Allocate(ShardAllocators.Silos(3), 64);
        ShardMap second = allocator.Allocate(ShardAllocators.Silos(4), 64, first);
        Assert.Equal(1, first.Epoch);
        Assert.Equal(2, second.Epoch);
    }

    [Theory]
    [MemberData(nameof(All))]
    public void SameMembersAgain_MovesNothing(string name)
    {
        IShardAllocator allocator = ShardAllocators.Create(name);
        ShardMap map = allocator.Allocate(ShardAllocators.Silos(10), Shards);
        ShardMap again = allocator.Allocate(ShardAllocators.Silos(10).Reverse(), Shards, map);
        Assert.Empty(again.MovesFrom(map));
    }

    [Theory]
    [MemberData(nameof(BoundedBySize))]
    public void Bounded_MaxOverAverageStaysWithinTheFactor_ThroughJoinsAndLeaves(string name, int members)
    {
        IShardAllocator allocator = ShardAllocators.Create(name);
        ShardMap map = allocator.Allocate(ShardAllocators.Silos(members), Shards);
        AssertBalanced(map);
        ShardMap joined = allocator.Allocate([.. ShardAllocators.Silos(members), "joiner"], Shards, map);
        AssertBalanced(joined);
        ShardMap left = allocator.Allocate(ShardAllocators.Silos(members).Skip(1), Shards, map);
        AssertBalanced(left);

        void AssertBalanced(ShardMap m)
        {
            double maxOverAverage = m.ShardCounts.Max() / ((double)Shards / m.Members.Count);
            output.WriteLine($"{name}, {m.Members.Count} members: max/avg {maxOverAverage:F3}");
            Assert.True(maxOverAverage <= ShardLoadCap.DefaultBalanceFactor, $"max/avg {maxOverAverage:F3}");
        }
    }

    [Theory]
    [MemberData(nameof(AllBySize))]
    public void Leave_MovesExactlyTheLeaversShards(string name, int members)
    {
        IShardAllocator allocator = ShardAllocators.Create(name);
        string[] silos = ShardAllocators.Silos(members);
        ShardMap map = allocator.Allocate(silos, Shards);
        foreach (string leaver in silos.Take(10))
        {
            ShardMap after = allocator.Allocate(silos.Where(s => s != leaver), Shards, map);
            ShardMovement movement = ShardMovement.Between(map, after);
            Assert.Equal(map.ShardCountOf(leaver), movement.Moved);
            Assert.All(after.MovesFrom(map), move => Assert.Equal(leaver, move.From));
            Assert.Equal(1.0, movement.Ratio);
        }
    }

    // Plain consistent hashing moves whatever the joiner wins, a random share with a standard deviation of ~15% at
    // 100 members (about sqrt(S/N) shards), so the law is about the mean over many joiners, not one join.
    [Theory]
    [InlineData(ShardAllocators.Rendezvous, 10)]
    [InlineData(ShardAllocators.Rendezvous, 100)]
    [InlineData(ShardAllocators.Ring, 10)]
    [InlineData(ShardAllocators.Ring, 100)]
    public void Unbounded_JoinMovesOnlyToTheJoiner_CloseToTheOptimumOnAverage(string name, int members)
    {
        IShardAllocator allocator = ShardAllocators.Create(name);
        string[] silos = ShardAllocators.Silos(members);
        ShardMap map = allocator.Allocate(silos, Shards);
        var ratios = new List<double>();
        for (int j = 0; j < 40; j++)
        {
            string joiner = $"joiner-{j}";
            ShardMap after = allocator.Allocate([.. silos, joiner], Shards, map);
            Assert.All(after.MovesFrom(map), move => Assert.Equal(joiner, move.To));
            ratios.Add(ShardMovement.Between(map, after).Ratio);
        }

        output.WriteLine($"{name}, {members} -> {members + 1}: moved/optimum mean {ratios.Average():F3}, min {ratios.Min():F3}, max {ratios.Max():F3} over 40 joiners");
        Assert.True(ratios.Average() <= 1.05, $"mean ratio {ratios.Average():F3}");
    }

    // A join lowers the cap (floor(1.1 * S/(N+1)) < floor(1.1 * S/N)), and every member above the new cap must shed
    // shards whatever the algorithm: that excess, or one fair share for the joiner if larger, is the least any
    // bounded allocation can move. The sticky assignment moves exactly that much.
    [Theory]
    [MemberData(nameof(BoundedBySize))]
    public void Bounded_JoinMovesTheLeastTheCapAllows(string name, int members)
    {
        IShardAllocator allocator = ShardAllocators.Create(name);
        string[] silos = ShardAllocators.Silos(members);
        ShardMap map = allocator.Allocate(silos, Shards);
        int newCap = new ShardLoadCap().For(Shards, members + 1);
        int fairShare = (Shards + members) / (members + 1);
        int excess = silos.Sum(s => Math.Max(0, map.ShardCountOf(s) - newCap));
        var ratios = new List<double>();
        for (int j = 0; j < 10; j++)
        {
            ShardMap after = allocator.Allocate([.. silos, $"joiner-{j}"], Shards, map);
            ShardMovement movement = ShardMovement.Between(map, after);
            Assert.True(movement.Moved <= Math.Max(excess, fairShare), $"{movement} with excess {excess}, fair share {fairShare}");
            ratios.Add(movement.Ratio);
        }

        output.WriteLine(
            $"{name}, {members} -> {members + 1}: moved/optimum mean {ratios.Average():F3}, max {ratios.Max():F3}; " +
            $"shards forced off members above the new cap {excess}, fair share {fairShare}");
    }

    // The 1.05x target at 10 members. At 100 members the cap drops from 45 to 44 on a join, which forces 44 shards
    // (rendezvous) or 42 (ring) off full members of a fresh map against an optimum of 40.55: 1.085x and 1.036x, so
    // 1.05x is not reachable there for rendezvous; the previous test holds both to that floor instead.
    [Theory]
    [MemberData(nameof(Bounded))]
    public void Bounded_JoinAtTenMembers_IsWithinFivePercentOfTheOptimum(string name)
    {
        IShardAllocator allocator = ShardAllocators.Create(name);
        string[] silos = ShardAllocators.Silos(10);
        ShardMap map = allocator.Allocate(silos, Shards);
        for (int j = 0; j < 10; j++)
        {
            ShardMovement movement = ShardMovement.Between(map, allocator.Allocate([.. silos, $"joiner-{j}"], Shards, map));
            Assert.True(movement.Ratio <= 1.05, movement.ToString());
        }
    }

    [Theory]
    [MemberData(nameof(All))]
    public void BadInput_IsRejected_NamingTheParameterAndValue(string name)
    {
        IShardAllocator allocator = ShardAllocators.Create(name);

        var noShards = Assert.Throws<ArgumentOutOfRangeException>(() => allocator.Allocate(["a"], 0));
        Assert.Equal("shardCount", noShards.ParamName);
        Assert.Contains("between 1 and 65536; got 0", noShards.Message, StringComparison.Ordinal);

        var tooMany = Assert.Throws<ArgumentOutOfRangeException>(() => allocator.Allocate(["a"], 65537));
        Assert.Contains("got 65537", tooMany.Message, StringComparison.Ordinal);

        var noMembers = Assert.Throws<ArgumentException>(() => allocator.Allocate([], 16));
        Assert.Equal("members", noMembers.ParamName);
        Assert.Contains("At least one member is required", noMembers.Message, StringComparison.Ordinal);

        var duplicate = Assert.Throws<ArgumentException>(() => allocator.Allocate(["a", "b", "a"], 16));
        Assert.Equal("members", duplicate.ParamName);
        Assert.Contains("Duplicate member 'a'", duplicate.Message, StringComparison.Ordinal);

        var blank = Assert.Throws<ArgumentException>(() => allocator.Allocate(["a", " "], 16));
        Assert.Equal("members", blank.ParamName);
        Assert.Contains("got ' '", blank.Message, StringComparison.Ordinal);

        ShardMap sixteen = allocator.Allocate(["a"], 16);
        var otherCount = Assert.Throws<ArgumentException>(() => allocator.Allocate(["a"], 32, sixteen));
        Assert.Equal("previous", otherCount.ParamName);
        Assert.Contains("16 shards but 32 were requested", otherCount.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.5)]
    [InlineData(-2.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void BalanceFactor_AtOrBelowOne_IsRejected(double balanceFactor)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new ShardLoadCap(balanceFactor));
        Assert.Equal("balanceFactor", error.ParamName);
        Assert.Contains($"greater than 1; got {balanceFactor}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RingVirtualNodes_OutOfRange_IsRejected()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new RingShardAllocator(cap: null, virtualNodesPerMember: 0));
        Assert.Equal("virtualNodesPerMember", error.ParamName);
        Assert.Contains("got 0", error.Message, StringComparison.Ordinal);
    }

    private static TheoryData<string, int> Sizes(string[] names)
    {
        var data = new TheoryData<string, int>();
        foreach (string name in names)
        {
            data.Add(name, 10);
            data.Add(name, 100);
        }

        return data;
    }
}
