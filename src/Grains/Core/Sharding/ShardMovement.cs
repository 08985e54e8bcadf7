namespace Orleans.Patterns.Sharding;

/// <summary>
/// How many shards a change of epoch moved, against the fewest any balanced allocation could have moved.
/// </summary>
/// <param name="Moved">Shards whose owner changed.</param>
/// <param name="Optimum">The leavers' shards, plus a fair share (S/N of the new map) for each joiner.</param>
/// <param name="Joined">Members of the later map only.</param>
/// <param name="Left">Members of the earlier map only.</param>
public readonly record struct ShardMovement(int Moved, double Optimum, int Joined, int Left)
{
    /// <summary>Moved over optimum: 1 is ideal. 1 when nothing had to move and nothing did; infinity when only the
    /// former holds.</summary>
    public double Ratio => Optimum > 0 ? Moved / Optimum : Moved == 0 ? 1.0 : double.PositiveInfinity;

    /// <summary>Compares two epochs of a map.</summary>
    /// <exception cref="ArgumentException">The maps have different shard counts.</exception>
    public static ShardMovement Between(ShardMap before, ShardMap after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        int moved = after.MovesFrom(before).Count;
        int joined = after.Members.Count(member => !before.Contains(member));
        var leavers = before.Members.Where(member => !after.Contains(member)).ToList();

        // A joiner must end up with about S/N shards of the new map, and a leaver's shards must all go somewhere;
        // nothing else has to move.
        double optimum = leavers.Sum(before.ShardCountOf) + (joined * (double)after.ShardCount / after.Members.Count);
        return new ShardMovement(moved, optimum, joined, leavers.Count);
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"{Moved} moved, optimum {Optimum:F1} (+{Joined} -{Left}): {Ratio:F3}x";
}
