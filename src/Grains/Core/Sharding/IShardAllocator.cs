namespace Orleans.Patterns.Sharding;

/// <summary>
/// Computes the next shard map from the members of the new epoch. Implementations are deterministic: the same
/// members (in any order), shard count and previous map give the same map in every process.
/// </summary>
/// <remarks>
/// Splits (<see cref="ShardMap.Splits"/>) are load decisions, not allocation: an allocator keeps a split of the
/// previous map when its child owner is still a member and does not own the shard in the new map, and drops it
/// otherwise (the child left, or the shard moved to its child owner), so the shard's child half returns to the owner.
/// Whether a kept split is still needed is for <see cref="HotShardPolicy"/> to decide with fresh loads.
/// </remarks>
public interface IShardAllocator
{
    /// <summary>
    /// Assigns every shard to one of <paramref name="members"/>.
    /// </summary>
    /// <param name="members">The members of the new epoch; at least one, distinct, in any order.</param>
    /// <param name="shardCount">The number of shards, 1 to <see cref="ShardMap.MaxShardCount"/>; fixed per cluster.</param>
    /// <param name="previous">The current map, or null for the first epoch. Its epoch + 1 becomes the new epoch,
    /// strategies that keep shards in place use its owners, and its splits are carried over as described above.</param>
    /// <returns>The new map, with epoch 1 when <paramref name="previous"/> is null.</returns>
    /// <exception cref="ArgumentException">The members are invalid, or <paramref name="previous"/> has another shard count.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="shardCount"/> is out of range.</exception>
    ShardMap Allocate(IEnumerable<string> members, int shardCount, ShardMap? previous = null);
}
