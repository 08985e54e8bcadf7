using Orleans.Patterns.Gossip;

namespace Orleans.Patterns.Tests.Gossip;

/// <summary>The gossip grains' wire form: every message and its piggy-backed updates survive a round trip; bad bytes fail clearly.</summary>
[Trait("Category", "Unit")]
public sealed class SwimMessageCodecTests
{
    private static readonly Member A = new("silo-1", "127.0.0.1:11111", [new("gateway", "127.0.0.1:30000"), new("zone", "a")]);
    private static readonly Member B = new("silo-2", "127.0.0.1:11112");

    public static TheoryData<SwimMessage> Messages() =>
    [
        new Ping("silo-1", "silo-2", 7),
        new PingReq("silo-1", "silo-3", 8, "silo-2", WantNack: true),
        new Ack("silo-2", "silo-1", 7) { Updates = [new MemberUpdate(A, 3, MemberState.Alive), new MemberUpdate(B, 5, MemberState.Suspect, "silo-3")] },
        new Nack("silo-3", "silo-1", 8),
        new GossipPush("silo-1", "silo-2") { Updates = [new MemberUpdate(B, int.MaxValue, MemberState.Dead, "silo-1")] },
        new PushPull("silo-1", "silo-2", [new MemberRecord(A, new MemberStatus(1, MemberState.Alive)), new MemberRecord(B, new MemberStatus(2, MemberState.Dead))], IsReply: true, Join: false),
    ];

    [Theory]
    [MemberData(nameof(Messages))]
    public void Every_message_round_trips_with_its_updates(SwimMessage message)
    {
        var decoded = SwimMessageCodec.Decode(SwimMessageCodec.Encode(message));
        Assert.Equal(message.GetType(), decoded.GetType());
        Assert.Equal((message.From, message.To), (decoded.From, decoded.To));
        Assert.Equal(message.Updates, decoded.Updates);
        switch (message)
        {
            case PushPull pushPull:
                var back = (PushPull)decoded;
                Assert.Equal((pushPull.IsReply, pushPull.Join), (back.IsReply, back.Join));
                Assert.Equal(pushPull.State, back.State);
                break;
            default:
                Assert.Equal(message with { Updates = [] }, decoded with { Updates = [] });
                break;
        }
    }

    [Fact]
    public void Tags_survive_in_order()
    {
        var decoded = (Ack)SwimMessageCodec.Decode(SwimMessageCodec.Encode(new Ack("a", "b", 1) { Updates = [new MemberUpdate(A, 1, MemberState.Alive)] }));
        Assert.Equal(A.Tags, decoded.Updates[0].Member.Tags);
    }

    [Fact]
    public void Truncated_bytes_name_where_they_end()
    {
        var bytes = SwimMessageCodec.Encode(new PingReq("silo-1", "silo-3", 8, "silo-2", WantNack: false));
        var error = Assert.Throws<InvalidDataException>(() => SwimMessageCodec.Decode(bytes.AsSpan(0, bytes.Length - 3)));
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void Unknown_version_type_and_trailing_bytes_are_refused()
    {
        var bytes = SwimMessageCodec.Encode(new Ping("a", "b", 1));
        var version = (byte[])bytes.Clone();
        version[0] = 9;
        Assert.Contains("format 9", Assert.Throws<InvalidDataException>(() => SwimMessageCodec.Decode(version)).Message);
        var type = (byte[])bytes.Clone();
        type[1] = 99;
        Assert.Contains("type 99", Assert.Throws<InvalidDataException>(() => SwimMessageCodec.Decode(type)).Message);
        Assert.Contains("after its end", Assert.Throws<InvalidDataException>(() => SwimMessageCodec.Decode([.. bytes, 0])).Message);
    }

    [Fact]
    public void A_count_larger_than_the_message_is_corruption_not_an_allocation()
    {
        var bytes = SwimMessageCodec.Encode(new GossipPush("a", "b"));
        BitConverter.GetBytes(int.MaxValue).CopyTo(bytes, bytes.Length - 4); // the update count, last field
        Assert.Contains("claims", Assert.Throws<InvalidDataException>(() => SwimMessageCodec.Decode(bytes)).Message);
    }
}
