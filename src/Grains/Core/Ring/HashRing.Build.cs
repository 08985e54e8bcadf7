using System.Globalization;

namespace Orleans.Patterns.Ring;

public sealed partial class HashRing
{
    /// <summary>
    /// The position of a member's virtual node: <see cref="HashKey"/> of <c>member + "#" + index</c> (invariant
    /// digits). Part of the ring's cross-process contract, like <see cref="HashKey"/> itself: changing it reshuffles
    /// every key.
    /// </summary>
    public static ulong VirtualNodePosition(string member, int virtualNode)
    {
        ArgumentNullException.ThrowIfNull(member);
        ArgumentOutOfRangeException.ThrowIfNegative(virtualNode);
        return VirtualNodePosition(member, virtualNode, new char[member.Length + 12]);
    }

    private static ulong VirtualNodePosition(string member, int virtualNode, Span<char> buffer)
    {
        member.CopyTo(buffer);
        buffer[member.Length] = '#';
        virtualNode.TryFormat(buffer[(member.Length + 1)..], out int digits, provider: CultureInfo.InvariantCulture);
        return HashKey(buffer[..(member.Length + 1 + digits)]);
    }

    private static (ulong[] Positions, int[] Owners, int[] VirtualNodes) BuildPositions(string[] members, int virtualNodes)
    {
        var entries = new Entry[members.Length * virtualNodes];
        int longest = members.Length == 0 ? 0 : members.Max(m => m.Length);

        // One scratch buffer for every name: building a 100-member ring would otherwise allocate ~13k strings.
        char[] buffer = new char[longest + 12];
        for (int member = 0; member < members.Length; member++)
        {
            for (int vnode = 0; vnode < virtualNodes; vnode++)
            {
                entries[(member * virtualNodes) + vnode] =
                    new Entry(VirtualNodePosition(members[member], vnode, buffer), member, vnode);
            }
        }

        // Entry's ordering is total (position, then member index, then vnode index), so every process sorts the
        // same input into the same order even when two virtual nodes hash to the same position.
        Array.Sort(entries);

        var positions = new List<ulong>(entries.Length);
        var owners = new List<int>(entries.Length);
        var vnodes = new List<int>(entries.Length);
        for (int i = 0; i < entries.Length; i++)
        {
            // On a collision the earlier entry owns the whole arc ending at that position and the later one owns
            // nothing, so it is dropped. Keeping positions distinct is what lets the lookup stop at the first match.
            if (i > 0 && entries[i].Position == entries[i - 1].Position)
            {
                continue;
            }

            positions.Add(entries[i].Position);
            owners.Add(entries[i].Member);
            vnodes.Add(entries[i].VirtualNode);
        }

        return ([.. positions], [.. owners], [.. vnodes]);
    }

    private readonly record struct Entry(ulong Position, int Member, int VirtualNode) : IComparable<Entry>
    {
        public int CompareTo(Entry other)
        {
            int byPosition = Position.CompareTo(other.Position);
            if (byPosition != 0)
            {
                return byPosition;
            }

            int byMember = Member.CompareTo(other.Member);
            return byMember != 0 ? byMember : VirtualNode.CompareTo(other.VirtualNode);
        }
    }
}
