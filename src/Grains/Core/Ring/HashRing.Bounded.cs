namespace Orleans.Patterns.Ring;

public sealed partial class HashRing
{
    /// <summary>
    /// Consistent hashing with bounded loads (Mirrokni, Thorup and Zadimoghaddam, 2017): walks clockwise from the
    /// key's position and returns the first member whose load is below <paramref name="capacity"/>.
    /// </summary>
    /// <param name="key">The key to place.</param>
    /// <param name="loads">Current load of each member, index-aligned with <see cref="Members"/>.</param>
    /// <param name="capacity">The per-member limit, typically from <see cref="BoundedCapacity"/>.</param>
    /// <returns>The chosen member's index, or -1 if every member is at or above capacity.</returns>
    /// <exception cref="InvalidOperationException">The ring is empty.</exception>
    /// <exception cref="ArgumentException"><paramref name="loads"/> does not have one entry per member.</exception>
    public int GetOwnerIndexBounded(ReadOnlySpan<char> key, ReadOnlySpan<int> loads, int capacity)
    {
        if (IsEmpty)
        {
            ThrowEmpty();
        }

        if (loads.Length != _members.Length)
        {
            throw new ArgumentException(
                $"Expected one load per member ({_members.Length}); got {loads.Length}.", nameof(loads));
        }

        // Checking for a free member first bounds the walk below: without it a fully loaded ring would visit every
        // virtual node (members x vnodes) before giving up.
        bool anyFree = false;
        foreach (int load in loads)
        {
            if (load < capacity)
            {
                anyFree = true;
                break;
            }
        }

        if (!anyFree)
        {
            return -1;
        }

        int start = FindVirtualNode(HashKey(key));
        int[] owners = _owners;
        for (int slot = start; ; slot = slot + 1 == owners.Length ? 0 : slot + 1)
        {
            int owner = owners[slot];
            if (loads[owner] < capacity)
            {
                return owner;
            }
        }
    }

    /// <summary>
    /// The per-member capacity for bounded-load placement: <c>ceil(balanceFactor * (totalLoad + 1) / members)</c>,
    /// i.e. (1 + epsilon) times the average load after placing one more key, with epsilon = balanceFactor - 1.
    /// </summary>
    /// <param name="totalLoad">Keys already placed across all members.</param>
    /// <param name="members">Number of members.</param>
    /// <param name="balanceFactor">1 + epsilon; 1.25 is a common choice. Must be at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public static int BoundedCapacity(long totalLoad, int members, double balanceFactor)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(totalLoad);
        ArgumentOutOfRangeException.ThrowIfLessThan(members, 1);
        if (!(balanceFactor >= 1.0) || double.IsInfinity(balanceFactor))
        {
            throw new ArgumentOutOfRangeException(
                nameof(balanceFactor), balanceFactor, "The balance factor must be a finite number of at least 1.");
        }

        double capacity = Math.Ceiling(balanceFactor * (totalLoad + 1) / members);
        return capacity >= int.MaxValue ? int.MaxValue : (int)capacity;
    }

    /// <summary>
    /// The fraction of the 2^64 hash space each member owns, index-aligned with <see cref="Members"/>; the fractions
    /// sum to 1. Empty for an empty ring.
    /// </summary>
    public double[] KeySpaceShares()
    {
        var shares = new double[_members.Length];
        ulong[] positions = _positions;
        if (positions.Length == 0)
        {
            return shares;
        }

        const double Space = 18446744073709551616.0; // 2^64

        // A virtual node owns the arc (previous position, its position]. The first one's arc wraps past 2^64 - 1,
        // computed in double so a single virtual node (arc = the whole circle) does not wrap to 0.
        shares[_owners[0]] += ((double)(ulong.MaxValue - positions[^1]) + 1.0 + positions[0]) / Space;
        for (int i = 1; i < positions.Length; i++)
        {
            shares[_owners[i]] += (positions[i] - positions[i - 1]) / Space;
        }

        return shares;
    }
}
