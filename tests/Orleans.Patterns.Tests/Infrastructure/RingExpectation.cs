using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Patterns.Placement;
using Orleans.Patterns.Ring;
using Orleans.TestingHost;

namespace Orleans.Patterns.Tests.Infrastructure;

/// <summary>
/// Where ring placement should put a key, computed from the public pieces a client would use
/// (<see cref="RingMembership"/> and <see cref="HashRing"/>) rather than from the director, so a test compares the
/// director against an independent derivation.
/// </summary>
public sealed class RingExpectation
{
    private readonly Dictionary<string, SiloAddress> _silosByMember;

    public RingExpectation(IEnumerable<SiloAddress> silos, int virtualNodes)
    {
        _silosByMember = RingMembership.SelectMembers(silos);
        Ring = new HashRing(_silosByMember.Keys, virtualNodes);
    }

    public HashRing Ring { get; }

    public IReadOnlyCollection<SiloAddress> Silos => _silosByMember.Values;

    public SiloAddress OwnerOf(string key) => _silosByMember[Ring.GetOwner(key)];

    /// <summary>The ring over the silos the cluster's membership currently lists as active, with the silos' own vnode setting.</summary>
    public static async Task<RingExpectation> ForActiveSilosAsync(InProcessTestCluster cluster)
    {
        var hosts = await cluster.Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        return new RingExpectation(hosts.Keys, VirtualNodesOf(cluster));
    }

    /// <summary>The virtual-node count the silos were configured with (all silos share one configuration).</summary>
    public static int VirtualNodesOf(InProcessTestCluster cluster) =>
        cluster.GetSiloServiceProvider(cluster.Silos[0].SiloAddress)
            .GetRequiredService<IOptions<ConsistentHashPlacementOptions>>().Value.VirtualNodes;
}
