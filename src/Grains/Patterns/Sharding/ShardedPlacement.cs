using Orleans.Placement;

namespace Orleans.Patterns.Sharding;

/// <summary>
/// Places a string-keyed grain on the silo that owns the key's shard in this silo's current shard map (user id →
/// shard → owner). Before the silo has a map, or when the owner is not a compatible silo, it falls back to the
/// consistent-hash ring over the compatible silos; the hand-off rounds later move such a grain to its owner.
/// </summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("patterns.sharded-placement")]
public sealed class ShardedPlacement : PlacementStrategy
{
    /// <summary>The shared instance used by <see cref="ShardedPlacementAttribute"/>.</summary>
    public static ShardedPlacement Singleton { get; } = new();
}

/// <summary>Marks a grain class (string-keyed by user id) to be placed by <see cref="ShardedPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class ShardedPlacementAttribute() : PlacementAttribute(ShardedPlacement.Singleton);
