using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Orleans.Patterns.Sharding;

/// <summary>
/// An immutable, versioned assignment of a fixed number of virtual shards to owning members: a user id hashes to a
/// shard (<see cref="ShardOf(ReadOnlySpan{char})"/>), and the shard's owner in this epoch serves it.
/// </summary>
/// <remarks>
/// The shard of a user depends only on the user id and <see cref="ShardCount"/>, never on membership, so clients and
/// silos agree on it without talking; only the shard-to-owner table changes between epochs. Instances are safe to
/// share between threads; a new epoch is a new instance, published by swapping a reference.
/// <para>
/// A hot shard can be split (<see cref="WithSplit"/>): its users whose hash has the child bit set (see
/// <see cref="IsInChildHalf"/>) are served by a second member, the shard's child owner, the others by its owner.
/// </para>
/// </remarks>
public sealed partial class ShardMap
{
    /// <summary>The largest accepted shard count.</summary>
    public const int MaxShardCount = 65536;

    private readonly string[] _members;

    // Owner names per shard for the lookup path (one dependent load after hashing), and owner indexes into _members
    // for diffs and allocation, which compare owners and must not compare strings.
    private readonly string[] _ownerNames;
    private readonly int[] _ownerIndexes;
    private readonly int[] _shardCounts;

    // Child owner index per shard, -1 when the shard is not split.
    private readonly int[] _childIndexes;

    // The lookup table OwnerOfHash reads, and log2 of its entries per shard. Without splits it is _ownerNames itself
    // (shift 0); with any split it holds two entries per shard, [2s] = owner and [2s + 1] = child owner (or the owner
    // again when s is not split), so the child bit selects the entry with a shift and a mask instead of a branch, and
    // a map without splits pays only for those two ALU operations.
    private readonly string[] _lookup;
    private readonly int _lookupShift;

    /// <summary>
    /// Builds a map from an explicit owner per shard.
    /// </summary>
    /// <param name="epoch">The map's version; later maps have larger epochs. Must not be negative.</param>
    /// <param name="members">The members of this epoch, in any order. A member may own no shard.</param>
    /// <param name="owners">The owner of each shard, one entry per shard; each must be one of <paramref name="members"/>.</param>
    /// <param name="splits">The split shards with their child owners, in any order, or null for none. Each shard at
    /// most once; each child owner a member other than the shard's owner.</param>
    /// <exception cref="ArgumentNullException">An argument other than <paramref name="splits"/> is null.</exception>
    /// <exception cref="ArgumentException">A member is invalid or listed twice, an owner is not a member, or a split
    /// names a shard out of range or twice, a child owner that is not a member, or the shard's own owner.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The epoch is negative or the shard count is out of range.</exception>
    public ShardMap(long epoch, IEnumerable<string> members, IReadOnlyList<string> owners, IEnumerable<ShardSplit>? splits = null)
        : this(ValidateEpoch(epoch), ResolveOwners(members, owners, splits))
    {
    }

    private ShardMap(long epoch, (string[] Members, int[] OwnerIndexes, int[] ChildIndexes) table)
    {
        (_members, _ownerIndexes, _childIndexes) = table;
        _ownerNames = new string[_ownerIndexes.Length];
        _shardCounts = new int[_members.Length];
        var splits = new List<ShardSplit>();
        for (int shard = 0; shard < _ownerIndexes.Length; shard++)
        {
            _ownerNames[shard] = _members[_ownerIndexes[shard]];
            _shardCounts[_ownerIndexes[shard]]++;
            if (_childIndexes[shard] >= 0)
            {
                splits.Add(new ShardSplit(shard, _members[_childIndexes[shard]]));
            }
        }

        (_lookup, _lookupShift) = splits.Count == 0 ? (_ownerNames, 0) : (BuildSplitLookup(), 1);
        Epoch = epoch;
        Members = Array.AsReadOnly(_members);
        ShardCounts = Array.AsReadOnly(_shardCounts);
        Splits = splits.AsReadOnly();
    }

    /// <summary>The map's version: every change of ownership produces a map with a larger epoch.</summary>
    public long Epoch { get; }

    /// <summary>The number of virtual shards, fixed for the life of a cluster.</summary>
    public int ShardCount => _ownerIndexes.Length;

    /// <summary>Distinct members sorted by ordinal comparison; a member's index here is its member index.</summary>
    public IReadOnlyList<string> Members { get; }

    /// <summary>
    /// The shard of a user id among <paramref name="shardCount"/> shards: <c>floor(h * shardCount / 2^64)</c> where
    /// h is XxHash3 (seed 0) of the id's UTF-16LE bytes, the same key hash as the placement ring. Part of the
    /// cross-process contract: changing it moves every user.
    /// </summary>
    /// <remarks>
    /// Multiply-high instead of <c>h % shardCount</c> (Lemire, "Fast random integer generation in an interval", 2019):
    /// one multiplication instead of a 64-bit division, and it uses the hash's high bits, which XxHash3 mixes as well
    /// as its low ones.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="shardCount"/> is out of range.</exception>
    public static int ShardOf(ReadOnlySpan<char> userId, int shardCount)
    {
        ValidateShardCount(shardCount, nameof(shardCount));
        return ShardOfHash(HashUserId(userId), shardCount);
    }

    /// <summary>XxHash3 (seed 0) of the id's UTF-16LE bytes, identical to the ring's key hash.</summary>
    public static ulong HashUserId(ReadOnlySpan<char> userId) => XxHash3.HashToUInt64(MemoryMarshal.AsBytes(userId));

