using CsCheck;
using Orleans.Patterns.Sharding;

namespace Orleans.Patterns.Tests.Sharding;

/// <remarks>
/// On failure CsCheck shrinks the input and prints its seed; pass it to the failing <c>Sample</c> call
/// (<c>seed: "..."</c>) or set <c>CsCheck_Seed</c> to replay that case.
/// </remarks>
[Trait("Category", "Unit")]
public sealed class ShardMapSplitTests
{
    private static readonly string[] Silos = ["silo-a", "silo-b", "silo-c", "silo-d"];

    // A random map (2 to 8 members, 1 to 64 shards, random owners), a shard of it and a child owner for that shard.
    private static readonly Gen<(ShardMap Map, int Shard, string Child, int Seed)> MapWithSplitTarget =
        Gen.Select(Gen.Int[2, 8], Gen.Int[1, 64], Gen.Int, Gen.Int).Select((members, shards, seed, idSeed) =>
        {
            var random = new Random(seed);
            string[] names = [.. Enumerable.Range(0, members).Select(i => $"silo-{i}")];
            var map = new ShardMap(random.Next(1000), names, [.. Enumerable.Range(0, shards).Select(_ => names[random.Next(members)])]);
            int shard = random.Next(shards);
            string child = names.Where(n => n != map.OwnerOfShard(shard)).ElementAt(random.Next(members - 1));
            return (map, shard, child, idSeed);
        });

    [Fact]
    public void ChildHalf_IsTheLowestHashBit_WhichShardOfDoesNotUse()
    {
        Assert.False(ShardMap.IsInChildHalf(0x2D06800538D394C2UL));
        Assert.True(ShardMap.IsInChildHalf(0x23FA782D2442ECD1UL));

        // For a power-of-two shard count the shard is the hash's top bits only: flipping bit 0 never changes it.
        var random = new Random(7);
        for (int i = 0; i < 10_000; i++)
        {
            ulong hash = (ulong)random.NextInt64() ^ ((ulong)random.Next() << 63);
            Assert.Equal(ShardMap.ShardOfHash(hash, 4096), ShardMap.ShardOfHash(hash ^ 1, 4096));
        }
    }

    [Fact]
    public void WithSplit_SendsTheChildHalfOfThatShardToTheChild_AndBumpsTheEpoch()
    {
        var map = new ShardMap(5, Silos, ["silo-a", "silo-b", "silo-a", "silo-c"]);
        ShardMap split = map.WithSplit(2, "silo-d");

        Assert.Equal(6, split.Epoch);
        Assert.Equal([new ShardSplit(2, "silo-d")], split.Splits);
        Assert.True(split.IsSplit(2));
        Assert.False(split.IsSplit(0));
        Assert.Equal("silo-d", split.ChildOwnerOfShard(2));
        Assert.Null(split.ChildOwnerOfShard(0));
        Assert.Equal("silo-a", split.OwnerOfShard(2));
        Assert.Equal(map.ShardCounts, split.ShardCounts);
        Assert.Empty(split.MovesFrom(map));
        Assert.Empty(map.Splits);

        // Shard 2 of 4 is the hash range [2^63, 3 * 2^62).
        ulong parentHalf = 1UL << 63;
        Assert.Equal("silo-a", split.OwnerOfHash(parentHalf));
        Assert.Equal("silo-d", split.OwnerOfHash(parentHalf | 1));
        Assert.Equal("silo-a", map.OwnerOfHash(parentHalf | 1));
        Assert.Equal("silo-a", split.OwnerOfHash(1));
    }

    [Fact]
    public void Splits_AreListedAscending_AndSurviveFurtherSplits()
    {
        ShardMap map = new ShardMap(1, Silos, ["silo-a", "silo-b", "silo-a", "silo-c"])
            .WithSplit(3, "silo-a").WithSplit(0, "silo-b").WithSplit(1, "silo-c");
        Assert.Equal(4, map.Epoch);
        Assert.Equal([new ShardSplit(0, "silo-b"), new ShardSplit(1, "silo-c"), new ShardSplit(3, "silo-a")], map.Splits);
        Assert.Equal(map.Splits, map.WithoutSplit(0).WithSplit(0, "silo-b").Splits);
    }

