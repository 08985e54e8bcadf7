using CsCheck;
using Orleans.Patterns.Sharding;

namespace Orleans.Patterns.Tests.Sharding;

public sealed class ShardMapCodecTests
{
    [Fact]
    public void Round_trip_keeps_epoch_members_and_every_owner()
    {
        Gen.Select(Gen.Int[1, 12], Gen.Int[1, 2048], Gen.Long[0, long.MaxValue], Gen.Int)
            .Sample((members, shards, epoch, seed) =>
            {
                var names = Enumerable.Range(0, members).Select(i => $"silo-{i}-ü").ToArray();
                var random = new Random(seed);
                var owners = Enumerable.Range(0, shards).Select(_ => names[random.Next(members)]).ToArray();
                var map = new ShardMap(epoch, names, owners);

                var decoded = ShardMapCodec.Decode(ShardMapCodec.Encode(map));

                Assert.Equal(map.Epoch, decoded.Epoch);
                Assert.Equal(map.Members, decoded.Members);
                Assert.Empty(decoded.MovesFrom(map));
                Assert.Equal(ShardMapCodec.Encode(map), ShardMapCodec.Encode(decoded));
            });
    }

    [Fact]
    public void Round_trip_keeps_every_split()
    {
        Gen.Select(Gen.Int[2, 12], Gen.Int[1, 2048], Gen.Long[0, long.MaxValue - 1], Gen.Int)
            .Sample((members, shards, epoch, seed) =>
            {
                var names = Enumerable.Range(0, members).Select(i => $"silo-{i}-ü").ToArray();
                var random = new Random(seed);
                var owners = Enumerable.Range(0, shards).Select(_ => names[random.Next(members)]).ToArray();
                var splits = Enumerable.Range(0, shards)
                    .Where(_ => random.Next(4) == 0)
                    .Select(shard => new ShardSplit(shard, names.First(n => n != owners[shard])))
                    .ToArray();
                var map = new ShardMap(epoch, names, owners, splits);

                string text = ShardMapCodec.Encode(map);
                var decoded = ShardMapCodec.Decode(text);

                Assert.Equal(splits.Length == 0 ? 5 : 6, text.Split(';').Length);
                Assert.Equal(map.Splits, decoded.Splits);
                Assert.Empty(decoded.MovesFrom(map));
                Assert.True(decoded.SplitChangesFrom(map).IsEmpty);
                Assert.Equal(text, ShardMapCodec.Encode(decoded));
            });
    }

    [Fact]
    public void Splits_are_written_as_shard_and_member_index_pairs_after_the_owner_table()
    {
        // Members a (0) and b (1); shards 0 and 3 owned by a, 1 and 2 by b; shard 1 split to a, shard 3 to b.
        var map = new ShardMap(9, ["b", "a"], ["a", "b", "b", "a"], [new ShardSplit(3, "b"), new ShardSplit(1, "a")]);
        Assert.Equal("shardmap/1;9;4;YQ==,Yg==;AAABAAEAAAA=;1:0,3:1", ShardMapCodec.Encode(map));
        Assert.Equal("shardmap/1;11;4;YQ==,Yg==;AAABAAEAAAA=", ShardMapCodec.Encode(map.WithoutSplit(1).WithoutSplit(3)));
    }

    [Fact]
    public void Five_part_text_decodes_to_a_map_without_splits()
    {
        var map = ShardMapCodec.Decode("shardmap/1;9;4;YQ==,Yg==;AAABAAEAAAA=");
        Assert.Empty(map.Splits);
        Assert.Equal(["a", "b", "b", "a"], Enumerable.Range(0, 4).Select(map.OwnerOfShard));
    }

    [Theory]
    [InlineData("shardmap/1;1;4;YQ==,Yg==;AAABAAEAAAA=;", "empty split list")]
    [InlineData("shardmap/1;1;4;YQ==,Yg==;AAABAAEAAAA=;1", "split '1' that is not 'shard:memberIndex'")]
    [InlineData("shardmap/1;1;4;YQ==,Yg==;AAABAAEAAAA=;1:-1", "split '1:-1' that is not")]
    [InlineData("shardmap/1;1;4;YQ==,Yg==;AAABAAEAAAA=;x:0", "split 'x:0' that is not")]
    [InlineData("shardmap/1;1;4;YQ==,Yg==;AAABAAEAAAA=;4:0", "split shard 4 is out of range; there are 4 shards")]
    [InlineData("shardmap/1;1;4;YQ==,Yg==;AAABAAEAAAA=;1:2", "split shard 1 has child member index 2, but there are 2 members")]
    [InlineData("shardmap/1;1;4;YQ==,Yg==;AAABAAEAAAA=;1:1", "split shard 1 has child member index 1, which is its owner")]
    [InlineData("shardmap/1;1;4;YQ==,Yg==;AAABAAEAAAA=;1:0,1:0", "shard 1 is split twice")]
    [InlineData("shardmap/1;1;4;YQ==,Yg==;AAABAAEAAAA=;3:1,1:0", "splits out of order: shard 1 after shard 3")]
    [InlineData("shardmap/1;1;4;YQ==,Yg==;AAABAAEAAAA=;1:0;3:1", "expected 5 or 6")]
    public void Bad_splits_are_refused_naming_what_is_wrong(string text, string expected)
    {
        var e = Assert.Throws<FormatException>(() => ShardMapCodec.Decode(text));
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("", "expected 5")]
    [InlineData("shardmap/2;1;4;YQ==;AAAAAAAAAAA=", "starting with 'shardmap/1'")]
    [InlineData("shardmap/1;-3;4;YQ==;AAAAAAAAAAA=", "epoch '-3'")]
    [InlineData("shardmap/1;1;0;YQ==;", "shard count '0'")]
    [InlineData("shardmap/1;1;4;YQ==;AAAAAAAA", "lists 3 owners for 4 shards")]
    [InlineData("shardmap/1;1;4;YQ==;AAAAAAAAAQA=", "shard 3 is owned by member index 1")]
    [InlineData("shardmap/1;1;4;Yg==,YQ==;AAAAAAAAAAA=", "out of order")]
    [InlineData("shardmap/1;1;4;!!;AAAAAAAAAAA=", "not valid base64")]
    public void Bad_text_is_refused_naming_the_part(string text, string expected)
    {
        var e = Assert.Throws<FormatException>(() => ShardMapCodec.Decode(text));
        Assert.Contains(expected, e.Message);
    }
}
