using Microsoft.Extensions.Options;
using Orleans.Patterns.Placement;
using Orleans.Patterns.Ring;

namespace Orleans.Patterns.Silo.Hosting;

/// <summary>The project's own HTTP views on each silo, beside the Orleans dashboard.</summary>
internal static class PatternsViews
{
    public static void MapPatternsViews(this WebApplication app, HostSettings settings)
    {
        if (settings.Dashboard.Enabled)
        {
            app.MapGet("/", () => Results.Redirect(settings.Dashboard.Path + "/"));
        }

        // This silo's view of the placement ring: the active silos and each one's share of the key space.
        app.MapGet("/api/ring", (IClusterMembershipService membership, IOptions<ConsistentHashPlacementOptions> options) =>
        {
            var active = membership.CurrentSnapshot.Members.Values
                .Where(m => m.Status == SiloStatus.Active)
                .ToDictionary(m => RingMembership.MemberId(m.SiloAddress), m => m.Name, StringComparer.Ordinal);
            var ring = active.Count == 0 ? HashRing.Empty : new HashRing(active.Keys, options.Value.VirtualNodes);
            var shares = ring.IsEmpty ? [] : ring.KeySpaceShares();
            return Results.Ok(new
            {
                silo = settings.Silo.Name,
                membershipVersion = membership.CurrentSnapshot.Version.Value,
                virtualNodes = ring.VirtualNodesPerMember,
                members = ring.Members.Select((id, i) => new { endpoint = id, name = active[id], keySpaceShare = shares[i] }),
            });
        });
    }
}
