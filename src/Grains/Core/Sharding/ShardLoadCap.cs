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

    /// <summary>
    /// How far an allocation fills a member when it places shards: the cap one more member would impose,
    /// <c>max(ceil(S/N), floor(c * S/(N+1)))</c>, never above <see cref="For"/>.
    /// </summary>
    /// <remarks>
    /// Filling to <see cref="For"/> itself leaves members sitting at a cap that the next join lowers, and each of
    /// them must then shed a shard the joiner does not need: at 4096 shards and 100 → 101 members the cap drops from
    /// 45 to 44, and a join moved up to 1.11x (rendezvous) and 1.16x (ring) the S/(N+1) optimum. Filling one join's
    /// worth below the cap leaves every member at or under the next cap, so a single join sheds nothing and moves
    /// only the joiner's fair share; the cap itself, and so max/avg ≤ c, is unchanged.
    /// </remarks>
    public int FillFor(int shardCount, int members)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(members, 1);
        int even = (int)Math.Ceiling((double)shardCount / members);
        return Math.Min(For(shardCount, members), Math.Max(even, (int)Math.Floor(BalanceFactor * shardCount / (members + 1))));
    }

    /// <inheritdoc />
    public override string ToString() => $"ShardLoadCap({BalanceFactor})";
}
