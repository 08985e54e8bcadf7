using System.Globalization;
using Orleans.Patterns.Ring;

namespace Orleans.Patterns.Sharding;

/// <summary>
/// Consistent hashing on a <see cref="HashRing"/>: shard s sits on the ring at the position of the key
/// <c>"shard-" + s</c> and belongs to the first member clockwise. With a <see cref="ShardLoadCap"/>, it goes to the
/// first member clockwise with room (see <see cref="BoundedShardAssignment"/>).
/// </summary>
public sealed class RingShardAllocator : IShardAllocator
{
    /// <summary>Creates the allocator.</summary>
    /// <param name="cap">The load bound, or null for plain consistent hashing.</param>
    /// <param name="virtualNodesPerMember">Ring positions per member; see <see cref="HashRing.DefaultVirtualNodes"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="virtualNodesPerMember"/> is out of range.</exception>
    public RingShardAllocator(ShardLoadCap? cap, int virtualNodesPerMember = HashRing.DefaultVirtualNodes)
    {
        if (virtualNodesPerMember is < 1 or > HashRing.MaxVirtualNodes)
        {
            throw new ArgumentOutOfRangeException(
                nameof(virtualNodesPerMember),
                virtualNodesPerMember,
                $"Virtual nodes per member must be between 1 and {HashRing.MaxVirtualNodes}; got {virtualNodesPerMember}.");
        }

        Cap = cap;
        VirtualNodesPerMember = virtualNodesPerMember;
    }

    /// <summary>The load bound, or null when loads are not bounded.</summary>
    public ShardLoadCap? Cap { get; }

    /// <summary>Ring positions per member.</summary>
    public int VirtualNodesPerMember { get; }

    /// <summary>The ring key of a shard, part of the cross-process contract: <c>"shard-" + s</c> in invariant digits.</summary>
    public static string ShardKey(int shard) => string.Create(CultureInfo.InvariantCulture, $"shard-{shard}");

    /// <inheritdoc />
    public ShardMap Allocate(IEnumerable<string> members, int shardCount, ShardMap? previous = null)
    {
        ShardMap.ValidateShardCount(shardCount, nameof(shardCount));
        string[] sorted = ShardMap.ValidateMembers(members, nameof(members));
        ShardMap.RequireShardCount(previous, shardCount, nameof(previous));

        // The ring sorts its members ordinally too, so its member indexes are the map's.
        var preference = new Positions(new HashRing(sorted, VirtualNodesPerMember), shardCount);
        int[] owners = Cap is null
            ? [.. Enumerable.Range(0, shardCount).Select(preference.Preferred)]
            : BoundedShardAssignment.Assign(preference, sorted, shardCount, Cap, previous);
        return ShardMap.FromValidated((previous?.Epoch ?? 0) + 1, sorted, owners, ShardMap.CarrySplits(sorted, owners, previous));
    }

    /// <inheritdoc />
    public override string ToString() =>
        Cap is null ? $"Ring ({VirtualNodesPerMember} vnodes)" : $"Ring ({VirtualNodesPerMember} vnodes), bounded by {Cap.BalanceFactor}";

    private sealed class Positions(HashRing ring, int shardCount) : ShardPreference
    {
        private readonly string[] _keys = [.. Enumerable.Range(0, shardCount).Select(ShardKey)];

        public override int Preferred(int shard) => ring.GetOwnerIndex(_keys[shard]);

        // Blocked members read as loads of 1 against a capacity of 1: the ring's bounded walk then skips exactly them.
        public override int FirstAllowed(int shard, ReadOnlySpan<int> blocked) =>
            ring.GetOwnerIndexBounded(_keys[shard], blocked, capacity: 1);
    }
}
