using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace Orleans.Patterns.Sharding;

/// <summary>
/// Rendezvous (highest random weight) hashing, Thaler and Ravishankar 1998: each member scores each shard with a
/// hash, and the highest score owns it. A join moves only the shards the newcomer outscores everyone on, about
/// S/(N+1); a leave moves only the leaver's shards. With a <see cref="ShardLoadCap"/>, shards go to their
/// highest-scoring member with room (see <see cref="BoundedShardAssignment"/>).
/// </summary>
public sealed class RendezvousShardAllocator : IShardAllocator
{
    /// <summary>Creates the allocator.</summary>
    /// <param name="cap">The load bound, or null for plain rendezvous hashing.</param>
    public RendezvousShardAllocator(ShardLoadCap? cap)
    {
        Cap = cap;
    }

    /// <summary>The load bound, or null when loads are not bounded.</summary>
    public ShardLoadCap? Cap { get; }

    /// <summary>
    /// A member's score for a shard: XxHash3 of the member name's UTF-16LE bytes, seeded with the shard number.
    /// Part of the cross-process contract: every process must rank members the same way.
    /// </summary>
    public static ulong Score(string member, int shard)
    {
        ArgumentNullException.ThrowIfNull(member);
        return XxHash3.HashToUInt64(MemoryMarshal.AsBytes(member.AsSpan()), shard);
    }

    /// <inheritdoc />
    public ShardMap Allocate(IEnumerable<string> members, int shardCount, ShardMap? previous = null)
    {
        ShardMap.ValidateShardCount(shardCount, nameof(shardCount));
        string[] sorted = ShardMap.ValidateMembers(members, nameof(members));
        ShardMap.RequireShardCount(previous, shardCount, nameof(previous));
        var preference = new Ranking(sorted);
        int[] owners = Cap is null
            ? [.. Enumerable.Range(0, shardCount).Select(preference.Preferred)]
            : BoundedShardAssignment.Assign(preference, sorted, shardCount, Cap, previous);
        return ShardMap.FromValidated((previous?.Epoch ?? 0) + 1, sorted, owners, ShardMap.CarrySplits(sorted, owners, previous));
    }

    /// <inheritdoc />
    public override string ToString() => Cap is null ? "Rendezvous" : $"Rendezvous, bounded by {Cap.BalanceFactor}";

    private sealed class Ranking(string[] members) : ShardPreference
    {
        public override int Preferred(int shard) => FirstAllowed(shard, blocked: []);

        /// <remarks>An empty <paramref name="blocked"/> blocks no one.</remarks>
        public override int FirstAllowed(int shard, ReadOnlySpan<int> blocked)
        {
            int best = -1;
            ulong bestScore = 0;
            for (int member = 0; member < members.Length; member++)
            {
                if (!blocked.IsEmpty && blocked[member] != 0)
                {
                    continue;
                }

                // Strictly greater: on equal scores the lower member index (ordinal name order) wins everywhere.
                ulong score = Score(members[member], shard);
                if (best < 0 || score > bestScore)
                {
                    best = member;
                    bestScore = score;
                }
            }

            return best;
        }
    }
}
