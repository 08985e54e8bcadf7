using CsCheck;
using Orleans.Patterns.Sharding;

namespace Orleans.Patterns.Tests.Sharding;

/// <summary>How every allocator carries the previous map's splits into the next epoch.</summary>
[Trait("Category", "Unit")]
public sealed class ShardAllocatorSplitTests
{
    private static readonly string[] Names = [ShardAllocators.Rendezvous, ShardAllocators.RendezvousBounded, ShardAllocators.Ring, ShardAllocators.RingBounded];

    public static TheoryData<string> All => [.. Names];

    [Theory]
    [MemberData(nameof(All))]
    public void SameMembers_KeepEverySplit(string name)
    {
        IShardAllocator allocator = ShardAllocators.Create(name);
        string[] silos = ShardAllocators.Silos(5);
        ShardMap map = allocator.Allocate(silos, 64);
        ShardMap split = map.WithSplit(3, Other(map, 3, silos)).WithSplit(40, Other(map, 40, silos));

        ShardMap again = allocator.Allocate(silos, 64, split);
        Assert.Equal(split.Epoch + 1, again.Epoch);
        Assert.Equal(split.Splits, again.Splits);
        Assert.True(again.SplitChangesFrom(split).IsEmpty);
    }

    [Theory]
    [MemberData(nameof(All))]
    public void ASplitWhoseChildLeft_IsDropped(string name)
    {
        IShardAllocator allocator = ShardAllocators.Create(name);
        string[] silos = ShardAllocators.Silos(5);
        ShardMap map = allocator.Allocate(silos, 64);
        string leaver = Other(map, 3, silos);
        ShardMap split = map.WithSplit(3, leaver);

        ShardMap after = allocator.Allocate(silos.Where(s => s != leaver), 64, split);
        Assert.Empty(after.Splits);
        Assert.Equal([new ShardSplit(3, leaver)], after.SplitChangesFrom(split).Removed);
    }

    // Over random histories: a kept split is exactly a previous split whose child is still a member and not the
    // shard's new owner, and every such split is kept.
    [Fact]
    public void SplitsAreCarriedExactlyWhenTheChildIsAMemberAndNotTheNewOwner() =>
        Gen.Select(Gen.Int[0, Names.Length - 1], Gen.Int[2, 10], Gen.Int[2, 10], Gen.Int[1, 200], Gen.Int)
            .Sample((allocatorIndex, before, after, shards, seed) =>
            {
                var random = new Random(seed);
                IShardAllocator allocator = ShardAllocators.Create(Names[allocatorIndex]);
                string[] first = ShardAllocators.Silos(before);
                string[] second = [.. ShardAllocators.Silos(after + 2).Skip(2).Concat(first.Take(1))];
                ShardMap map = allocator.Allocate(first, shards);
                for (int shard = 0; shard < shards; shard++)
                {
                    if (random.Next(3) == 0)
                    {
                        map = map.WithSplit(shard, Other(map, shard, first, random));
                    }
                }

                ShardMap next = allocator.Allocate(second, shards, map);
                ShardSplit[] expected =
                [
                    .. map.Splits.Where(s => next.Contains(s.ChildOwner) && next.OwnerOfShard(s.Shard) != s.ChildOwner),
                ];
                Assert.Equal(expected, next.Splits);
                Assert.All(next.Splits, s => Assert.NotEqual(next.OwnerOfShard(s.Shard), s.ChildOwner));
            }, iter: 300);

    [Fact]
    public void ASplitWhoseShardMovedToItsChild_IsDropped()
    {
        // Rendezvous without a cap puts each shard on its top-scoring member; splitting a shard to the member that
        // ranks it first among the others, then removing the owner, hands the shard to that child.
        IShardAllocator allocator = ShardAllocators.Create(ShardAllocators.Rendezvous);
        string[] silos = ShardAllocators.Silos(4);
        ShardMap map = allocator.Allocate(silos, 16);
        string owner = map.OwnerOfShard(5);
        ShardMap without = allocator.Allocate(silos.Where(s => s != owner), 16);
        ShardMap split = map.WithSplit(5, without.OwnerOfShard(5));

        ShardMap after = allocator.Allocate(silos.Where(s => s != owner), 16, split);
        Assert.Equal(without.OwnerOfShard(5), after.OwnerOfShard(5));
        Assert.False(after.IsSplit(5));
    }

    private static string Other(ShardMap map, int shard, string[] silos, Random? random = null)
    {
        string[] others = [.. silos.Where(s => s != map.OwnerOfShard(shard))];
        return others[random?.Next(others.Length) ?? 0];
    }
}
