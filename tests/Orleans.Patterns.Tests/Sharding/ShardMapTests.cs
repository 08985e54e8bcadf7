using Orleans.Patterns.Ring;
using Orleans.Patterns.Sharding;

namespace Orleans.Patterns.Tests.Sharding;

[Trait("Category", "Unit")]
public sealed class ShardMapTests
{
    private static readonly string[] ThreeMembers = ["silo-b", "silo-a", "silo-c"];

    // Pinned: the user-to-shard function is shared by every silo and client, so a change here is a breaking change
    // (every user moves), not a refactoring. The hashes equal HashRing.HashKey's, asserted below.
    [Theory]
    [InlineData("", 0x2D06800538D394C2UL, 720, 1)]
    [InlineData("user-0", 0x23FA782D2442ECD1UL, 575, 0)]
    [InlineData("user-1", 0x30BF4C0119F37F17UL, 779, 1)]
    [InlineData("alice", 0xE34FEEBE503093B9UL, 3636, 6)]
    [InlineData("élève", 0xADCADA57F6273251UL, 2780, 4)]
    public void ShardOf_IsPinned(string userId, ulong hash, int shardOf4096, int shardOf7)
    {
        Assert.Equal(hash, ShardMap.HashUserId(userId));
        Assert.Equal(HashRing.HashKey(userId), ShardMap.HashUserId(userId));
        Assert.Equal(shardOf4096, ShardMap.ShardOf(userId, 4096));
        Assert.Equal(shardOf7, ShardMap.ShardOf(userId, 7));
    }

    [Fact]
    public void ShardOf_IsTheHashsHighBitsScaledToTheShardCount()
    {
        Assert.Equal(0, ShardMap.ShardOfHash(0, 4096));
        Assert.Equal(4095, ShardMap.ShardOfHash(ulong.MaxValue, 4096));
        Assert.Equal(2048, ShardMap.ShardOfHash(1UL << 63, 4096));
        Assert.Equal(65535, ShardMap.ShardOfHash(ulong.MaxValue, ShardMap.MaxShardCount));
        Assert.Equal(0, ShardMap.ShardOfHash(ulong.MaxValue, 1));
    }

    [Fact]
    public void ShardOf_SpreadsUsersEvenly()
    {
        var counts = new int[64];
        for (int i = 0; i < 64_000; i++)
        {
            counts[ShardMap.ShardOf($"user-{i}", 64)]++;
        }

        // 1,000 expected per shard; binomial standard deviation ~31, so 850..1,150 is a five-sigma band.
        Assert.All(counts, count => Assert.InRange(count, 850, 1150));
    }

    [Fact]
    public void OwnerOf_IsTheOwnerOfTheUsersShard()
    {
        ShardMap map = new RendezvousShardAllocator(new ShardLoadCap()).Allocate(ThreeMembers, 64);
        for (int i = 0; i < 1000; i++)
        {
            string user = $"user-{i}";
            int shard = map.ShardOf(user);
            Assert.Equal(ShardMap.ShardOf(user, 64), shard);
            Assert.Equal(map.OwnerOfShard(shard), map.OwnerOf(user));
            Assert.Equal(map.Members[map.OwnerIndexOfShard(shard)], map.OwnerOf(user));
        }
    }

