namespace Orleans.Patterns.Gossip;

/// <summary>
/// A message between SWIM members, addressed by member name. Every message but a push-pull carries piggy-backed
/// <see cref="Updates"/> (SWIM §4.1, "infection-style dissemination"). Plain records with no encoding attached: the
/// host (a grain, the simulator) carries them as it likes.
/// </summary>
public abstract record SwimMessage(string From, string To)
{
    public IReadOnlyList<MemberUpdate> Updates { get; init; } = [];
}

/// <summary>A direct probe (SWIM §3.1). <paramref name="Sequence"/> pairs it with its <see cref="Ack"/>.</summary>
public sealed record Ping(string From, string To, long Sequence) : SwimMessage(From, To);

/// <summary>
/// "ping-req": asks <paramref name="To"/> to probe <paramref name="Target"/> on the sender's behalf (SWIM §3.1). With
/// <paramref name="WantNack"/> the intermediary answers <see cref="Nack"/> if the target stays silent, so the sender
/// can tell "the target is down" from "I am the slow one" (Lifeguard §IV-A, the buddy check).
/// </summary>
public sealed record PingReq(string From, string To, long Sequence, string Target, bool WantNack) : SwimMessage(From, To);

/// <summary>The answer to a <see cref="Ping"/>, or a relayed answer to a <see cref="PingReq"/> (same sequence as the request).</summary>
public sealed record Ack(string From, string To, long Sequence) : SwimMessage(From, To);

/// <summary>An intermediary did not hear from the target of a <see cref="PingReq"/> in time (Lifeguard §IV-A).</summary>
public sealed record Nack(string From, string To, long Sequence) : SwimMessage(From, To);

/// <summary>Dissemination alone: piggy-backed updates sent every gossip interval to a few random members (memberlist's gossip).</summary>
public sealed record GossipPush(string From, string To) : SwimMessage(From, To);

/// <summary>
/// Anti-entropy: the sender's whole state (memberlist's push-pull, a full-state sync over TCP). The receiver merges
/// it and, unless <paramref name="IsReply"/>, answers with its own. <paramref name="Join"/> marks a joining member's
/// first exchange with a seed.
/// </summary>
public sealed record PushPull(string From, string To, IReadOnlyList<MemberRecord> State, bool IsReply, bool Join) : SwimMessage(From, To);

/// <summary>One member's row in a <see cref="PushPull"/>: a value, so a full state is one array.</summary>
public readonly record struct MemberRecord(Member Member, MemberStatus Status);
