using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Orleans.Patterns.Ring;

/// <summary>
/// An immutable consistent-hash ring: each member is placed at <see cref="VirtualNodesPerMember"/> pseudo-random
/// positions on a 64-bit circle, and a key belongs to the member owning the first position at or clockwise after
/// the key's hash. Adding or removing one member only moves the keys between it and its ring neighbours.
/// </summary>
/// <remarks>
/// The ring is a pure function of its member names and virtual-node count: any process that builds a ring from the
/// same members (in any order) computes the same owner for every key. Instances are immutable and safe to share
/// between threads; membership changes produce new instances via <see cref="WithMember"/> and
/// <see cref="WithoutMember"/>.
/// </remarks>
public sealed partial class HashRing
{
    /// <summary>
    /// The virtual-node count used when none is given.
    /// </summary>
    /// <remarks>
    /// 128 is where more virtual nodes stop paying for themselves. Measured over 100,000 keys, averaged over 40
    /// member-name sets (benchmark command <c>ring-balance</c>), peak-to-mean load for 64 / 128 / 256 / 512 vnodes:
    /// 3 members 1.10 / 1.06 / 1.06 / 1.04; 10 members 1.20 / 1.14 / 1.10 / 1.07; 100 members 1.34 / 1.24 / 1.19 / 1.14.
    /// Keys moved on a join stay at 0.98-1.02x the 1/(N+1) optimum at every setting (hash-mod-N moves N times it).
    /// Each step beyond 128 doubles memory (16 bytes per vnode: 200 KiB at 100 members, 400 KiB at 256) for a
    /// shrinking gain, and at 100 members x 256 the array outgrows L2: lookups went from ~19 ns to ~31 ns
    /// (RingLookup benchmarks, short job), while 64 / 128 cost about the same as each other (13-19 ns).
    /// Skew that matters beyond this is better handled by <see cref="GetOwnerIndexBounded"/>.
    /// </remarks>
    public const int DefaultVirtualNodes = 128;

    /// <summary>The largest accepted virtual-node count per member.</summary>
    public const int MaxVirtualNodes = 4096;

    private const string EmptyRingMessage = "The ring has no members";

    private readonly string[] _members;

    // Struct-of-arrays, sorted by position: the binary search touches only _positions, so each cache line holds
    // eight candidates instead of the two or three an array of (position, owner, vnode) structs would.
    private readonly ulong[] _positions;
    private readonly int[] _owners;
    private readonly int[] _virtualNodes;

    /// <summary>
    /// Builds a ring over <paramref name="members"/>.
    /// </summary>
    /// <param name="members">Member names; their order does not matter. May be empty.</param>
    /// <param name="virtualNodesPerMember">Positions per member, from 1 to <see cref="MaxVirtualNodes"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="members"/> is null.</exception>
    /// <exception cref="ArgumentException">A member is null, empty, whitespace or listed twice.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="virtualNodesPerMember"/> is out of range.</exception>
    public HashRing(IEnumerable<string> members, int virtualNodesPerMember = DefaultVirtualNodes)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (virtualNodesPerMember is < 1 or > MaxVirtualNodes)
        {
            throw new ArgumentOutOfRangeException(
                nameof(virtualNodesPerMember),
                virtualNodesPerMember,
                $"Virtual nodes per member must be between 1 and {MaxVirtualNodes}; got {virtualNodesPerMember}.");
        }

