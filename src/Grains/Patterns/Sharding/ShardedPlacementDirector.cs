using Orleans.Patterns.Placement;
using Orleans.Runtime.Placement;

namespace Orleans.Patterns.Sharding;

/// <summary>
/// User id → shard → owner in the current epoch → that silo's address. Stateless apart from the fallback ring,
/// which is an immutable snapshot swapped by reference, as in the consistent-hash director.
/// </summary>
internal sealed class ShardedPlacementDirector(ShardMapAgent agent) : IPlacementDirector
{
    private const int FallbackVirtualNodes = 64;
    private volatile PlacementRing? _fallback;

    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var compatible = context.GetCompatibleSilos(target);
        if (compatible.Length == 0)
        {
            throw new OrleansException($"No active silo can host {target.GrainIdentity}: the cluster has no compatible silo.");
        }

        // A hint is what a hand-off sends (the new owner) and what tests use; it wins, as for every built-in director.
        if (IPlacementDirector.GetPlacementHint(target.RequestContextData, compatible) is { } hinted)
        {
            return Task.FromResult(hinted);
        }

        var key = PlacementKeys.Decode(target.GrainIdentity.Key, stackalloc char[PlacementKeys.StackLimit]);
        if (agent.Current is { } map && agent.AddressOf(map.OwnerOf(key)) is { } owner && compatible.Contains(owner))
        {
            return Task.FromResult(owner);
        }

        var ring = _fallback;
        if (ring is null || !ring.HasSameSilos(compatible))
        {
            ring = PlacementRing.Build(compatible, FallbackVirtualNodes);
            _fallback = ring;
        }

        return Task.FromResult(ring.Silos[ring.Ring.GetOwnerIndex(key)]);
    }

}
