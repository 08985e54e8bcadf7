using Microsoft.Extensions.Options;
using Orleans.Patterns.Placement;
using Orleans.Patterns.Ring;
using Orleans.Patterns.Users;

namespace Orleans.Patterns.Silo.Hosting;

/// <summary>The project's own HTTP views on each silo, beside the Orleans dashboard.</summary>
internal static class PatternsViews
{
    private static readonly GrainType RingUser = GrainType.Create(UserGrainTypes.Ring);

    public static void MapPatternsViews(this WebApplication app, HostSettings settings)
    {
        if (settings.Dashboard.Enabled)
        {
            app.MapGet("/", () => Results.Redirect(settings.Dashboard.Path + "/"));
        }

        // This silo's view of the placement ring, built from the silos its director can place ring users on:
        // active in membership AND known, through their grain manifest, to host the ring user type. A silo
        // that is active but whose manifest has not reached this silo yet is not on its ring, which is why
        // `cluster up` and `demo` wait until every silo's view here lists every silo.
        app.MapGet("/api/ring", (
            IClusterMembershipService membership, IClusterManifestProvider manifests, IOptions<ConsistentHashPlacementOptions> options) =>
        {
            var snapshot = membership.CurrentSnapshot;
            var manifest = manifests.Current;
            var placeable = snapshot.Members.Values
                .Where(m => m.Status == SiloStatus.Active
                            && manifest.Silos.TryGetValue(m.SiloAddress, out var silo)
                            && silo.Grains.ContainsKey(RingUser))
                .ToList();
            var names = placeable.ToDictionary(m => RingMembership.MemberId(m.SiloAddress), m => m.Name, StringComparer.Ordinal);
            var members = RingMembership.SelectMembers(placeable.Select(m => m.SiloAddress));
            var ring = members.Count == 0 ? HashRing.Empty : new HashRing(members.Keys, options.Value.VirtualNodes);
            var shares = ring.IsEmpty ? [] : ring.KeySpaceShares();
            return Results.Ok(new RingView(
                settings.Silo.Name,
                snapshot.Version.Value,
                snapshot.Members.Values.Count(m => m.Status == SiloStatus.Active),
                options.Value.VirtualNodes,
                [.. ring.Members.Select((id, i) => new RingViewMember(id, names[id], shares[i]))]));
        });
    }
}

/// <summary>The JSON of <c>/api/ring</c>.</summary>
internal sealed record RingView(string Silo, long MembershipVersion, int ActiveSilos, int VirtualNodes, IReadOnlyList<RingViewMember> Members);

internal sealed record RingViewMember(string Endpoint, string Name, double KeySpaceShare);
