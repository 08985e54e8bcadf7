using Orleans.Placement;

namespace Orleans.Patterns.Placement;

/// <summary>
/// Places a grain on the silo that a consistent-hash ring (with virtual nodes) picks for the grain's key,
/// among the compatible active silos. Unlike hash-mod-N, a silo joining or leaving moves only the keys
/// whose ring owner changes (about 1/N of them).
/// </summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("patterns.consistent-hash-placement")]
public sealed class ConsistentHashPlacement : PlacementStrategy
{
    /// <summary>The shared instance used by <see cref="ConsistentHashPlacementAttribute"/>.</summary>
    public static ConsistentHashPlacement Singleton { get; } = new();
}

/// <summary>Marks a grain class to be placed by <see cref="ConsistentHashPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class ConsistentHashPlacementAttribute() : PlacementAttribute(ConsistentHashPlacement.Singleton);
