namespace Orleans.Patterns.Gossip.Simulation;

/// <summary>
/// One benchmark run of a simulated group: a metadata update to time dissemination, then crashes to time detection,
/// and stalls of a fraction of the members to count false suspicions and false deaths, all drawn from one seed.
/// </summary>
public sealed record GossipScenario
{
    public int Members { get; init; } = 1000;

    public int Seed { get; init; } = 1;

    public double Loss { get; init; }

    /// <summary>Fraction of the members that each stall once, for a time drawn from [<see cref="StallMin"/>, <see cref="StallMax"/>].</summary>
    public double StallFraction { get; init; }

    /// <summary>Fraction of the members that read every message <see cref="SlowLag"/> late from <see cref="FaultsFrom"/> to 10 s before the end.</summary>
    public double SlowFraction { get; init; }

    /// <summary>How late a slow member reads its messages; above the probe timeout, so its own probes fail.</summary>
    public TimeSpan SlowLag { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan StallMin { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan StallMax { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Members that crash, one after another from <see cref="FaultsFrom"/>, a second apart.</summary>
    public int Crashes { get; init; } = 5;

    /// <summary>Time for the start-up announcements to settle before the update is made.</summary>
    public TimeSpan WarmUp { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Crashes and stalls start here, after the update has spread, so they do not blur its timing.</summary>
    public TimeSpan FaultsFrom { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);

    public SwimOptions Options { get; init; } = new();

    public GossipNetwork Network => new() { Loss = Loss };

    /// <summary>
    /// A member counts as healthy from this long after its stall ends: until then probes of it may still fail for
    /// the stall's sake, and a suspicion of it is not a false one.
    /// </summary>
    public TimeSpan HealthyAfterStall => Options.ProbeInterval * 2;

    public void Validate()
    {
        if (Members is < 2 or > 100_000)
        {
            throw new ArgumentOutOfRangeException(nameof(Members), Members, $"--members must be between 2 and 100000; got {Members}");
        }

        if (!(StallFraction >= 0 && StallFraction <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(StallFraction), StallFraction, $"--stall-fraction must be in [0, 1]; got {StallFraction}");
        }

        if (!(SlowFraction >= 0 && SlowFraction + StallFraction <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(SlowFraction), SlowFraction, $"--slow-fraction must be in [0, 1 - stall fraction]; got {SlowFraction}");
        }

        if (SlowLag < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(SlowLag), SlowLag, $"--slow-lag must not be negative; got {SlowLag}");
        }

        if (!(Loss >= 0 && Loss < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Loss), Loss, $"--loss must be in [0, 1); got {Loss}");
        }

        if (Crashes < 0 || Crashes > Members / 2)
        {
            throw new ArgumentOutOfRangeException(nameof(Crashes), Crashes, $"--crashes must be between 0 and half the members ({Members / 2}); got {Crashes}");
        }

        if (StallMin <= TimeSpan.Zero || StallMax < StallMin)
        {
            throw new ArgumentOutOfRangeException(nameof(StallMax), StallMax, $"stalls must last a positive time with max ≥ min; got {StallMin}..{StallMax}");
        }

        if (Duration < FaultsFrom + StallMax + TimeSpan.FromSeconds(5))
        {
            throw new ArgumentOutOfRangeException(nameof(Duration), Duration,
                $"--duration must leave room for the faults: at least {(FaultsFrom + StallMax + TimeSpan.FromSeconds(5)).TotalSeconds} s; got {Duration.TotalSeconds} s");
        }

        Options.Validate();
    }
}
