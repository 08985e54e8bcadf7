using Microsoft.Extensions.Options;
using Orleans.Patterns.Telemetry;
using Orleans.Runtime.Placement;

namespace Orleans.Patterns.Placement;

/// <summary>
/// Stateless apart from a cached ring: sorts nothing per call, looks the grain key up on the ring built from
/// the compatible silos, and rebuilds the ring only when that silo set changes. Registered as a singleton
/// and called concurrently, so the cache is an immutable snapshot swapped by reference.
/// </summary>
internal sealed class ConsistentHashPlacementDirector(
    IOptions<ConsistentHashPlacementOptions> options,
    PatternsMetrics metrics) : IPlacementDirector
{
    private readonly int _virtualNodes = options.Value.VirtualNodes;
    private volatile PlacementRing? _ring;

    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var compatible = context.GetCompatibleSilos(target);
        if (compatible.Length == 0)
        {
            throw new OrleansException($"No active silo can host {target.GrainIdentity}: the cluster has no compatible silo.");
        }

        // A placement hint is an explicit request (migration, tests) and wins over the ring, as it does for
        // every built-in director.
        if (IPlacementDirector.GetPlacementHint(target.RequestContextData, compatible) is { } hinted)
        {
            metrics.PlacementDecided(RingMembership.MemberId(hinted), fromHint: true);
            return Task.FromResult(hinted);
        }

        using var activity = PatternsTelemetry.Source.StartActivity("consistent-hash placement");
        var ring = GetRing(compatible);
        var owner = ring.Ring.GetOwnerIndex(PlacementKeys.Decode(target.GrainIdentity.Key, stackalloc char[PlacementKeys.StackLimit]));
        metrics.PlacementDecided(ring.Ring.Members[owner], fromHint: false);
        activity?.SetTag("orleans.grain.id", target.GrainIdentity.ToString());
        activity?.SetTag("patterns.ring.members", ring.Ring.Count);
        activity?.SetTag("patterns.ring.owner", ring.Ring.Members[owner]);
        return Task.FromResult(ring.Silos[owner]);
    }

    private PlacementRing GetRing(SiloAddress[] compatible)
    {
        var current = _ring;
        if (current is not null && current.HasSameSilos(compatible))
        {
            return current;
        }

        var rebuilt = PlacementRing.Build(compatible, _virtualNodes);
        _ring = rebuilt;
        metrics.RingBuilt(rebuilt.Ring.Count, rebuilt.Ring.Count * _virtualNodes);
        return rebuilt;
    }
}
