namespace Orleans.Patterns.Gossip;

/// <summary>
/// Numbers member names densely, in the order first heard of, and remembers the metadata each member announced at
/// each incarnation. A <see cref="SwimNode"/> keeps its view as arrays indexed by these numbers (5 bytes per member),
/// which is what lets a simulator hold 10,000 views of 10,000 members.
/// </summary>
/// <remarks>
/// Each node normally owns one. A simulator may give all its nodes the same one: it only records facts that are the
/// same wherever they are learnt (a name's number is a local handle; the metadata at an incarnation is whatever the
/// member announced with it, since only the member changes its own metadata and always with a new incarnation).
/// Not thread-safe.
/// </remarks>
public sealed class MemberDirectory
{
    private readonly Dictionary<string, int> _slots = new(StringComparer.Ordinal);
    private readonly List<Member> _latest = [];
    private readonly List<List<(int Incarnation, Member Member)>?> _history = [];
    private readonly List<int> _latestIncarnation = [];

    public int Count => _latest.Count;

    internal int SlotOf(Member member, int incarnation)
    {
        // Updates are re-sent as the same objects, so most lookups hit the member's cached slot and skip hashing the name.
        if (ReferenceEquals(member.CachedDirectory, this))
        {
            return member.CachedSlot;
        }

        if (!_slots.TryGetValue(member.Name, out var slot))
        {
            slot = _latest.Count;
            _slots.Add(member.Name, slot);
            _latest.Add(member);
            _latestIncarnation.Add(incarnation);
            _history.Add(null);
        }

        member.CachedDirectory = this;
        member.CachedSlot = slot;
        return slot;
    }

    internal bool TryGetSlot(string name, out int slot) => _slots.TryGetValue(name, out slot);

    internal string NameOf(int slot) => _latest[slot].Name;

    /// <summary>Records that <paramref name="member"/> announced itself with these metadata at <paramref name="incarnation"/>.</summary>
    internal void Record(int slot, int incarnation, Member member)
    {
        var latest = _latest[slot];
        var latestIncarnation = _latestIncarnation[slot];
        if (incarnation >= latestIncarnation)
        {
            if (!ReferenceEquals(latest, member) && !latest.Equals(member))
            {
                if (incarnation > latestIncarnation)
                {
                    (_history[slot] ??= []).Add((latestIncarnation, latest));
                }

                _latest[slot] = member;
            }

            _latestIncarnation[slot] = incarnation;
            return;
        }

        // An older announcement arriving late: keep it only if it says something the history does not.
        if (!latest.Equals(member) && MemberAt(slot, incarnation) is var known && !known.Equals(member))
        {
            var history = _history[slot] ??= [];
            var at = history.FindIndex(h => h.Incarnation > incarnation);
            history.Insert(at < 0 ? history.Count : at, (incarnation, member));
        }
    }

    /// <summary>The metadata in force at <paramref name="incarnation"/>: the last announced at or before it.</summary>
    internal Member MemberAt(int slot, int incarnation)
    {
        if (incarnation >= _latestIncarnation[slot] || _history[slot] is not { } history)
        {
            return _latest[slot];
        }

        for (var i = history.Count - 1; i >= 0; i--)
        {
            if (history[i].Incarnation <= incarnation)
            {
                return history[i].Member;
            }
        }

        return history.Count > 0 ? history[0].Member : _latest[slot];
    }
}
