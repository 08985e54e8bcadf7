namespace Orleans.Patterns.Sharding;

/// <summary>
/// A split shard of a <see cref="ShardMap"/>: its users in the child half (see <see cref="ShardMap.IsInChildHalf"/>)
/// are served by <paramref name="ChildOwner"/> instead of the shard's owner.
/// </summary>
/// <param name="Shard">The shard.</param>
/// <param name="ChildOwner">The member serving the shard's child half; never the shard's owner.</param>
public readonly record struct ShardSplit(int Shard, string ChildOwner);
