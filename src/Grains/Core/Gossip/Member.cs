using System.Collections.Immutable;

namespace Orleans.Patterns.Gossip;

/// <summary>A member's liveness as the SWIM protocol knows it (Das et al. 2002, §4.2).</summary>
public enum MemberState : byte
{
    Alive = 0,
    Suspect = 1,
    Dead = 2,
}

/// <summary>
/// A member's incarnation and state, ordered by precedence: a higher incarnation wins, and within one incarnation
/// Dead beats Suspect beats Alive. That is SWIM §4.2's rules ("Alive(i) overrides Suspect(j) and Alive(j) for i &gt; j;
/// Suspect(i) overrides Alive(j) for i ≥ j and Suspect(j) for i &gt; j") with memberlist's refinement that a Dead
/// message only overrides the incarnations it names, so a restarted member can come back with a higher one. Being a
/// total order, "keep the greater" is a merge that is commutative, associative and idempotent.
/// </summary>
public readonly record struct MemberStatus(int Incarnation, MemberState State) : IComparable<MemberStatus>
{
    public int CompareTo(MemberStatus other) =>
        Incarnation != other.Incarnation ? Incarnation.CompareTo(other.Incarnation) : State.CompareTo(other.State);

    /// <summary>True when this status overrides <paramref name="other"/>.</summary>
    public bool Supersedes(MemberStatus other) => CompareTo(other) > 0;

    public override string ToString() => $"{State}({Incarnation})";
}

/// <summary>
/// Who a member is: its stable name, its address and free-form tags (roles, zone, version…), so the membership view
/// doubles as a service directory. Only the member itself changes its metadata, by raising its incarnation.
/// </summary>
public sealed class Member : IEquatable<Member>, IComparable<Member>
{
    public Member(string name, string address, IEnumerable<KeyValuePair<string, string>>? tags = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(address);
        Name = name;
        Address = address;
        Tags = tags is null ? ImmutableSortedDictionary<string, string>.Empty : ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, tags);
    }

    public string Name { get; }

    public string Address { get; }

    public ImmutableSortedDictionary<string, string> Tags { get; }

    /// <summary>The last directory that numbered this object, and the number: a lookup cache, not part of the value.</summary>
    internal MemberDirectory? CachedDirectory { get; set; }

    internal int CachedSlot { get; set; }

    public Member WithTags(IEnumerable<KeyValuePair<string, string>> tags) => new(Name, Address, tags);

    public Member WithAddress(string address) => new(Name, address, Tags);

    /// <summary>
    /// A total order on metadata (name, address, then tags), used only to break ties between two entries that claim
    /// the same incarnation and state with different metadata, so every replica keeps the same one.
    /// </summary>
    public int CompareTo(Member? other)
    {
        if (other is null)
        {
            return 1;
        }

        var order = string.CompareOrdinal(Name, other.Name);
        if (order == 0)
        {
            order = string.CompareOrdinal(Address, other.Address);
        }

        using var mine = Tags.GetEnumerator();
        using var theirs = other.Tags.GetEnumerator();
        while (order == 0)
        {
            var more = mine.MoveNext();
            var theirMore = theirs.MoveNext();
            if (!more || !theirMore)
            {
                return more.CompareTo(theirMore);
            }

            order = string.CompareOrdinal(mine.Current.Key, theirs.Current.Key);
            if (order == 0)
            {
                order = string.CompareOrdinal(mine.Current.Value, theirs.Current.Value);
            }
        }

        return order;
    }

    public bool Equals(Member? other) => other is not null && (ReferenceEquals(this, other) || CompareTo(other) == 0);

    public override bool Equals(object? obj) => Equals(obj as Member);

    public override int GetHashCode() => HashCode.Combine(Name, Address, Tags.Count);

    public override string ToString() => Tags.IsEmpty ? $"{Name}@{Address}" : $"{Name}@{Address} [{string.Join(", ", Tags.Select(t => $"{t.Key}={t.Value}"))}]";
}

/// <summary>
/// One piggy-backed membership update, SWIM's "Alive", "Suspect" and "Confirm" messages (§4.2–4.3).
/// <paramref name="From"/> names the member that raised a suspicion, so Lifeguard can count independent
/// confirmations (Dadgar et al. 2018, §IV-B); it is null for Alive and Dead.
/// </summary>
public sealed record MemberUpdate(Member Member, int Incarnation, MemberState State, string? From = null)
{
    public MemberStatus Status => new(Incarnation, State);
}
