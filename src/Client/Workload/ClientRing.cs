using Orleans.Patterns.Client.Cluster;
using Orleans.Patterns.Placement;
using Orleans.Patterns.Ring;

namespace Orleans.Patterns.Client.Workload;

/// <summary>
/// The placement ring as the client computes it from the active silos: the same members, virtual nodes and
/// hash as every silo's director, so it predicts where a ring-placed user lives.
/// </summary>
internal sealed class ClientRing
{
    private readonly SiloAddress[] _silosByMember;
    private readonly Dictionary<SiloAddress, string> _names;

    public ClientRing(IEnumerable<ActiveSilo> silos, int virtualNodes)
    {
        var list = silos.ToList();
        _names = list.ToDictionary(s => s.Address, s => s.Name);
        var members = RingMembership.SelectMembers(list.Select(s => s.Address));
        Ring = new HashRing(members.Keys, virtualNodes);
        _silosByMember = [.. Ring.Members.Select(m => members[m])];
    }

    public HashRing Ring { get; }

    public SiloAddress OwnerOf(string userId) => _silosByMember[Ring.GetOwnerIndex(userId)];

    public string NameOf(SiloAddress silo) => _names.TryGetValue(silo, out var name) ? name : RingMembership.MemberId(silo);

    public string NameOfMember(int memberIndex) => NameOf(_silosByMember[memberIndex]);
}
