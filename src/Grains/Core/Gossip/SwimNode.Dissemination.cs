namespace Orleans.Patterns.Gossip;

/// <summary>Dissemination: SWIM §4.1 (piggy-backing, retransmit limit), memberlist's gossip rounds and push-pull anti-entropy.</summary>
public sealed partial class SwimNode
{
    /// <summary>λ·⌈log10(N + 1)⌉ sends per update per member (SWIM §4.1; memberlist's <c>retransmitLimit</c>).</summary>
    internal int RetransmitLimit => _options.RetransmitMultiplier * (int)Math.Ceiling(Math.Log10(LiveMembers + 1));

    /// <summary>
    /// memberlist's <c>pushPullScale</c>: beyond 32 members the interval is multiplied by ⌈log2 N - log2 32⌉ + 1, so
    /// full-state syncs, which cost O(N) each, do not grow to O(N²) per interval across the cluster.
    /// </summary>
    private TimeSpan PushPullInterval
    {
        get
        {
            var n = LiveMembers;
            return n <= 32 ? _options.PushPullInterval : _options.PushPullInterval * (Math.Ceiling(Math.Log2(n) - Math.Log2(32)) + 1);
        }
    }

    /// <summary>
    /// How many of an update's sends may go in gossip messages of their own; the rest of its <see cref="RetransmitLimit"/>
    /// rides on pings, acks and ping-reqs, which are sent anyway. A constant, so the gossip messages a member sends per
    /// update, and per period, do not grow with N.
    /// </summary>
    private int GossipTransmitLimit => Math.Min(RetransmitLimit, _options.GossipTransmits);

    private void Broadcast(int slot, MemberUpdate update) => _broadcasts.Enqueue(slot, update);

    private IReadOnlyList<MemberUpdate> Piggyback() =>
        _broadcasts.Count == 0 ? [] : _broadcasts.Take(_options.MaxUpdatesPerMessage, RetransmitLimit);

    private void GossipTick()
    {
        if (_now < _nextGossip)
        {
            return;
        }

        _nextGossip = _now + _options.GossipInterval;
        if (!_broadcasts.AnyBelow(GossipTransmitLimit))
        {
            // Nothing new enough to spend messages on: the rest of each update's retransmissions ride on probe traffic.
            return;
        }

        var count = PickRandomLive(Math.Min(_options.GossipFanout, _picked.Length), -1);
        for (var i = 0; i < count && _broadcasts.Count > 0; i++)
        {
            Send(new GossipPush(Name, _directory.NameOf(_picked[i])) { Updates = Piggyback() });
        }
    }

    private void PushPullTick()
    {
        if (_now < _nextPushPull)
        {
            return;
        }

        _nextPushPull = _now + PushPullInterval;
        if (PickRandomLive(1, -1) == 1)
        {
            Send(new PushPull(Name, _directory.NameOf(_picked[0]), FullState(), IsReply: false, Join: false));
        }
    }

    /// <summary>Merges a full state row by row with the same precedence as piggy-backed updates, and answers a request with ours.</summary>
    private void HandlePushPull(PushPull pushPull)
    {
        foreach (var record in pushPull.State)
        {
            Apply(record.Member, record.Status, pushPull.From, null, raisedHere: false);
        }

        if (!pushPull.IsReply)
        {
            Send(new PushPull(Name, pushPull.From, FullState(), IsReply: true, Join: false));
        }
    }

    private MemberRecord[] FullState()
    {
        var state = new MemberRecord[_probeCount + 1];
        state[0] = new MemberRecord(Self, new MemberStatus(_incarnation, MemberState.Alive));
        for (var i = 0; i < _probeCount; i++)
        {
            var slot = _probeOrder[i];
            var status = Status(slot);
            state[i + 1] = new MemberRecord(_directory.MemberAt(slot, status.Incarnation), status);
        }

        return state;
    }

    /// <summary>
    /// Fills <see cref="_picked"/> with up to <paramref name="count"/> distinct live members other than this one and
    /// <paramref name="exclude"/>, uniformly at random. Large views are sampled by rejection from the probe list
    /// (O(count) expected); small ones are scanned.
    /// </summary>
    private int PickRandomLive(int count, int exclude)
    {
        var candidates = _liveOthers - (exclude >= 0 && IsLive(exclude) ? 1 : 0);
        if (count <= 0 || candidates <= 0)
        {
            return 0;
        }

        var picked = 0;
        if (candidates <= count * 4)
        {
            var seen = 0;
            for (var i = 0; i < _probeCount; i++)
            {
                var slot = _probeOrder[i];
                if (slot != exclude && IsLive(slot))
                {
                    // Reservoir sampling keeps each of the candidates with equal probability.
                    seen++;
                    if (picked < count)
                    {
                        _picked[picked++] = slot;
                    }
                    else if (_random.Next(seen) is var j && j < count)
                    {
                        _picked[j] = slot;
                    }
                }
            }

            return picked;
        }

        for (var attempt = 0; attempt < count * 32 && picked < count; attempt++)
        {
            var slot = _probeOrder[_random.Next(_probeCount)];
            if (slot == exclude || !IsLive(slot) || _picked.AsSpan(0, picked).Contains(slot))
            {
                continue;
            }

            _picked[picked++] = slot;
        }

        return picked;
    }
}
