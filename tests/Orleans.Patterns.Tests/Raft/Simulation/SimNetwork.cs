namespace Orleans.Patterns.Tests.Raft.Simulation;

/// <summary>How the simulated network misbehaves; every choice is drawn from the cluster's seeded random.</summary>
internal sealed record SimNetwork
{
    /// <summary>A LAN: 0.5–3 ms, nothing lost.</summary>
    public static SimNetwork Reliable { get; } = new();

    /// <summary>After 6.824's unreliable network: 10% dropped, some duplicated, delays up to 27 ms, a few long reorderings.</summary>
    public static SimNetwork Unreliable { get; } = new()
    {
        DropRate = 0.1,
        DuplicateRate = 0.05,
        MaxDelay = TimeSpan.FromMilliseconds(27),
        LongDelayRate = 0.02,
        LongDelay = TimeSpan.FromMilliseconds(300),
    };

    /// <summary>A LAN with one ordered connection per pair of servers, as TCP gives: no message overtakes another.</summary>
    public static SimNetwork OrderedLan { get; } = new() { Fifo = true };

    /// <summary>Deliver the messages of each sender–receiver pair in the order sent.</summary>
    public bool Fifo { get; init; }

    public double DropRate { get; init; }

    public double DuplicateRate { get; init; }

    public TimeSpan MinDelay { get; init; } = TimeSpan.FromMilliseconds(0.5);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMilliseconds(3);

    /// <summary>Probability that a message is held back by up to <see cref="LongDelay"/>, reordering it behind later ones.</summary>
    public double LongDelayRate { get; init; }

    public TimeSpan LongDelay { get; init; }

    public TimeSpan DiskDelay { get; init; } = TimeSpan.FromMilliseconds(0.3);

    public TimeSpan NextDelay(Random random)
    {
        var delay = MinDelay + ((MaxDelay - MinDelay) * random.NextDouble());
        if (LongDelayRate > 0 && random.NextDouble() < LongDelayRate)
        {
            delay += LongDelay * random.NextDouble();
        }

        return delay;
    }
}
