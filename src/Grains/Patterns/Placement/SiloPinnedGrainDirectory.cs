using System.Diagnostics.CodeAnalysis;
using Orleans.GrainDirectory;
using Orleans.Metadata;
using Orleans.Runtime.GrainDirectory;

namespace Orleans.Patterns.Placement;

/// <summary>
/// Where a pinned grain lives, answered from this silo's membership view: the grain keyed <c>silo-2</c> is on the
/// active silo named <c>silo-2</c>, so no other silo needs to be asked. Orleans' default directory would ask the
/// silo owning the grain's slice of the directory ring; when that silo has crashed but is not yet declared dead
/// (seconds under the default failure detection), every lookup that misses the cache fails, and calls between two
/// live silos' pinned grains (a Raft election between the survivors) fail with it.
/// </summary>
internal sealed class SiloPinnedGrainDirectory(IClusterMembershipService membership) : IGrainDirectory
{
    public Task<GrainAddress?> Lookup(GrainId grainId)
    {
        var snapshot = membership.CurrentSnapshot;
        var active = snapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).ToList();
        var silo = SiloPinnedPlacementDirector.Select(grainId.Key.ToString(), snapshot.Members.Values, active);

        // No activation id: the directory knows the silo, not the activation, and a message needs only the silo.
        // With no such silo the lookup finds nothing and placement fails fast with PinnedSiloUnavailableException.
        return Task.FromResult(silo is null ? null : new GrainAddress { GrainId = grainId, SiloAddress = silo, MembershipVersion = snapshot.Version });
    }

    /// <summary>
    /// Accepts every registration: placement puts a pinned grain only on its own silo, and the activation checks that
    /// again (<see cref="SiloPinnedActivation.EnsureOnOwnSilo"/>), so there is never a second activation to refuse.
    /// </summary>
    public Task<GrainAddress?> Register(GrainAddress address) => Task.FromResult<GrainAddress?>(address);

    public Task Unregister(GrainAddress address) => Task.CompletedTask;

    public Task UnregisterSilos(List<SiloAddress> siloAddresses) => Task.CompletedTask;
}

/// <summary>Sends the grain types placed by <see cref="SiloPinnedPlacement"/> to <see cref="SiloPinnedGrainDirectory"/>.</summary>
internal sealed class SiloPinnedGrainDirectoryResolver(SiloPinnedGrainDirectory directory) : IGrainDirectoryResolver
{
    public bool TryResolveGrainDirectory(GrainType grainType, GrainProperties? properties, [NotNullWhen(true)] out IGrainDirectory? grainDirectory)
    {
        if (properties is not null
            && properties.Properties.TryGetValue(WellKnownGrainTypeProperties.PlacementStrategy, out var strategy)
            && strategy == nameof(SiloPinnedPlacement))
        {
            grainDirectory = directory;
            return true;
        }

        grainDirectory = null;
        return false;
    }
}
