namespace Orleans.Patterns.Sharding;

public sealed partial class ShardMap
{
    /// <summary>
    /// The shards whose owner changed from <paramref name="previous"/> to this map, ascending by shard: the work a
    /// rebalance has to do. Split changes move half a shard and are listed by <see cref="SplitChangesFrom"/>; whether
    /// one user moves, counting both, is <see cref="OwnerChanged"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The maps have different shard counts.</exception>
    public IReadOnlyList<ShardMove> MovesFrom(ShardMap previous)
    {
        ArgumentNullException.ThrowIfNull(previous);
        RequireSameShardCount(previous, nameof(previous));
        var moves = new List<ShardMove>();
        for (int shard = 0; shard < _ownerNames.Length; shard++)
        {
            // Names, not indexes: the two maps may number their members differently.
            string before = previous._ownerNames[shard];
            string after = _ownerNames[shard];
            if (!string.Equals(before, after, StringComparison.Ordinal))
            {
                moves.Add(new ShardMove(shard, before, after));
            }
        }

        return moves;
    }

    /// <summary>
    /// Whether the user with hash <paramref name="hash"/> (<see cref="HashUserId"/>) is served by another member in
    /// <paramref name="after"/> than in <paramref name="before"/>, counting owner changes and splits and merges of its
    /// shard. Does not allocate.
    /// </summary>
    /// <exception cref="ArgumentException">The maps have different shard counts.</exception>
    public static bool OwnerChanged(ShardMap before, ShardMap after, ulong hash)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        after.RequireSameShardCount(before, nameof(before));

        // Names, not indexes: the two maps may number their members differently. Both strings come from the maps'
        // member arrays, so a shared instance is the common case and the comparison returns on the reference check.
        return !string.Equals(before.OwnerOfHash(hash), after.OwnerOfHash(hash), StringComparison.Ordinal);
    }

    /// <summary>
    /// The splits this map added and removed relative to <paramref name="previous"/>, for reporting. A split whose
    /// child owner changed is both removed (the old child) and added (the new one).
    /// </summary>
    /// <exception cref="ArgumentException">The maps have different shard counts.</exception>
    public ShardSplitChanges SplitChangesFrom(ShardMap previous)
    {
        ArgumentNullException.ThrowIfNull(previous);
        RequireSameShardCount(previous, nameof(previous));
        var added = new List<ShardSplit>();
        var removed = new List<ShardSplit>();
        for (int shard = 0; shard < _childIndexes.Length; shard++)
        {
            string? before = previous.ChildOwnerOfShard(shard);
            string? after = ChildOwnerOfShard(shard);
            if (string.Equals(before, after, StringComparison.Ordinal))
            {
                continue;
            }

            if (before is not null)
            {
                removed.Add(new ShardSplit(shard, before));
            }

            if (after is not null)
            {
                added.Add(new ShardSplit(shard, after));
            }
        }

        return new ShardSplitChanges(added, removed);
    }

    internal void RequireSameShardCount(ShardMap other, string parameterName)
    {
        if (other.ShardCount != ShardCount)
        {
            throw new ArgumentException(
                $"Shard maps must have the same shard count to be compared; got {other.ShardCount} and {ShardCount}.",
                parameterName);
        }
    }

    /// <summary>The shard count is fixed per cluster: a previous map with another count is a configuration error.</summary>
    internal static void RequireShardCount(ShardMap? previous, int shardCount, string parameterName)
    {
        if (previous is not null && previous.ShardCount != shardCount)
        {
            throw new ArgumentException(
                $"The previous map has {previous.ShardCount} shards but {shardCount} were requested; the shard count is fixed per cluster.",
                parameterName);
        }
    }
}
