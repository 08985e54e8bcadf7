namespace Orleans.Patterns.Sharding;

/// <summary>
/// Decides which shards to split and which to merge from the cluster's per-shard load: a pure function of the map and
/// the loads, so every process given the same input makes the same decision.
/// </summary>
/// <remarks>
/// Per decision, with fair share F = total load / member count:
/// <list type="number">
/// <item>Below <see cref="HotShardOptions.MinTotalOpsPerSecond"/> in total, nothing changes: an idle cluster's
/// fractions are noise.</item>
/// <item>A shard that is not split and carries more than <see cref="HotShardOptions.SplitFraction"/> × F is a split
/// candidate (there must be a second member to split to).</item>
/// <item>A split shard carrying less than <see cref="HotShardOptions.MergeFraction"/> × F is a merge candidate.</item>
/// <item>Splits, hottest first, then merges, coolest first, up to <see cref="HotShardOptions.MaxChangesPerRound"/>
/// changes in all; ties go to the lower shard. Splits come first because they relieve an overloaded member, while a
/// merge only tidies up.</item>
/// <item>Each split's child owner is the member with the least load other than the shard's owner (ties: the lower
/// member index), where a member's load is the sum of its shards' loads, a split shard counting half to its owner and
/// half to its child owner. The chosen merges are accounted first, then each split in turn, so one round's splits
/// spread over the least-loaded members instead of piling onto one.</item>
/// </list>
/// Hysteresis: the split threshold is above the merge threshold (the options validator insists), and a shard's load
/// is the whole shard's whether or not it is split, so splitting a shard does not by itself bring it under the merge
/// threshold, nor does merging it bring it over the split threshold: a shard changes state again only after its own
/// load has crossed the whole band. Loads in the band change nothing. A split is one level deep: the child half of a
/// shard is not split again (a single very hot user cannot be divided by any hash scheme anyway).
/// </remarks>
public sealed class HotShardPolicy
{
    /// <summary>Creates the policy.</summary>
    /// <param name="options">The thresholds, or null for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the message names it.</exception>
    public HotShardPolicy(HotShardOptions? options = null)
    {
        Options = options ?? new HotShardOptions();
        HotShardOptionsValidator.Validate(Options);
    }

    /// <summary>The thresholds in use.</summary>
    public HotShardOptions Options { get; }

    /// <summary>Decides the next splits and merges of <paramref name="map"/>.</summary>
    /// <param name="map">The current map.</param>
    /// <param name="shardLoads">Operations per second per shard over the whole cluster, indexed by shard, one per shard
    /// of <paramref name="map"/>; for a split shard, the load of both halves together.</param>
    /// <returns>The next map (epoch + 1) and the changes, or no map and no changes when nothing changes.</returns>
    /// <exception cref="ArgumentException">The loads are not one per shard, or a load is negative or not finite.</exception>
    public HotShardDecision Decide(ShardMap map, ReadOnlySpan<double> shardLoads)
    {
        ArgumentNullException.ThrowIfNull(map);
        double total = SumLoads(map, shardLoads);
        int memberCount = map.Members.Count;
        double fairShare = total / memberCount;
        double splitThreshold = Options.SplitFraction * fairShare;
        double mergeThreshold = Options.MergeFraction * fairShare;
        if (total < Options.MinTotalOpsPerSecond)
        {
            return new HotShardDecision(null, [], total, splitThreshold, mergeThreshold);
        }

        // Steps 2 to 4.
        ReadOnlySpan<int> children = map.ChildOwnerIndexes;
        var splitCandidates = new List<int>();
        var mergeCandidates = new List<int>();
        for (int shard = 0; shard < shardLoads.Length; shard++)
        {
            if (children[shard] < 0 && shardLoads[shard] > splitThreshold && memberCount > 1)
            {
                splitCandidates.Add(shard);
            }
            else if (children[shard] >= 0 && shardLoads[shard] < mergeThreshold)
            {
                mergeCandidates.Add(shard);
            }
        }

        if (splitCandidates.Count == 0 && mergeCandidates.Count == 0)
        {
            return new HotShardDecision(null, [], total, splitThreshold, mergeThreshold);
        }

        double[] loads = shardLoads.ToArray();
        List<int> splits = [.. splitCandidates.OrderByDescending(s => loads[s]).ThenBy(s => s).Take(Options.MaxChangesPerRound)];
        List<int> merges = [.. mergeCandidates.OrderBy(s => loads[s]).ThenBy(s => s).Take(Options.MaxChangesPerRound - splits.Count)];

        // Step 5.
        double[] memberLoads = MemberLoads(map, loads);
        int[] nextChildren = children.ToArray();
        var changes = new List<HotShardChange>(splits.Count + merges.Count);
        var mergeChanges = new List<HotShardChange>(merges.Count);
        foreach (int shard in merges)
        {
            int owner = map.OwnerIndexes[shard];
            int child = nextChildren[shard];
            memberLoads[child] -= loads[shard] / 2;
            memberLoads[owner] += loads[shard] / 2;
            nextChildren[shard] = -1;
            mergeChanges.Add(new HotShardChange(
                HotShardAction.Merge, shard, map.Members[owner], map.Members[child], loads[shard], mergeThreshold));
        }

        foreach (int shard in splits)
        {
            int owner = map.OwnerIndexes[shard];
            int child = LeastLoadedExcept(memberLoads, owner);
            memberLoads[owner] -= loads[shard] / 2;
            memberLoads[child] += loads[shard] / 2;
            nextChildren[shard] = child;
            changes.Add(new HotShardChange(
                HotShardAction.Split, shard, map.Members[owner], map.Members[child], loads[shard], splitThreshold));
        }

        changes.AddRange(mergeChanges);
        return new HotShardDecision(map.WithChildIndexes(nextChildren), changes, total, splitThreshold, mergeThreshold);
    }

    private static double SumLoads(ShardMap map, ReadOnlySpan<double> shardLoads)
    {
        if (shardLoads.Length != map.ShardCount)
        {
            throw new ArgumentException(
                $"Expected one load per shard ({map.ShardCount}), got {shardLoads.Length}.", nameof(shardLoads));
        }

        // In shard order, so every process adds the same numbers in the same order and gets the same total.
        double total = 0;
        for (int shard = 0; shard < shardLoads.Length; shard++)
        {
            double load = shardLoads[shard];
            if (!double.IsFinite(load) || load < 0)
            {
                throw new ArgumentException(
                    $"The load of shard {shard} must be a finite number of at least 0; got {load}.", nameof(shardLoads));
            }

            total += load;
        }

        return total;
    }

    private static double[] MemberLoads(ShardMap map, double[] shardLoads)
    {
        var memberLoads = new double[map.Members.Count];
        ReadOnlySpan<int> owners = map.OwnerIndexes;
        ReadOnlySpan<int> children = map.ChildOwnerIndexes;
        for (int shard = 0; shard < shardLoads.Length; shard++)
        {
            if (children[shard] < 0)
            {
                memberLoads[owners[shard]] += shardLoads[shard];
            }
            else
            {
                memberLoads[owners[shard]] += shardLoads[shard] / 2;
                memberLoads[children[shard]] += shardLoads[shard] / 2;
            }
        }

        return memberLoads;
    }

    private static int LeastLoadedExcept(double[] memberLoads, int excluded)
    {
        int best = -1;
        for (int member = 0; member < memberLoads.Length; member++)
        {
            // Strictly less: on equal loads the lower member index (ordinal name order) wins everywhere.
            if (member != excluded && (best < 0 || memberLoads[member] < memberLoads[best]))
            {
                best = member;
            }
        }

        return best;
    }
}
