using System.Collections.Immutable;
using System.Net;
using Orleans.Metadata;
using Orleans.Patterns.Placement;

namespace Orleans.Patterns.Tests.Placement;

[Trait("Category", "Unit")]
public sealed class SiloPinnedGrainDirectoryTests
{
    private static readonly GrainId Replica2 = GrainId.Create("raftreplica", "silo-2");

    private static SiloAddress Silo(int port, int generation) => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), generation);

    private static SiloPinnedGrainDirectory Directory(long version, params ClusterMember[] members) =>
        new(new FixedMembership(new ClusterMembershipSnapshot(
            members.ToImmutableDictionary(m => m.SiloAddress), new MembershipVersion(version))));

    [Fact]
    public async Task Lookup_names_the_newest_active_silo_with_the_grains_key_without_asking_anyone()
    {
        var old = Silo(11112, 1);
        var restarted = Silo(11112, 2);
        var directory = Directory(
            7,
            new ClusterMember(Silo(11111, 1), SiloStatus.Active, "silo-1"),
            new ClusterMember(old, SiloStatus.Active, "silo-2"),
            new ClusterMember(restarted, SiloStatus.Active, "silo-2"));

        var address = await directory.Lookup(Replica2);

        Assert.NotNull(address);
        Assert.Equal(Replica2, address.GrainId);
        Assert.Equal(restarted, address.SiloAddress);
        Assert.Equal(new MembershipVersion(7), address.MembershipVersion);
        Assert.True(address.ActivationId.IsDefault);
    }

    [Fact]
    public async Task Lookup_finds_nothing_when_the_named_silo_is_not_active()
    {
        var directory = Directory(
            3,
            new ClusterMember(Silo(11111, 1), SiloStatus.Active, "silo-1"),
            new ClusterMember(Silo(11112, 1), SiloStatus.Dead, "silo-2"));

        Assert.Null(await directory.Lookup(Replica2));
        Assert.Null(await directory.Lookup(GrainId.Create("raftreplica", "silo-9")));
    }

    [Fact]
    public async Task Register_accepts_the_activation_it_is_given()
    {
        var directory = Directory(1, new ClusterMember(Silo(11112, 1), SiloStatus.Active, "silo-2"));
        var address = new GrainAddress { GrainId = Replica2, SiloAddress = Silo(11112, 1), ActivationId = ActivationId.NewId() };

        Assert.Same(address, await directory.Register(address));
    }

    [Fact]
    public void Resolver_takes_the_pinned_grain_types_only()
    {
        var directory = Directory(1);
        var resolver = new SiloPinnedGrainDirectoryResolver(directory);
        var pinned = new GrainProperties(ImmutableDictionary.Create<string, string>(StringComparer.Ordinal)
            .Add(WellKnownGrainTypeProperties.PlacementStrategy, nameof(SiloPinnedPlacement)));
        var ring = new GrainProperties(ImmutableDictionary.Create<string, string>(StringComparer.Ordinal)
            .Add(WellKnownGrainTypeProperties.PlacementStrategy, nameof(ConsistentHashPlacement)));

        Assert.True(resolver.TryResolveGrainDirectory(Replica2.Type, pinned, out var found));
        Assert.Same(directory, found);
        Assert.False(resolver.TryResolveGrainDirectory(GrainType.Create("user"), ring, out _));
        Assert.False(resolver.TryResolveGrainDirectory(GrainType.Create("user"), null, out _));
    }

    private sealed class FixedMembership(ClusterMembershipSnapshot snapshot) : IClusterMembershipService
    {
        public ClusterMembershipSnapshot CurrentSnapshot => snapshot;

        public IAsyncEnumerable<ClusterMembershipSnapshot> MembershipUpdates => throw new NotSupportedException();

        public ValueTask Refresh(MembershipVersion minimumVersion = default, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public Task<bool> TryKill(SiloAddress siloAddress) => Task.FromResult(false);
    }
}
