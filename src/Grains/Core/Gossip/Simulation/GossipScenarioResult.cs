namespace Orleans.Patterns.Gossip.Simulation;

/// <summary>The figures of one <see cref="GossipScenario"/> run.</summary>
public sealed record GossipScenarioResult
{
    public required GossipScenario Scenario { get; init; }

    public required bool Lifeguard { get; init; }

    /// <summary>For each member that learnt the update (the updater at 0), how long after the update it learnt it, sorted.</summary>
    public required IReadOnlyList<TimeSpan> Informed { get; init; }

    /// <summary>Live members the update had to reach, the updater included.</summary>
    public required int Audience { get; init; }

    /// <summary>Time until 99.99% of <see cref="Audience"/> knew the update; null if they never did.</summary>
    public TimeSpan? Dissemination(double fraction = 0.9999)
    {
        var needed = (int)Math.Ceiling(Audience * fraction);
        return needed <= Informed.Count ? Informed[needed - 1] : null;
    }

    /// <summary>For every (surviving observer, crashed member) pair, crash to declared dead; missing pairs are in <see cref="Undetected"/>.</summary>
    public required IReadOnlyList<TimeSpan> Detection { get; init; }

    /// <summary>For every crashed member, crash to the first suspicion anywhere.</summary>
    public required IReadOnlyList<TimeSpan> FirstSuspicion { get; init; }

    public required int Undetected { get; init; }

    /// <summary>Suspicions raised by a member's own probe about a member that was neither crashed nor recently stalled.</summary>
    public required int FalseSuspicions { get; init; }

    /// <summary>Suspicions raised about members that were stalled (or just resumed) or slow: the anomaly was seen, not a failure.</summary>
    public required int StallSuspicions { get; init; }

    /// <summary>Deaths declared (by the declaring member's own timer) of members that had not crashed.</summary>
    public required int FalseDeaths { get; init; }

    /// <summary>Distinct non-crashed members that some member declared dead.</summary>
    public required int FalselyDeadMembers { get; init; }

    public required long Messages { get; init; }

    public required long MessagesAfterWarmUp { get; init; }

    public required IReadOnlyDictionary<SwimMessageKind, long> MessagesByKind { get; init; }

    /// <summary>Messages sent after warm-up per live member per protocol period.</summary>
    public required double MessagesPerMemberPerPeriod { get; init; }

    public required double UpdatesPerMessage { get; init; }

    public required int MaxLocalHealth { get; init; }

    public required TimeSpan WallTime { get; init; }

    public required long EventsProcessed { get; init; }

    public static TimeSpan Percentile(IReadOnlyList<TimeSpan> sorted, double percentile) =>
        sorted.Count == 0 ? TimeSpan.Zero : sorted[Math.Clamp((int)Math.Ceiling(percentile / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
}