    [Fact]
    public void OwnerOf_AllocatesNothing()
    {
        ShardMap map = new RendezvousShardAllocator(new ShardLoadCap()).Allocate(
            Enumerable.Range(0, 10).Select(i => $"silo-{i}"), 4096);
        string[] users = [.. Enumerable.Range(0, 10_000).Select(i => $"user-{i}")];
        int sink = 0;
        for (int round = 0; round < 3; round++)
        {
            foreach (string user in users)
            {
                sink += map.OwnerOf(user).Length + map.ShardOf(user);
            }
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        foreach (string user in users)
        {
            sink += map.OwnerOf(user).Length + map.ShardOf(user);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(sink > 0);
    }

    [Fact]
    public void ExplicitOwners_AreKept_AndCountedPerMember()
    {
        var map = new ShardMap(7, ThreeMembers, ["silo-c", "silo-a", "silo-c", "silo-c"]);
        Assert.Equal(7, map.Epoch);
        Assert.Equal(4, map.ShardCount);
        Assert.Equal(["silo-a", "silo-b", "silo-c"], map.Members);
        Assert.Equal([1, 0, 3], map.ShardCounts);
        Assert.Equal(3, map.ShardCountOf("silo-c"));
        Assert.Equal(0, map.ShardCountOf("silo-z"));
        Assert.Equal([0, 2, 3], map.ShardsOf("silo-c"));
        Assert.Empty(map.ShardsOf("silo-b"));
        Assert.Equal("silo-a", map.OwnerOfShard(1));
        Assert.True(map.Contains("silo-b"));
        Assert.False(map.Contains("silo-z"));
    }

    [Fact]
    public void MovesFrom_ListsExactlyTheShardsWhoseOwnerChanged()
    {
        var before = new ShardMap(1, ["a", "b"], ["a", "a", "b", "b"]);
        var after = new ShardMap(2, ["b", "c"], ["c", "b", "b", "c"]);
        Assert.Equal(
            [new ShardMove(0, "a", "c"), new ShardMove(1, "a", "b"), new ShardMove(3, "b", "c")],
            after.MovesFrom(before));
        Assert.Empty(after.MovesFrom(after));

        ShardMovement movement = ShardMovement.Between(before, after);
        Assert.Equal(3, movement.Moved);
        Assert.Equal(1, movement.Joined);
        Assert.Equal(1, movement.Left);

        // The leaver's 2 shards, plus one fair share (4 shards / 2 members) for the joiner.
        Assert.Equal(4.0, movement.Optimum);
        Assert.Equal(0.75, movement.Ratio);
    }

    [Fact]
    public void MovesFrom_RejectsAnotherShardCount()
    {
        var four = new ShardMap(1, ["a"], ["a", "a", "a", "a"]);
        var two = new ShardMap(1, ["a"], ["a", "a"]);
        var error = Assert.Throws<ArgumentException>(() => four.MovesFrom(two));
        Assert.Equal("previous", error.ParamName);
        Assert.Contains("got 2 and 4", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(ShardMap.MaxShardCount + 1)]
    public void ShardOf_RejectsAShardCountOutOfRange(int shardCount)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ShardMap.ShardOf("user", shardCount));
        Assert.Equal("shardCount", error.ParamName);
        Assert.Contains($"between 1 and 65536; got {shardCount}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_RejectsBadInput()
    {
        var noShards = Assert.Throws<ArgumentOutOfRangeException>(() => new ShardMap(1, ["a"], []));
        Assert.Equal("owners", noShards.ParamName);
        Assert.Contains("got 0", noShards.Message, StringComparison.Ordinal);

        var stranger = Assert.Throws<ArgumentException>(() => new ShardMap(1, ["a"], ["a", "b"]));
        Assert.Equal("owners", stranger.ParamName);
        Assert.Contains("Shard 1 is owned by 'b', which is not a member", stranger.Message, StringComparison.Ordinal);

        var duplicate = Assert.Throws<ArgumentException>(() => new ShardMap(1, ["a", "b", "a"], ["a"]));
        Assert.Equal("members", duplicate.ParamName);
        Assert.Contains("Duplicate member 'a'", duplicate.Message, StringComparison.Ordinal);

        var none = Assert.Throws<ArgumentException>(() => new ShardMap(1, [], ["a"]));
        Assert.Equal("members", none.ParamName);
        Assert.Contains("got none", none.Message, StringComparison.Ordinal);

        var negative = Assert.Throws<ArgumentOutOfRangeException>(() => new ShardMap(-1, ["a"], ["a"]));
        Assert.Equal("epoch", negative.ParamName);

        var badShard = Assert.Throws<ArgumentOutOfRangeException>(() => new ShardMap(1, ["a"], ["a"]).OwnerOfShard(1));
        Assert.Equal("shard", badShard.ParamName);
        Assert.Contains("between 0 and 0; got 1", badShard.Message, StringComparison.Ordinal);
    }
}
