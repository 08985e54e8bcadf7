using Orleans.Runtime.Placement;

namespace Orleans.Patterns.Placement;

/// <summary>
/// Maps the grain key (a silo name) to that silo's current address through Orleans membership. Stateless, so it
/// is safe as the concurrent singleton Orleans registers it as.
/// </summary>
internal sealed class SiloPinnedPlacementDirector(IClusterMembershipService membership) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var siloName = target.GrainIdentity.Key.ToString();
        var compatible = context.GetCompatibleSilos(target);

        // Placement hints are deliberately ignored (unlike every built-in director): a hint naming another silo
        // would put the grain on the wrong silo, and a hint naming the right silo changes nothing.
        var silo = Select(siloName, membership.CurrentSnapshot.Members.Values, compatible);
        return silo is not null
            ? Task.FromResult(silo)
            : throw new PinnedSiloUnavailableException(siloName, target.GrainIdentity.ToString());
    }

    /// <summary>
    /// The active, compatible silo named <paramref name="siloName"/>; when a fast restart leaves two generations
    /// of it active for a moment, the newest. Null when there is none.
    /// </summary>
    internal static SiloAddress? Select(string siloName, IEnumerable<ClusterMember> members, IReadOnlyCollection<SiloAddress> compatible) =>
        NewestActive(siloName, members, compatible);

    /// <summary>
    /// The active silo named <paramref name="siloName"/> (among <paramref name="among"/>, when given); when a fast
    /// restart leaves two generations of it active for a moment, the newest. Null when there is none.
    /// </summary>
    internal static SiloAddress? NewestActive(string siloName, IEnumerable<ClusterMember> members, IReadOnlyCollection<SiloAddress>? among = null)
    {
        SiloAddress? chosen = null;
        foreach (var member in members)
        {
            if (member.Status == SiloStatus.Active
                && string.Equals(member.Name, siloName, StringComparison.Ordinal)
                && (among is null || among.Contains(member.SiloAddress))
                && (chosen is null || member.SiloAddress.Generation > chosen.Generation))
            {
                chosen = member.SiloAddress;
            }
        }

        return chosen;
    }
}
