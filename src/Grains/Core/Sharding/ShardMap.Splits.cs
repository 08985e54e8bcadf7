using System.Runtime.CompilerServices;

namespace Orleans.Patterns.Sharding;

public sealed partial class ShardMap
{
    private const int NotSplit = -1;

    /// <summary>The split shards and their child owners, ascending by shard; empty when no shard is split.</summary>
    public IReadOnlyList<ShardSplit> Splits { get; }

    /// <summary>
    /// Whether a user with hash <paramref name="hash"/> (<see cref="HashUserId"/>) is served by the child owner when its
    /// shard is split: the hash's lowest bit is set.
    /// </summary>
    /// <remarks>
    /// The shard is <c>floor(h * S / 2^64)</c>, a function of the hash's high bits: for a power-of-two S exactly its top
    /// log2(S) bits, so bit 0 never takes part. For any S, flipping bit 0 changes <c>h * S</c> by S, which changes the
    /// high word (the shard) only when the low word is within S of wrapping: a shard's hashes form one contiguous range
    /// of 2^64 / S values in which bit 0 alternates, so exactly half of the range (give or take one value) has it set.
    /// XxHash3 mixes every output bit, so over real user ids the bit is a fair coin independent of the shard: a split
    /// sends half of the shard's users, and only those, to the child owner. Part of the cross-process contract.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsInChildHalf(ulong hash) => (hash & 1) != 0;

    /// <summary>Whether <paramref name="shard"/> is split in this epoch.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="shard"/> is not a shard of this map.</exception>
    public bool IsSplit(int shard)
    {
        ValidateShard(shard);
        return _childIndexes[shard] != NotSplit;
    }

    /// <summary>The child owner of <paramref name="shard"/>, or null when it is not split.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="shard"/> is not a shard of this map.</exception>
    public string? ChildOwnerOfShard(int shard)
    {
        ValidateShard(shard);
        int child = _childIndexes[shard];
        return child == NotSplit ? null : _members[child];
    }

    /// <summary>
    /// This map with <paramref name="shard"/> split: its users in the child half move to
    /// <paramref name="childOwner"/>, every other user stays. The new map's epoch is this one's plus 1.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="shard"/> is not a shard of this map.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="childOwner"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="childOwner"/> is not a member or already owns the shard,
    /// or the shard is already split.</exception>
    public ShardMap WithSplit(int shard, string childOwner)
    {
        ValidateShard(shard);
        ArgumentNullException.ThrowIfNull(childOwner);
        int child = IndexOf(childOwner);
        if (child < 0)
        {
            throw new ArgumentException(
                $"Cannot split shard {shard} to '{childOwner}': it is not a member of epoch {Epoch}.", nameof(childOwner));
        }

        if (child == _ownerIndexes[shard])
        {
            throw new ArgumentException(
                $"Cannot split shard {shard} to '{childOwner}': it already owns the shard; the child owner must be another member.",
                nameof(childOwner));
        }

        if (_childIndexes[shard] != NotSplit)
        {
            throw new ArgumentException(
                $"Shard {shard} is already split to '{_members[_childIndexes[shard]]}'; merge it before splitting it again.",
                nameof(shard));
        }

        int[] children = (int[])_childIndexes.Clone();
        children[shard] = child;
        return WithChildIndexes(children);
    }

    /// <summary>
    /// This map with <paramref name="shard"/> merged back: its child half returns to the shard's owner, so every user
    /// has the owner it had before the split. The new map's epoch is this one's plus 1.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="shard"/> is not a shard of this map.</exception>
    /// <exception cref="ArgumentException">The shard is not split.</exception>
    public ShardMap WithoutSplit(int shard)
    {
        ValidateShard(shard);
        if (_childIndexes[shard] == NotSplit)
        {
            throw new ArgumentException($"Cannot merge shard {shard}: it is not split in epoch {Epoch}.", nameof(shard));
        }

        int[] children = (int[])_childIndexes.Clone();
        children[shard] = NotSplit;
        return WithChildIndexes(children);
    }

    /// <summary>Child owner index per shard, -1 when not split.</summary>
    internal ReadOnlySpan<int> ChildOwnerIndexes => _childIndexes;

    /// <summary>The next epoch: same members and owners, these child indexes (already valid for this map).</summary>
    internal ShardMap WithChildIndexes(int[] childIndexes) =>
        new(checked(Epoch + 1), (_members, _ownerIndexes, childIndexes));

    /// <summary>
    /// For allocators: the splits of <paramref name="previous"/> that survive a reallocation to
    /// <paramref name="ownerIndexes"/>, i.e. whose child owner is still a member and does not own the shard now; the
    /// others are dropped, so their child half returns to the shard's (new) owner.
    /// </summary>
    internal static int[]? CarrySplits(string[] sortedMembers, int[] ownerIndexes, ShardMap? previous)
    {
        if (previous is null || previous.Splits.Count == 0)
        {
            return null;
        }

        int[] children = NoSplits(ownerIndexes.Length);
        foreach (ShardSplit split in previous.Splits)
        {
            int child = Array.BinarySearch(sortedMembers, split.ChildOwner, StringComparer.Ordinal);
            if (child >= 0 && child != ownerIndexes[split.Shard])
            {
                children[split.Shard] = child;
            }
        }

        return children;
    }

    private static int[] NoSplits(int shardCount)
    {
        var children = new int[shardCount];
        Array.Fill(children, NotSplit);
        return children;
    }

    private static int[] ResolveSplits(string[] sortedMembers, int[] ownerIndexes, IEnumerable<ShardSplit>? splits)
    {
        int[] children = NoSplits(ownerIndexes.Length);
        if (splits is null)
        {
            return children;
        }

        foreach (ShardSplit split in splits)
        {
            if ((uint)split.Shard >= (uint)ownerIndexes.Length)
            {
                throw new ArgumentException(
                    $"Split of shard {split.Shard}: the shard must be between 0 and {ownerIndexes.Length - 1}.", nameof(splits));
            }

            int child = split.ChildOwner is null ? -1 : Array.BinarySearch(sortedMembers, split.ChildOwner, StringComparer.Ordinal);
            if (child < 0)
            {
                throw new ArgumentException(
                    $"Split of shard {split.Shard}: child owner {(split.ChildOwner is null ? "null" : $"'{split.ChildOwner}'")} is not a member.",
                    nameof(splits));
            }

            if (child == ownerIndexes[split.Shard])
            {
                throw new ArgumentException(
                    $"Split of shard {split.Shard}: child owner '{split.ChildOwner}' already owns the shard; the child owner must be another member.",
                    nameof(splits));
            }

            if (children[split.Shard] != NotSplit)
            {
                throw new ArgumentException($"Shard {split.Shard} is split twice.", nameof(splits));
            }

            children[split.Shard] = child;
        }

        return children;
    }

    private string[] BuildSplitLookup()
    {
        var lookup = new string[_ownerNames.Length * 2];
        for (int shard = 0; shard < _ownerNames.Length; shard++)
        {
            int child = _childIndexes[shard];
            lookup[2 * shard] = _ownerNames[shard];
            lookup[(2 * shard) + 1] = child == NotSplit ? _ownerNames[shard] : _members[child];
        }

        return lookup;
    }
}
