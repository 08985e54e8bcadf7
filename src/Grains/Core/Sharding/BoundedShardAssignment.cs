namespace Orleans.Patterns.Sharding;

/// <summary>
/// Consistent hashing with bounded loads (Mirrokni, Thorup and Zadimoghaddam, "Consistent Hashing with Bounded
/// Loads", 2017) applied to shards, made sticky: starting from the previous map, only the shards that must move do.
/// </summary>
/// <remarks>
/// Recomputing a bounded assignment from scratch after a join moves far more than the 1/(N+1) optimum, because the
/// cap shrinks and every overflow decision can cascade differently: 1.9x to 2.0x at 4096 shards and 100 -> 101 members
/// (1.08x and 1.04x with the steps below). Instead, in four numbered steps:
/// <list type="number">
/// <item>Keep every shard whose previous owner is still a member.</item>
/// <item>Members above the new cap shed their excess, guests (shards that would prefer another member) first.</item>
/// <item>Unowned shards (the leavers' and the shed ones) go to their highest-ranked newcomer with room, else to
/// their highest-ranked member with room; "room" here is below the fill level (<see cref="ShardLoadCap.FillFor"/>),
/// one join's worth under the cap, so the next join finds no member above its lower cap.</item>
/// <item>Each newcomer still below the fair share takes the shards it ranks first for, until it reaches it.</item>
/// </list>
/// Step 3 is what keeps a join close to the optimum: the shards that have to leave a full member anyway fill the
/// newcomer, so together with step 4 a join moves at most max(fair share, excess over the new cap) shards, all to the
/// newcomer unless the excess is more than it may hold. That is the least any allocation can move that respects the
/// cap and gives the newcomer its fair share; it exceeds S/(N+1) only when many members sit at a cap that the join
/// lowers. A leave moves exactly the leaver's shards. Without a previous map, step 3 alone places every shard, in
/// shard order, as in the paper.
/// </remarks>
internal static class BoundedShardAssignment
{
    private const int Unowned = -1;

    public static int[] Assign(
        ShardPreference preference, string[] members, int shardCount, ShardLoadCap loadCap, ShardMap? previous)
    {
        int memberCount = members.Length;
        int cap = loadCap.For(shardCount, memberCount);
        int fill = loadCap.FillFor(shardCount, memberCount);
        int fairShare = (shardCount + memberCount - 1) / memberCount;
        var preferred = new int[shardCount];
        for (int shard = 0; shard < shardCount; shard++)
        {
            preferred[shard] = preference.Preferred(shard);
        }

        var owners = new int[shardCount];
        var loads = new int[memberCount];
        var isNewcomer = new bool[memberCount];
        KeepPreviousOwners(members, previous, owners, loads, isNewcomer);
        ShedAboveCap(preferred, owners, loads, cap);
        PlaceUnowned(preference, owners, loads, isNewcomer, fill);
        NewcomersClaimPreferred(preferred, owners, loads, isNewcomer, fairShare);
        return owners;
    }

    // Step 1.
    private static void KeepPreviousOwners(
        string[] members, ShardMap? previous, int[] owners, int[] loads, bool[] isNewcomer)
    {
        Array.Fill(owners, Unowned);
        if (previous is null)
        {
            // The first epoch has no newcomers: every member is placed by rank alone.
            return;
        }

        var renumbered = new int[previous.Members.Count];
        for (int old = 0; old < renumbered.Length; old++)
        {
            renumbered[old] = Array.BinarySearch(members, previous.Members[old], StringComparer.Ordinal);
        }

        for (int member = 0; member < members.Length; member++)
        {
            isNewcomer[member] = !previous.Contains(members[member]);
        }

        ReadOnlySpan<int> before = previous.OwnerIndexes;
        for (int shard = 0; shard < owners.Length; shard++)
        {
            int owner = renumbered[before[shard]];
            if (owner >= 0)
            {
                owners[shard] = owner;
                loads[owner]++;
            }
        }
    }

    // Step 2. Guests go first because they are already away from their first choice; highest shards first is an
    // arbitrary but fixed order, which is all determinism needs.
    private static void ShedAboveCap(int[] preferred, int[] owners, int[] loads, int cap)
    {
        for (int pass = 0; pass < 2; pass++)
        {
            bool guestsOnly = pass == 0;
            for (int shard = owners.Length - 1; shard >= 0; shard--)
            {
                int owner = owners[shard];
                if (owner != Unowned && loads[owner] > cap && (!guestsOnly || preferred[shard] != owner))
                {
                    owners[shard] = Unowned;
                    loads[owner]--;
                }
            }
        }
    }

    // Step 3.
    private static void PlaceUnowned(ShardPreference preference, int[] owners, int[] loads, bool[] isNewcomer, int cap)
    {
        // 1 = may not take another shard; the ring's bounded walk reads these as loads against a capacity of 1.
        var full = new int[loads.Length];
        var newcomerFull = new int[loads.Length];
        int newcomersWithRoom = 0;
        for (int member = 0; member < loads.Length; member++)
        {
            full[member] = loads[member] >= cap ? 1 : 0;
            bool newcomerWithRoom = isNewcomer[member] && loads[member] < cap;
            newcomerFull[member] = newcomerWithRoom ? 0 : 1;
            newcomersWithRoom += newcomerWithRoom ? 1 : 0;
        }

        for (int shard = 0; shard < owners.Length; shard++)
        {
            if (owners[shard] != Unowned)
            {
                continue;
            }

            int owner = newcomersWithRoom > 0 ? preference.FirstAllowed(shard, newcomerFull) : preference.FirstAllowed(shard, full);

            // The members' combined room is at least the shard count (see ShardLoadCap.For), so someone has room.
            owners[shard] = owner;
            loads[owner]++;
            if (loads[owner] >= cap)
            {
                full[owner] = 1;
            }

            if (isNewcomer[owner] && loads[owner] >= cap && newcomerFull[owner] == 0)
            {
                newcomerFull[owner] = 1;
                newcomersWithRoom--;
            }
        }
    }

    // Step 4.
    private static void NewcomersClaimPreferred(
        int[] preferred, int[] owners, int[] loads, bool[] isNewcomer, int fairShare)
    {
        for (int shard = 0; shard < owners.Length; shard++)
        {
            int claimant = preferred[shard];
            int owner = owners[shard];
            if (isNewcomer[claimant] && owner != claimant && loads[claimant] < fairShare)
            {
                loads[owner]--;
                owners[shard] = claimant;
                loads[claimant]++;
            }
        }
    }
}
