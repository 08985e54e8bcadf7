namespace Orleans.Patterns.Gossip;

/// <summary>
/// Tuning of a <see cref="SwimNode"/>. The defaults are HashiCorp memberlist's LAN profile
/// (<c>DefaultLANConfig</c>), which is what Lifeguard was measured with. All members should use the same values.
/// </summary>
public sealed record SwimOptions
{
    /// <summary>One probe per protocol period (SWIM §3.1, T'); scaled by local health under Lifeguard.</summary>
    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long to wait for a direct ack before asking others to probe (SWIM §3.1); scaled by local health.</summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Members asked to probe on our behalf when a direct probe fails (SWIM §3.1, k).</summary>
    public int IndirectChecks { get; init; } = 3;

    /// <summary>How often piggy-backed updates are also pushed on their own, to <see cref="GossipFanout"/> random members.</summary>
    public TimeSpan GossipInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Members each gossip round goes to.</summary>
    public int GossipFanout { get; init; } = 3;

    /// <summary>λ in SWIM §4.1: each update is sent at most λ·⌈log10(N+1)⌉ times by each member that knows it.</summary>
    public int RetransmitMultiplier { get; init; } = 4;

    /// <summary>At most this many updates ride on one message (memberlist fills a 1,400-byte UDP packet; about this many).</summary>
    public int MaxUpdatesPerMessage { get; init; } = 16;

    /// <summary>
    /// The base of the suspicion timeout: α in α·max(1, log10 N)·<see cref="ProbeInterval"/> (memberlist's
    /// <c>SuspicionMult</c>). Plain SWIM waits exactly that long; Lifeguard waits between that and
    /// <see cref="SuspicionMaxMultiplier"/> times it.
    /// </summary>
    public int SuspicionMultiplier { get; init; } = 4;

    /// <summary>β in Lifeguard §IV-B: the suspicion timeout starts at β times the minimum and shrinks with confirmations.</summary>
    public int SuspicionMaxMultiplier { get; init; } = 6;

    /// <summary>
    /// How often a member exchanges its full state with a random member. Above 32 members the interval grows with
    /// log2 N (memberlist's <c>pushPullScale</c>), so the cluster-wide cost stays bounded.
    /// </summary>
    public TimeSpan PushPullInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Sends of an update that may go in gossip messages of their own (the fast epidemic); its remaining
    /// retransmissions, up to the log N retransmit limit, ride only on probe traffic. Keeps messages per member per
    /// period independent of N.
    /// </summary>
    public int GossipTransmits { get; init; } = 4;

    /// <summary>Lifeguard's local health multiplier saturates here (S in §IV-A; memberlist's <c>AwarenessMaxMultiplier</c>).</summary>
    public int MaxLocalHealth { get; init; } = 8;

    /// <summary>
    /// Lifeguard (Dadgar, Phillips, Currey 2018): local health awareness, suspicion timeouts that shrink with
    /// independent confirmations, and nack-based buddy checks. Off gives plain SWIM with a fixed suspicion timeout,
    /// the baseline of the comparison.
    /// </summary>
    public bool Lifeguard { get; init; } = true;

    /// <summary>
    /// With <see cref="Lifeguard"/>: a failed probe for which not one of the expected nacks came back raises no
    /// suspicion, only this member's local health multiplier. Every relay that is alive answers nack when the target
    /// stays silent, so hearing from none of them says the fault is most likely this member's own (a stall, a slow
    /// or cut link), and accusing the target would be a false suspicion. Lifeguard and memberlist suspect anyway and
    /// only slow down; this goes one step further. A healthy prober of a dead target still hears the nacks and
    /// suspects at once, so detection time does not change; a member cut off from everyone stops accusing others.
    /// </summary>
    public bool DoubtSelfWithoutNacks { get; init; } = true;

    /// <summary>Throws naming the first option that is out of range, with its value.</summary>
    public void Validate()
    {
        Positive(ProbeInterval, nameof(ProbeInterval));
        Positive(ProbeTimeout, nameof(ProbeTimeout));
        if (ProbeTimeout >= ProbeInterval)
        {
            throw new ArgumentOutOfRangeException(nameof(ProbeTimeout), ProbeTimeout,
                $"{nameof(ProbeTimeout)} must be below {nameof(ProbeInterval)} ({ProbeInterval}) so the indirect probe fits in the period; got {ProbeTimeout}");
        }

        Positive(GossipInterval, nameof(GossipInterval));
        Positive(PushPullInterval, nameof(PushPullInterval));
        AtLeast(IndirectChecks, 0, nameof(IndirectChecks));
        AtLeast(GossipFanout, 0, nameof(GossipFanout));
        AtLeast(GossipTransmits, 1, nameof(GossipTransmits));
        AtLeast(RetransmitMultiplier, 1, nameof(RetransmitMultiplier));
        AtLeast(MaxUpdatesPerMessage, 1, nameof(MaxUpdatesPerMessage));
        AtLeast(SuspicionMultiplier, 1, nameof(SuspicionMultiplier));
        AtLeast(SuspicionMaxMultiplier, 1, nameof(SuspicionMaxMultiplier));
        AtLeast(MaxLocalHealth, 1, nameof(MaxLocalHealth));
    }

    private static void Positive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive; got {value}");
        }
    }

    private static void AtLeast(int value, int minimum, string name)
    {
        if (value < minimum)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least {minimum}; got {value}");
        }
    }
}
