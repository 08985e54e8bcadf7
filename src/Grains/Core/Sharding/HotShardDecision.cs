using System.Globalization;

namespace Orleans.Patterns.Sharding;

/// <summary>The outcome of <see cref="HotShardPolicy.Decide"/>.</summary>
/// <param name="NextMap">The map with the changes applied, epoch + 1; null when nothing changes.</param>
/// <param name="Changes">The splits (hottest first), then the merges (coolest first); empty when nothing changes.</param>
/// <param name="TotalLoad">The cluster's load, operations per second over all shards.</param>
/// <param name="SplitThreshold">The load above which a shard that is not split is split.</param>
/// <param name="MergeThreshold">The load below which a split shard is merged.</param>
public sealed record HotShardDecision(
    ShardMap? NextMap, IReadOnlyList<HotShardChange> Changes, double TotalLoad, double SplitThreshold, double MergeThreshold)
{
    /// <inheritdoc />
    public override string ToString() => NextMap is null
        ? string.Create(CultureInfo.InvariantCulture, $"no change (total {TotalLoad:F1} ops/s, split above {SplitThreshold:F1}, merge below {MergeThreshold:F1})")
        : string.Create(CultureInfo.InvariantCulture, $"epoch {NextMap.Epoch}: {string.Join("; ", Changes)}");
}
