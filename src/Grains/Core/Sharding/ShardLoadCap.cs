namespace Orleans.Patterns.Sharding;

/// <summary>
/// The bounded-load rule: no member owns more than <see cref="For"/> shards, about
/// <see cref="BalanceFactor"/> times the average.
/// </summary>
public sealed class ShardLoadCap
{
    /// <summary>The balance factor used when none is given: no member above 1.10 times the average.</summary>
    public const double DefaultBalanceFactor = 1.10;

    /// <summary>Creates a cap of <paramref name="balanceFactor"/> times the average load.</summary>
    /// <param name="balanceFactor">c in "at most c times the average"; a finite number greater than 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="balanceFactor"/> is not greater than 1 or not finite.</exception>
    public ShardLoadCap(double balanceFactor = DefaultBalanceFactor)
    {
        if (!(balanceFactor > 1.0) || double.IsInfinity(balanceFactor))
        {
            throw new ArgumentOutOfRangeException(
                nameof(balanceFactor),
                balanceFactor,
                $"The balance factor must be a finite number greater than 1; got {balanceFactor}.");
        }

        BalanceFactor = balanceFactor;
    }

    /// <summary>c in "at most c times the average".</summary>
    public double BalanceFactor { get; }

    /// <summary>
    /// The most shards one of <paramref name="members"/> members may own: <c>max(ceil(S/N), floor(c * S/N))</c>.
    /// </summary>
    /// <remarks>
    /// Mirrokni et al.'s <c>ceil(c * S/N)</c> can overshoot c by a whole shard, which matters at realistic sizes: 4096
    /// shards over 100 members average 40.96, and ceil(45.06) = 46 is 1.12 times that. The floor keeps max/avg at or
    /// below c; <c>ceil(S/N)</c> keeps the members' combined room at or above S, so every shard still fits.
    /// </remarks>
    public int For(int shardCount, int members)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(members, 1);
        double average = (double)shardCount / members;
        int even = (int)Math.Ceiling(average);
        return Math.Max(even, (int)Math.Floor(BalanceFactor * average));
    }

    /// <inheritdoc />
    public override string ToString() => $"ShardLoadCap({BalanceFactor})";
}
