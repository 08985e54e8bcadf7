namespace Orleans.Patterns.Sharding;

/// <summary>A shard whose owner differs between two epochs of a <see cref="ShardMap"/>.</summary>
/// <param name="Shard">The shard.</param>
/// <param name="From">Its owner in the earlier map.</param>
/// <param name="To">Its owner in the later map.</param>
public readonly record struct ShardMove(int Shard, string From, string To);
