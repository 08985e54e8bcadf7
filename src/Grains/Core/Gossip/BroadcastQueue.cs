namespace Orleans.Patterns.Gossip;

/// <summary>
/// Updates waiting to be piggy-backed, least-sent first (SWIM §4.1; memberlist's <c>TransmitLimitedQueue</c>). An
/// update about a member replaces any older one about the same member; each is sent at most the retransmit limit
/// times, which grows with log N so that, with high probability, every member hears it. Buckets by send count make
/// taking the next batch O(batch) with no sorting.
/// </summary>
internal sealed class BroadcastQueue
{
    private readonly Dictionary<int, Item> _bySlot = [];
    private readonly List<List<Item>> _buckets = [];
    private readonly List<Item> _taken = [];
    private int _garbage;

    public int Count => _bySlot.Count;

    /// <summary>Items held in the buckets, replaced ones not yet swept included.</summary>
    internal int Held => _buckets.Sum(b => b.Count);

    public void Enqueue(int slot, MemberUpdate update)
    {
        if (_bySlot.TryGetValue(slot, out var old))
        {
            old.Invalidated = true;
            _garbage++;

            // Replaced items are skipped lazily when reached; under a stream of updates about the same members the
            // older ones may never be reached (newest go first), so sweep once they outnumber the live ones.
            if (_garbage > 64 && _garbage > _bySlot.Count)
            {
                foreach (var bucket in _buckets)
                {
                    bucket.RemoveAll(static i => i.Invalidated);
                }

                _garbage = 0;
            }
        }

        var item = new Item(slot, update);
        _bySlot[slot] = item;
        Bucket(0).Add(item);
    }

    /// <summary>Whether some live update has been sent fewer than <paramref name="transmits"/> times.</summary>
    public bool AnyBelow(int transmits)
    {
        for (var b = 0; b < transmits && b < _buckets.Count; b++)
        {
            foreach (var item in _buckets[b])
            {
                if (!item.Invalidated)
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Up to <paramref name="max"/> updates, fewest sends first and newest first among equals; each counts as sent once.</summary>
    public MemberUpdate[] Take(int max, int limit)
    {
        if (_bySlot.Count == 0)
        {
            return [];
        }

        _taken.Clear();
        for (var b = 0; b < _buckets.Count && _taken.Count < max; b++)
        {
            var bucket = _buckets[b];
            while (bucket.Count > 0 && _taken.Count < max)
            {
                var item = bucket[^1];
                bucket.RemoveAt(bucket.Count - 1);
                if (item.Invalidated)
                {
                    _garbage--;
                }
                else
                {
                    _taken.Add(item);
                }
            }
        }

        var updates = new MemberUpdate[_taken.Count];
        for (var i = 0; i < _taken.Count; i++)
        {
            var item = _taken[i];
            updates[i] = item.Update;
            item.Transmits++;
            if (item.Transmits >= limit)
            {
                _bySlot.Remove(item.Slot);
            }
            else
            {
                Bucket(item.Transmits).Add(item);
            }
        }

        return updates;
    }

    private List<Item> Bucket(int transmits)
    {
        while (_buckets.Count <= transmits)
        {
            _buckets.Add([]);
        }

        return _buckets[transmits];
    }

    private sealed class Item(int slot, MemberUpdate update)
    {
        public int Slot { get; } = slot;

        public MemberUpdate Update { get; } = update;

        public int Transmits { get; set; }

        public bool Invalidated { get; set; }
    }
}
