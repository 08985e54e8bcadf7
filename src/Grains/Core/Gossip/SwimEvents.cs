namespace Orleans.Patterns.Gossip;

/// <summary>How a member's entry changed in one node's view.</summary>
public enum MembershipChange
{
    /// <summary>First heard of, alive.</summary>
    Joined,

    /// <summary>Alive at a higher incarnation: a refutation or new metadata.</summary>
    Updated,

    /// <summary>Suspected (SWIM §4.2).</summary>
    Suspected,

    /// <summary>Alive again after being suspected or declared dead (a refutation, or a restart with a higher incarnation).</summary>
    Recovered,

    /// <summary>Declared dead ("confirm" in SWIM §4.2).</summary>
    Dead,
}

/// <summary>
/// A change in one node's view, for the host. <paramref name="RaisedHere"/> is true when this node's own probe raised
/// the suspicion, or its own suspicion timer declared the death, rather than hearing of it from another member.
/// </summary>
public readonly record struct MembershipEvent(string Member, MembershipChange Change, MemberStatus Status, TimeSpan At, bool RaisedHere);

/// <summary>What a <see cref="SwimNode"/> asks of its host: messages to send, and changes to its view to act on.</summary>
public sealed record SwimReady(IReadOnlyList<SwimMessage> Messages, IReadOnlyList<MembershipEvent> Events);
