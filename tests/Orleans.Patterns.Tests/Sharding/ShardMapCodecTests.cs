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
