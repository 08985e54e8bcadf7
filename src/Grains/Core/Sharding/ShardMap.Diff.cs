namespace Orleans.Patterns.Sharding;

public sealed partial class ShardMap
{
    /// <summary>
    /// The shards whose owner changed from <paramref name="previous"/> to this map, ascending by shard: the work a
    /// rebalance has to do.
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