    [Fact]
    public void SplitAndMerge_RejectBadInput_NamingShardAndMember()
    {
        var map = new ShardMap(3, Silos, ["silo-a", "silo-b"]);

        var stranger = Assert.Throws<ArgumentException>(() => map.WithSplit(1, "silo-z"));
        Assert.Equal("childOwner", stranger.ParamName);
        Assert.Contains("Cannot split shard 1 to 'silo-z': it is not a member of epoch 3", stranger.Message, StringComparison.Ordinal);

        var owner = Assert.Throws<ArgumentException>(() => map.WithSplit(1, "silo-b"));
        Assert.Contains("Cannot split shard 1 to 'silo-b': it already owns the shard", owner.Message, StringComparison.Ordinal);

        var twice = Assert.Throws<ArgumentException>(() => map.WithSplit(1, "silo-c").WithSplit(1, "silo-d"));
        Assert.Equal("shard", twice.ParamName);
        Assert.Contains("Shard 1 is already split to 'silo-c'", twice.Message, StringComparison.Ordinal);

        var notSplit = Assert.Throws<ArgumentException>(() => map.WithoutSplit(0));
        Assert.Equal("shard", notSplit.ParamName);
        Assert.Contains("Cannot merge shard 0: it is not split in epoch 3", notSplit.Message, StringComparison.Ordinal);

        var range = Assert.Throws<ArgumentOutOfRangeException>(() => map.WithSplit(2, "silo-c"));
        Assert.Contains("between 0 and 1; got 2", range.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => map.WithoutSplit(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => map.IsSplit(2));
        Assert.Throws<ArgumentNullException>(() => map.WithSplit(0, null!));
    }

    [Fact]
    public void Constructor_TakesSplits_AndRejectsBadOnes()
    {
        var map = new ShardMap(1, Silos, ["silo-a", "silo-b"], [new ShardSplit(1, "silo-c"), new ShardSplit(0, "silo-d")]);
        Assert.Equal([new ShardSplit(0, "silo-d"), new ShardSplit(1, "silo-c")], map.Splits);

        (ShardSplit[] Splits, string Expected)[] bad =
        [
            ([new ShardSplit(2, "silo-c")], "Split of shard 2: the shard must be between 0 and 1"),
            ([new ShardSplit(-1, "silo-c")], "Split of shard -1: the shard must be between 0 and 1"),
            ([new ShardSplit(0, "silo-z")], "Split of shard 0: child owner 'silo-z' is not a member"),
            ([new ShardSplit(0, "silo-a")], "Split of shard 0: child owner 'silo-a' already owns the shard"),
            ([new ShardSplit(0, "silo-c"), new ShardSplit(0, "silo-d")], "Shard 0 is split twice"),
        ];
        foreach ((ShardSplit[] splits, string expected) in bad)
        {
            var error = Assert.Throws<ArgumentException>(() => new ShardMap(1, Silos, ["silo-a", "silo-b"], splits));
            Assert.Equal("splits", error.ParamName);
            Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        }
    }

    // The law of a split: only users of the split shard move, only those in the child half, and all of them to the
    // child; merging the shard again gives every user its pre-split owner back.
    [Fact]
    public void SplitMovesOnlyTheChildHalfOfTheShard_AndMergeRestoresEveryOwner() =>
        MapWithSplitTarget.Sample(t =>
        {
            ShardMap split = t.Map.WithSplit(t.Shard, t.Child);
            ShardMap merged = split.WithoutSplit(t.Shard);
            Assert.Equal(t.Map.Epoch + 2, merged.Epoch);
            Assert.Empty(merged.Splits);
            for (int i = 0; i < 2000; i++)
            {
                string user = $"user-{t.Seed}-{i}";
                ulong hash = ShardMap.HashUserId(user);
                bool shouldMove = t.Map.ShardOf(user) == t.Shard && ShardMap.IsInChildHalf(hash);
                Assert.Equal(shouldMove, ShardMap.OwnerChanged(t.Map, split, hash));
                Assert.Equal(shouldMove ? t.Child : t.Map.OwnerOf(user), split.OwnerOf(user));
                Assert.Equal(split.OwnerOf(user), split.OwnerOfHash(hash));
                Assert.Equal(t.Map.OwnerOf(user), merged.OwnerOf(user));
                Assert.False(ShardMap.OwnerChanged(t.Map, merged, hash));
            }
        }, iter: 200);

    // Half of the shard's users move, within the binomial noise: over random id sets, 8 shards and 40,000 ids give
    // about 5,000 users in the split shard, of which 2,500 are expected to move, standard deviation ~35; the band
    // below is five standard deviations.
    [Fact]
    public void SplitMovesAboutHalfOfTheShardsUsers() =>
        Gen.Select(Gen.Int, Gen.Int[0, 7]).Sample((seed, shard) =>
        {
            var map = new ShardMap(1, Silos, ["silo-a", "silo-b", "silo-c", "silo-d", "silo-a", "silo-b", "silo-c", "silo-d"]);
            string child = map.OwnerOfShard(shard) == "silo-a" ? "silo-b" : "silo-a";
            ShardMap split = map.WithSplit(shard, child);
            int inShard = 0;
            int moved = 0;
            for (int i = 0; i < 40_000; i++)
            {
                string user = $"{seed}/{i}";
                inShard += map.ShardOf(user) == shard ? 1 : 0;
                moved += ShardMap.OwnerChanged(map, split, ShardMap.HashUserId(user)) ? 1 : 0;
            }

            double sigma = Math.Sqrt(inShard) / 2;
            Assert.InRange(moved, (inShard / 2.0) - (5 * sigma), (inShard / 2.0) + (5 * sigma));
        }, iter: 20);

    [Fact]
    public void OwnerOf_WithSplits_AllocatesNothing()
    {
        ShardMap map = new RendezvousShardAllocator(new ShardLoadCap()).Allocate(
            Enumerable.Range(0, 10).Select(i => $"silo-{i}"), 4096);
        for (int shard = 0; shard < 4096; shard += 7)
        {
            map = map.WithSplit(shard, map.OwnerOfShard(shard) == "silo-0" ? "silo-1" : "silo-0");
        }

        string[] users = [.. Enumerable.Range(0, 10_000).Select(i => $"user-{i}")];
        int sink = 0;
        foreach (string user in users)
        {
            sink += map.OwnerOf(user).Length;
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        foreach (string user in users)
        {
            sink += map.OwnerOf(user).Length + map.OwnerOfHash((ulong)sink).Length;
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(sink > 0);
    }

    [Fact]
    public void SplitChangesFrom_ListsAddedAndRemovedSplits()
    {
        ShardMap before = new ShardMap(1, Silos, ["silo-a", "silo-b", "silo-c", "silo-d"])
            .WithSplit(0, "silo-b").WithSplit(1, "silo-a").WithSplit(2, "silo-a");
        ShardMap after = before.WithoutSplit(0).WithoutSplit(2).WithSplit(2, "silo-d").WithSplit(3, "silo-c");

        ShardSplitChanges changes = after.SplitChangesFrom(before);
        Assert.Equal([new ShardSplit(2, "silo-d"), new ShardSplit(3, "silo-c")], changes.Added);
        Assert.Equal([new ShardSplit(0, "silo-b"), new ShardSplit(2, "silo-a")], changes.Removed);
        Assert.False(changes.IsEmpty);
        Assert.Equal("splits +2 [2→silo-d, 3→silo-c], -2 [0→silo-b, 2→silo-a]", changes.ToString());
        Assert.True(after.SplitChangesFrom(after).IsEmpty);
        Assert.Equal("splits +0, -0", after.SplitChangesFrom(after).ToString());

        var other = new ShardMap(1, Silos, ["silo-a"]);
        Assert.Equal("previous", Assert.Throws<ArgumentException>(() => after.SplitChangesFrom(other)).ParamName);
        Assert.Equal("before", Assert.Throws<ArgumentException>(() => ShardMap.OwnerChanged(other, after, 0)).ParamName);
    }

    [Fact]
    public void OwnerChanged_CountsOwnerChangesToo()
    {
        var before = new ShardMap(1, ["a", "b"], ["a", "b"]);
        var after = new ShardMap(2, ["a", "b"], ["b", "b"]);
        Assert.True(ShardMap.OwnerChanged(before, after, 0));
        Assert.True(ShardMap.OwnerChanged(before, after, 1));
        Assert.False(ShardMap.OwnerChanged(before, after, ulong.MaxValue));
        Assert.True(ShardMap.OwnerChanged(after, after.WithSplit(1, "a"), ulong.MaxValue));
        Assert.False(ShardMap.OwnerChanged(after, after.WithSplit(1, "a"), ulong.MaxValue - 1));
    }
}
