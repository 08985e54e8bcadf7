using CsCheck;
using Orleans.Patterns.Sharding;

namespace Orleans.Patterns.Tests.Sharding;

/// <summary>
/// Laws every allocation strategy must keep, over random member sets, shard counts, balance factors and histories.
/// </summary>
/// <remarks>
/// On failure CsCheck shrinks the input and prints its seed. To replay exactly that case, pass it to the failing
/// <c>Sample</c> call (<c>seed: "..."</c>) or set the <c>CsCheck_Seed</c> environment variable and rerun the test.
/// </remarks>
[Trait("Category", "Unit")]
public sealed class ShardAllocatorPropertyTests
{
    private static readonly string[] Names = [ShardAllocators.Rendezvous, ShardAllocators.RendezvousBounded, ShardAllocators.Ring, ShardAllocators.RingBounded];

    private static readonly Gen<string> Allocator = Gen.Int[0, Names.Length - 1].Select(i => Names[i]);
    private static readonly Gen<string> MemberName = Gen.Char["abc-1é"].Array[1, 5].Select(chars => new string(chars));
    private static readonly Gen<string[]> Members = MemberName.HashSet[1, 12].Select(set => set.ToArray());
    private static readonly Gen<int> ShardCount = Gen.OneOf(Gen.Int[1, 40], Gen.Int[41, 600]);
    private static readonly Gen<double> BalanceFactor = Gen.Double[1.01, 2.0];

    // A random history: a first map over one member set, then a second epoch over another that shares some members.
    private static readonly Gen<(string Name, double Factor, string[] First, string[] Second, int Shards)> History =
        Gen.Select(Allocator, BalanceFactor, Members, Members, ShardCount);

    [Fact]
    public void EveryShardHasExactlyOneOwner_AndOwnersAreMembers() =>
        History.Sample(h =>
        {
            IShardAllocator allocator = ShardAllocators.Create(h.Name, h.Factor);
            ShardMap first = allocator.Allocate(h.First, h.Shards);
            ShardMap second = allocator.Allocate(h.Second, h.Shards, first);
            foreach (ShardMap map in new[] { first, second })
            {
                Assert.Equal(h.Shards, map.ShardCount);
                Assert.Equal(h.Shards, map.ShardCounts.Sum());
                for (int shard = 0; shard < map.ShardCount; shard++)
                {
                    Assert.True(map.Contains(map.OwnerOfShard(shard)));
                }
            }

            Assert.Equal(h.Second.Order(StringComparer.Ordinal), second.Members);
        }, iter: 300);

    [Fact]
    public void BoundedMapsRespectTheCap() =>
        History.Where(h => ShardAllocators.IsBounded(h.Name)).Sample(h =>
        {
            IShardAllocator allocator = ShardAllocators.Create(h.Name, h.Factor);
            ShardMap first = allocator.Allocate(h.First, h.Shards);
            ShardMap second = allocator.Allocate(h.Second, h.Shards, first);
            var cap = new ShardLoadCap(h.Factor);
            Assert.All(first.ShardCounts, load => Assert.True(load <= cap.For(h.Shards, h.First.Length)));
            Assert.All(second.ShardCounts, load => Assert.True(load <= cap.For(h.Shards, h.Second.Length)));
        }, iter: 300);

    [Fact]
    public void DeterministicForTheSameInput_InAnyMemberOrder() =>
        Gen.Select(History, Gen.Int).Sample((h, shuffleSeed) =>
        {
            var random = new Random(shuffleSeed);
            ShardMap first = ShardAllocators.Create(h.Name, h.Factor).Allocate(h.First, h.Shards);
            ShardMap second = ShardAllocators.Create(h.Name, h.Factor).Allocate(h.Second, h.Shards, first);
            ShardMap firstAgain = ShardAllocators.Create(h.Name, h.Factor).Allocate(h.First.OrderBy(_ => random.Next()), h.Shards);
            ShardMap secondAgain = ShardAllocators.Create(h.Name, h.Factor).Allocate(h.Second.OrderBy(_ => random.Next()), h.Shards, firstAgain);
            Assert.Empty(firstAgain.MovesFrom(first));
            Assert.Empty(secondAgain.MovesFrom(second));
            Assert.Equal(second.Epoch, secondAgain.Epoch);
        }, iter: 300);

    [Fact]
    public void ALeaveMovesOnlyTheLeaversShards() =>
        Gen.Select(Allocator, BalanceFactor, Members, ShardCount).Where((_, _, members, _) => members.Length > 1)
            .Sample((name, factor, members, shards) =>
            {
                IShardAllocator allocator = ShardAllocators.Create(name, factor);
                ShardMap map = allocator.Allocate(members, shards);
                ShardMap after = allocator.Allocate(members[1..], shards, map);
                Assert.Equal(map.ShardCountOf(members[0]), after.MovesFrom(map).Count);
                Assert.All(after.MovesFrom(map), move => Assert.Equal(members[0], move.From));
            }, iter: 300);

    // Unbounded, a joiner only takes shards. Bounded, never more move in total than the larger of the excess the lower
    // cap forces off old members and one fair share for the joiner; and while the joiner can hold that excess, every
    // move still goes to it.
    [Fact]
    public void AJoinMovesNoMoreThanItMust() =>
        Gen.Select(Allocator, BalanceFactor, Members, ShardCount).Where((_, _, members, _) => members.Length > 1)
            .Sample((name, factor, members, shards) =>
            {
                IShardAllocator allocator = ShardAllocators.Create(name, factor);
                string joiner = members[0];
                string[] before = members[1..];
                ShardMap map = allocator.Allocate(before, shards);
                ShardMap after = allocator.Allocate(members, shards, map);
                IReadOnlyList<ShardMove> moves = after.MovesFrom(map);
                if (!ShardAllocators.IsBounded(name))
                {
                    Assert.All(moves, move => Assert.Equal(joiner, move.To));
                    return;
                }

                int newCap = new ShardLoadCap(factor).For(shards, members.Length);
                int excess = before.Sum(m => Math.Max(0, map.ShardCountOf(m) - newCap));
                int fairShare = (shards + members.Length - 1) / members.Length;
                Assert.True(moves.Count <= Math.Max(excess, fairShare), $"{moves.Count} moves, excess {excess}, fair share {fairShare}");
                if (excess <= newCap)
                {
                    Assert.All(moves, move => Assert.Equal(joiner, move.To));
                }
            }, iter: 300);
}