        _members = ValidateAndSort(members);
        VirtualNodesPerMember = virtualNodesPerMember;
        Members = Array.AsReadOnly(_members);
        (_positions, _owners, _virtualNodes) = BuildPositions(_members, virtualNodesPerMember);
    }

    /// <summary>A ring with no members, using <see cref="DefaultVirtualNodes"/>.</summary>
    public static HashRing Empty { get; } = new([]);

    /// <summary>Distinct members sorted by ordinal comparison; a member's index here is its member index.</summary>
    public IReadOnlyList<string> Members { get; }

    /// <summary>How many positions each member occupies on the ring.</summary>
    public int VirtualNodesPerMember { get; }

    /// <summary>The number of members.</summary>
    public int Count => _members.Length;

    /// <summary>Whether the ring has no members, in which case every lookup throws.</summary>
    public bool IsEmpty => _members.Length == 0;

    /// <summary>
    /// Hashes a key onto the ring: XxHash3 with seed 0 over the key's UTF-16LE bytes. The result is the same in every
    /// process and on every machine, which is what lets silos and clients agree on owners without talking.
    /// </summary>
    public static ulong HashKey(ReadOnlySpan<char> key) =>
        // UTF-16LE is the in-memory layout on every platform .NET runs on, so no transcoding is needed.
        XxHash3.HashToUInt64(MemoryMarshal.AsBytes(key));

    /// <summary>Returns the index in <see cref="Members"/> of the member owning <paramref name="key"/>.</summary>
    /// <exception cref="InvalidOperationException">The ring is empty.</exception>
    public int GetOwnerIndex(ReadOnlySpan<char> key) => GetOwnerIndexForHash(HashKey(key));

    /// <summary>
    /// Returns the index in <see cref="Members"/> of the member owning a key whose <see cref="HashKey"/> is
    /// <paramref name="keyHash"/>; for callers that hash once and look up on several rings.
    /// </summary>
    /// <exception cref="InvalidOperationException">The ring is empty.</exception>
    public int GetOwnerIndexForHash(ulong keyHash) => _owners[FindVirtualNode(keyHash)];

    /// <summary>Returns the member owning <paramref name="key"/>.</summary>
    /// <exception cref="InvalidOperationException">The ring is empty.</exception>
    public string GetOwner(ReadOnlySpan<char> key) => _members[GetOwnerIndex(key)];

    /// <summary>Returns the owner of <paramref name="key"/> together with the hash and virtual node that decided it.</summary>
    /// <exception cref="InvalidOperationException">The ring is empty.</exception>
    public RingLocation Locate(ReadOnlySpan<char> key)
    {
        ulong hash = HashKey(key);
        int slot = FindVirtualNode(hash);
        int owner = _owners[slot];
        return new RingLocation(hash, owner, _members[owner], _virtualNodes[slot], _positions[slot]);
    }

    /// <summary>Returns the index of <paramref name="member"/> in <see cref="Members"/>, or -1 if it is not a member.</summary>
    public int IndexOf(string member)
    {
        ArgumentNullException.ThrowIfNull(member);
        int index = Array.BinarySearch(_members, member, StringComparer.Ordinal);
        return index >= 0 ? index : -1;
    }

    /// <summary>Whether <paramref name="member"/> is on the ring.</summary>
    public bool Contains(string member) => IndexOf(member) >= 0;

    /// <summary>
    /// Returns a ring with <paramref name="member"/> added and the same virtual-node count, or this ring if it is
    /// already a member (so replaying a membership event is harmless).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="member"/> is null, empty or whitespace.</exception>
    public HashRing WithMember(string member)
    {
        ValidateMember(member, nameof(member));
        return Contains(member) ? this : new HashRing([.. _members, member], VirtualNodesPerMember);
    }

    /// <summary>
    /// Returns a ring without <paramref name="member"/> and the same virtual-node count, or this ring if it is not a
    /// member (so replaying a membership event is harmless).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="member"/> is null, empty or whitespace.</exception>
    public HashRing WithoutMember(string member)
    {
        ValidateMember(member, nameof(member));
        int index = IndexOf(member);
        if (index < 0)
        {
            return this;
        }

        return new HashRing(_members.Where((_, i) => i != index), VirtualNodesPerMember);
    }

    /// <inheritdoc />
    public override string ToString() => $"HashRing({Count} members, {VirtualNodesPerMember} virtual nodes each)";

    /// <summary>Index into the position arrays of the first virtual node at or clockwise after <paramref name="hash"/>.</summary>
    private int FindVirtualNode(ulong hash)
    {
        ulong[] positions = _positions;
        if (positions.Length == 0)
        {
            ThrowEmpty();
        }

        int index = LowerBound(positions, hash);

        // Past the last position the circle wraps around to the first one.
        return index == positions.Length ? 0 : index;
    }

    /// <summary>
    /// First index whose position is &gt;= <paramref name="hash"/> (or the length if none), for a non-empty sorted array.
    /// </summary>
    /// <remarks>
    /// Halving a base pointer with a conditional select rather than an if/else on lo/hi: key hashes are random, so
    /// the comparison mispredicts half the time, and the select compiles to a cmov. Bounds checks are elided by hand
    /// because every index stays below the length by construction. Measured against <see cref="Array.BinarySearch{T}(T[], T)"/>
    /// in the RingLookup benchmarks.
    /// </remarks>
    internal static int LowerBound(ulong[] positions, ulong hash)
    {
        ref ulong start = ref MemoryMarshal.GetArrayDataReference(positions);
        int lower = 0;
        int length = positions.Length;
        while (length > 1)
        {
            int half = length >> 1;
            lower = Unsafe.Add(ref start, lower + half) < hash ? lower + half : lower;
            length -= half;
        }

        return lower + (Unsafe.Add(ref start, lower) < hash ? 1 : 0);
    }

    /// <summary>The same search through <see cref="Array.BinarySearch{T}(T[], T)"/>, kept as the benchmark's comparison.</summary>
    internal static int LowerBoundWithArrayBinarySearch(ulong[] positions, ulong hash)
    {
        // Positions are distinct (see BuildPositions), so an exact hit is the lower bound.
        int index = Array.BinarySearch(positions, hash);
        return index >= 0 ? index : ~index;
    }

    internal ulong[] PositionsForBenchmark => _positions;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowEmpty() => throw new InvalidOperationException(EmptyRingMessage);

    private static void ValidateMember(string? member, string parameterName)
    {
        if (string.IsNullOrWhiteSpace(member))
        {
            throw new ArgumentException(
                $"A member must be a non-empty, non-whitespace string; got {(member is null ? "null" : $"'{member}'")}.",
                parameterName);
        }
    }

    private static string[] ValidateAndSort(IEnumerable<string> members)
    {
        string[] sorted = [.. members];
        foreach (string member in sorted)
        {
            ValidateMember(member, nameof(members));
        }

        Array.Sort(sorted, StringComparer.Ordinal);
        for (int i = 1; i < sorted.Length; i++)
        {
            if (string.Equals(sorted[i - 1], sorted[i], StringComparison.Ordinal))
            {
                throw new ArgumentException($"Duplicate member '{sorted[i]}'.", nameof(members));
            }
        }

        return sorted;
    }
}
