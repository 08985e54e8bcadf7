namespace Orleans.Patterns.Gossip.Simulation;

/// <summary>How the simulated network behaves; every draw comes from the simulation's seeded random.</summary>
public sealed record GossipNetwork
{
    /// <summary>Probability that a message is lost.</summary>
    public double Loss { get; init; }

    /// <summary>The smallest one-way delay.</summary>
    public TimeSpan MinLatency { get; init; } = TimeSpan.FromMilliseconds(0.2);

    /// <summary>Mean of the exponential tail added to <see cref="MinLatency"/>: a LAN whose delays are mostly short, sometimes not.</summary>
    public TimeSpan MeanExtraLatency { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>No message takes longer than this.</summary>
    public TimeSpan MaxLatency { get; init; } = TimeSpan.FromMilliseconds(100);

    public void Validate()
    {
        if (!(Loss >= 0 && Loss < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Loss), Loss, $"{nameof(Loss)} must be in [0, 1); got {Loss}");
        }

        if (MinLatency < TimeSpan.Zero || MeanExtraLatency < TimeSpan.Zero || MaxLatency < MinLatency)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxLatency), MaxLatency,
                $"latencies must be non-negative with {nameof(MaxLatency)} ≥ {nameof(MinLatency)}; got {MinLatency}, {MeanExtraLatency}, {MaxLatency}");
        }
    }

    internal TimeSpan NextLatency(Random random)
    {
        var extra = -Math.Log(1 - random.NextDouble()) * MeanExtraLatency.Ticks;
        var latency = MinLatency + TimeSpan.FromTicks((long)extra);
        return latency > MaxLatency ? MaxLatency : latency;
    }
}
