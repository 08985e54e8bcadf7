using Orleans.Patterns.Ring;

namespace Orleans.Patterns.Tests.Ring;

/// <summary>
/// A deliberately naive model of the ring, written from the definition rather than from the implementation: every
/// virtual node in a flat list, scanned linearly. Tests compare the real ring against it.
/// </summary>
internal sealed class RingOracle
{
    private readonly (ulong Position, int Member, int VirtualNode)[] _nodes;

    public RingOracle(IReadOnlyList<string> sortedMembers, int virtualNodes)
    {
        _nodes = [.. sortedMembers
            .SelectMany((member, m) => Enumerable.Range(0, virtualNodes)
                .Select(v => (HashRing.HashKey($"{member}#{v}"), m, v)))
            .OrderBy(n => n.Item1).ThenBy(n => n.m).ThenBy(n => n.v)];
    }

    /// <summary>Index in the sorted node list of the first node at or after the hash, wrapping to 0.</summary>
    public int NodeFor(ulong hash)
    {
        for (int i = 0; i < _nodes.Length; i++)
        {
            if (_nodes[i].Position >= hash)
            {
                return i;
            }
        }

        return 0;
    }

    public (ulong Position, int Member, int VirtualNode) Node(int index) => _nodes[index % _nodes.Length];

    public int OwnerOf(ulong hash) => _nodes[NodeFor(hash)].Member;

    /// <summary>Clockwise walk from the key's node to the first member below capacity, or -1.</summary>
    public int BoundedOwnerOf(ulong hash, int[] loads, int capacity)
    {
        int start = NodeFor(hash);
        for (int step = 0; step < _nodes.Length; step++)
        {
            int member = _nodes[(start + step) % _nodes.Length].Member;
            if (loads[member] < capacity)
            {
                return member;
            }
        }

        return -1;
    }
}
