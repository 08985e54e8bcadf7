using System.Collections.Frozen;
using Orleans.Patterns.Ring;

namespace Orleans.Patterns.Placement;

/// <summary>An immutable ring over a set of silos, with the silo behind each ring member.</summary>
internal sealed class PlacementRing
{
    private readonly FrozenSet<SiloAddress> _silos;

    private PlacementRing(HashRing ring, SiloAddress[] silosByMember)
    {
        Ring = ring;
        Silos = silosByMember;
        _silos = silosByMember.ToFrozenSet();
    }

    public HashRing Ring { get; }

    /// <summary>Silo of each ring member, index-aligned with <see cref="HashRing.Members"/>.</summary>
    public SiloAddress[] Silos { get; }

    public static PlacementRing Build(IEnumerable<SiloAddress> silos, int virtualNodes)
    {
        var byMember = RingMembership.SelectMembers(silos);
        var ring = new HashRing(byMember.Keys, virtualNodes);
        var silosByMember = new SiloAddress[ring.Count];
        for (var i = 0; i < silosByMember.Length; i++)
        {
            silosByMember[i] = byMember[ring.Members[i]];
        }

        return new PlacementRing(ring, silosByMember);
    }

    public bool HasSameSilos(SiloAddress[] silos)
    {
        if (silos.Length != _silos.Count)
        {
            return false;
        }

        foreach (var silo in silos)
        {
            if (!_silos.Contains(silo))
            {
                return false;
            }
        }

        return true;
    }
}
