using System.Net;
using Orleans.Patterns.Placement;
using Orleans.Patterns.Ring;

namespace Orleans.Patterns.Tests.Placement;

[Trait("Category", "Unit")]
public sealed class PlacementRingTests
{
    private static SiloAddress Silo(int port, int generation) => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), generation);

    [Fact]
    public void Ring_members_are_silo_endpoints_aligned_with_their_silos()
    {
        SiloAddress[] silos = [Silo(11113, 5), Silo(11111, 7), Silo(11112, 6)];

        var ring = PlacementRing.Build(silos, virtualNodes: 64);

        Assert.Equal(["127.0.0.1:11111", "127.0.0.1:11112", "127.0.0.1:11113"], ring.Ring.Members);
        Assert.Equal([silos[1], silos[2], silos[0]], ring.Silos);
        Assert.Equal(64, ring.Ring.VirtualNodesPerMember);
    }

    [Fact]
    public void A_restarted_endpoint_is_one_member_standing_for_its_newest_generation()
    {
        var old = Silo(11111, 100);
        var restarted = Silo(11111, 200);
        SiloAddress[] silos = [restarted, Silo(11112, 150), old];

        var ring = PlacementRing.Build(silos, virtualNodes: 64);

        Assert.Equal(2, ring.Ring.Count);
        Assert.Same(restarted, ring.Silos[ring.Ring.IndexOf("127.0.0.1:11111")]);
        // Same owners as a ring built without the stale generation: the endpoint, not the generation, is the member.
        var clean = new HashRing(["127.0.0.1:11111", "127.0.0.1:11112"], 64);
        for (var i = 0; i < 1000; i++)
        {
            Assert.Equal(clean.GetOwner($"user-{i}"), ring.Ring.GetOwner($"user-{i}"));
        }
    }

    [Fact]
    public void The_cache_matches_the_silo_set_it_was_built_from_in_any_order_including_stale_generations()
    {
        SiloAddress[] silos = [Silo(11111, 200), Silo(11112, 150), Silo(11111, 100)];
        var ring = PlacementRing.Build(silos, virtualNodes: 16);

        Assert.True(ring.HasSameSilos([silos[2], silos[0], silos[1]]));
        Assert.False(ring.HasSameSilos([silos[0], silos[1]]));
        Assert.False(ring.HasSameSilos([silos[0], silos[1], Silo(11113, 1)]));
        Assert.False(ring.HasSameSilos([silos[0], silos[1], silos[2], Silo(11113, 1)]));
    }
}
