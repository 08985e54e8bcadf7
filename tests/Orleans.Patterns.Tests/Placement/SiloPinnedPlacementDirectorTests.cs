using System.Net;
using Orleans.Patterns.Placement;

namespace Orleans.Patterns.Tests.Placement;

[Trait("Category", "Unit")]
public sealed class SiloPinnedPlacementDirectorTests
{
    private static SiloAddress Silo(int port, int generation) => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), generation);

    [Fact]
    public void Picks_the_active_compatible_silo_with_the_name_and_the_newest_generation()
    {
        var old = Silo(11111, 1);
        var restarted = Silo(11112, 2);
        var other = Silo(11113, 1);
        ClusterMember[] members =
        [
            new(old, SiloStatus.Active, "silo-1"),
            new(restarted, SiloStatus.Active, "silo-1"),
            new(other, SiloStatus.Active, "silo-2"),
        ];

        Assert.Equal(restarted, SiloPinnedPlacementDirector.Select("silo-1", members, [old, restarted, other]));
        Assert.Equal(old, SiloPinnedPlacementDirector.Select("silo-1", members, [old, other]));
        Assert.Equal(other, SiloPinnedPlacementDirector.Select("silo-2", members, [old, restarted, other]));
    }

    [Fact]
    public void Returns_nothing_rather_than_another_silo_when_the_named_silo_is_not_active()
    {
        var stopping = Silo(11111, 1);
        var other = Silo(11112, 1);
        ClusterMember[] members = [new(stopping, SiloStatus.ShuttingDown, "silo-1"), new(other, SiloStatus.Active, "silo-2")];

        Assert.Null(SiloPinnedPlacementDirector.Select("silo-1", members, [stopping, other]));
        Assert.Null(SiloPinnedPlacementDirector.Select("silo-3", members, [stopping, other]));
    }
}
