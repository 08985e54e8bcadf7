using System.Collections.Frozen;
using Orleans.Patterns.Ring;

namespace Orleans.Patterns.Placement;

/// <summary>An immutable ring over a set of silos, with the silo behind each ring member.</summary>
internal sealed class PlacementRing
{
    private readonly SiloAddress[] _input;
    private readonly FrozenSet<SiloAddress> _inputSet;

    private PlacementRing(HashRing ring, SiloAddress[] silosByMember, SiloAddress[] input)
    {
        Ring = ring;
        Silos = silosByMember;
        _input = input;
        _inputSet = input.ToFrozenSet();
    }

    public HashRing Ring { get; }

    /// <summary>Silo of each ring member, index-aligned with <see cref="HashRing.Members"/>.</summary>
    public SiloAddress[] Silos { get; }

    public static PlacementRing Build(IReadOnlyCollection<SiloAddress> silos, int virtualNodes)
    {
        var byMember = RingMembership.SelectMembers(silos);
        var ring = new HashRing(byMember.Keys, virtualNodes);
        var silosByMember = new SiloAddress[ring.Count];
        for (var i = 0; i < silosByMember.Length; i++)
        {
            silosByMember[i] = byMember[ring.Members[i]];
        }

        // The cache key is the silo set as given, including a stale generation that SelectMembers dropped, so
        // the same input keeps hitting the cache instead of rebuilding the ring on every placement.
        return new PlacementRing(ring, silosByMember, [.. silos]);
    }

    /// <summary>Whether <paramref name="silos"/> is the silo set this ring was built from, in any order.</summary>
    public bool HasSameSilos(SiloAddress[] silos)
    {
        // Orleans hands every placement a fresh array, but in the same order while membership is unchanged:
        // an element-wise comparison settles the common case without hashing a single address.
        if (ReferenceEquals(silos, _input) || silos.AsSpan().SequenceEqual(_input))
        {
            return true;
        }

        if (silos.Length != _inputSet.Count)
        {
            return false;
        }

        foreach (var silo in silos)
        {
            if (!_inputSet.Contains(silo))
            {
                return false;
            }
        }

        return true;
    }
}