    /// <summary>The shard of a user id in this map: see <see cref="ShardOf(ReadOnlySpan{char}, int)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ShardOf(ReadOnlySpan<char> userId) => ShardOfHash(HashUserId(userId), _ownerIndexes.Length);

    /// <summary>
    /// The member serving <paramref name="userId"/> in this epoch: the owner of its shard, or the shard's child owner
    /// when the shard is split and the user is in the child half. Does not allocate.
    /// </summary>
    public string OwnerOf(ReadOnlySpan<char> userId) => OwnerOfHash(HashUserId(userId));

    /// <summary>
    /// The member serving a user whose <see cref="HashUserId"/> is <paramref name="hash"/>: see
    /// <see cref="OwnerOf(ReadOnlySpan{char})"/>. Does not allocate.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public string OwnerOfHash(ulong hash)
    {
        string[] lookup = _lookup;
        int shift = _lookupShift;

        // The shard is below the shard count by construction (multiply-high of a 64-bit hash by the count), and the
        // slot, shard * 2 + child bit when split, below the table's length, so the bounds check the JIT cannot prove
        // away is skipped by hand. Without splits the shift is 0 and the mask clears the child bit.
        int shard = ShardOfHash(hash, lookup.Length >> shift);
        int slot = (shard << shift) | (int)((uint)hash & (uint)shift);
        return Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(lookup), slot);
    }

    /// <summary>The owner of <paramref name="shard"/> in this epoch; when it is split, the member serving its
    /// parent half (see <see cref="ChildOwnerOfShard"/> for the other).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="shard"/> is not a shard of this map.</exception>
    public string OwnerOfShard(int shard)
    {
        ValidateShard(shard);
        return _ownerNames[shard];
    }

    /// <summary>Index in <see cref="Members"/> of the owner of <paramref name="shard"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="shard"/> is not a shard of this map.</exception>
    public int OwnerIndexOfShard(int shard)
    {
        ValidateShard(shard);
        return _ownerIndexes[shard];
    }

    /// <summary>How many shards each member owns, index-aligned with <see cref="Members"/>. Child owners of split
    /// shards are not counted: a split is a temporary relief, not an allocation.</summary>
    public IReadOnlyList<int> ShardCounts { get; }

    /// <summary>How many shards <paramref name="member"/> owns; 0 if it is not a member.</summary>
    public int ShardCountOf(string member)
    {
        int index = IndexOf(member);
        return index < 0 ? 0 : _shardCounts[index];
    }

    /// <summary>The shards <paramref name="member"/> owns, ascending; empty if it is not a member.</summary>
    public IReadOnlyList<int> ShardsOf(string member)
    {
        int index = IndexOf(member);
        if (index < 0)
        {
            return [];
        }

        var shards = new List<int>(_shardCounts[index]);
        for (int shard = 0; shard < _ownerIndexes.Length; shard++)
        {
            if (_ownerIndexes[shard] == index)
            {
                shards.Add(shard);
            }
        }

        return shards;
    }

    /// <summary>Returns the index of <paramref name="member"/> in <see cref="Members"/>, or -1 if it is not a member.</summary>
    public int IndexOf(string member)
    {
        ArgumentNullException.ThrowIfNull(member);
        int index = Array.BinarySearch(_members, member, StringComparer.Ordinal);
        return index >= 0 ? index : -1;
    }

    /// <summary>Whether <paramref name="member"/> is a member of this epoch.</summary>
    public bool Contains(string member) => IndexOf(member) >= 0;

    /// <inheritdoc />
    public override string ToString() => $"ShardMap(epoch {Epoch}, {ShardCount} shards, {_members.Length} members)";

    internal ReadOnlySpan<int> OwnerIndexes => _ownerIndexes;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int ShardOfHash(ulong hash, int shardCount) => (int)Math.BigMul(hash, (ulong)(uint)shardCount, out _);

    /// <summary>
    /// For allocators: members already validated and sorted, owner indexes already in range, child indexes (or null
    /// for no splits) already in range, -1 or another member than the owner.
    /// </summary>
    internal static ShardMap FromValidated(long epoch, string[] sortedMembers, int[] ownerIndexes, int[]? childIndexes = null) =>
        new(epoch, (sortedMembers, ownerIndexes, childIndexes ?? NoSplits(ownerIndexes.Length)));

    private static long ValidateEpoch(long epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        return epoch;
    }

    private static (string[] Members, int[] OwnerIndexes, int[] ChildIndexes) ResolveOwners(
        IEnumerable<string> members, IReadOnlyList<string> owners, IEnumerable<ShardSplit>? splits)
    {
        ArgumentNullException.ThrowIfNull(owners);
        ValidateShardCount(owners.Count, nameof(owners));
        string[] sorted = ValidateMembers(members, nameof(members));
        var indexes = new int[owners.Count];
        for (int shard = 0; shard < indexes.Length; shard++)
        {
            int index = Array.BinarySearch(sorted, owners[shard], StringComparer.Ordinal);
            if (index < 0)
            {
                throw new ArgumentException(
                    $"Shard {shard} is owned by '{owners[shard]}', which is not a member.", nameof(owners));
            }

            indexes[shard] = index;
        }

        return (sorted, indexes, ResolveSplits(sorted, indexes, splits));
    }

    private void ValidateShard(int shard)
    {
        if ((uint)shard >= (uint)_ownerIndexes.Length)
        {
            throw new ArgumentOutOfRangeException(
                nameof(shard), shard, $"The shard must be between 0 and {_ownerIndexes.Length - 1}; got {shard}.");
        }
    }
}
