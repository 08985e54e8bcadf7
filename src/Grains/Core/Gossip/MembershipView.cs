using System.Collections.Immutable;

namespace Orleans.Patterns.Gossip;

/// <summary>One row of a <see cref="MembershipView"/>: who, what state at which incarnation, and when this view last saw it change.</summary>
public sealed record MemberEntry(Member Member, MemberStatus Status, TimeSpan LastChange)
{
    /// <summary>
    /// The precedence of <see cref="MemberStatus"/>, then metadata, then the earlier change time, so that two entries
    /// compare equal only when they are equal and the greater of two is the same whichever view holds it.
    /// </summary>
    internal static int Compare(MemberEntry a, MemberEntry b)
    {
        var order = a.Status.CompareTo(b.Status);
        if (order == 0)
        {
            order = a.Member.CompareTo(b.Member);
        }

        return order != 0 ? order : b.LastChange.CompareTo(a.LastChange);
    }
}

/// <summary>
/// An immutable membership view: what one member believes about every member it has heard of. Views are published
/// by swapping a reference and combined with <see cref="Merge"/>, the full-state exchange of push-pull anti-entropy
/// (memberlist's <c>pushPull</c>; SWIM itself only piggy-backs deltas).
/// </summary>
public sealed class MembershipView
{
    private MembershipView(ImmutableSortedDictionary<string, MemberEntry> entries) => Entries = entries;

    public static MembershipView Empty { get; } = new(ImmutableSortedDictionary.Create<string, MemberEntry>(StringComparer.Ordinal));

    public ImmutableSortedDictionary<string, MemberEntry> Entries { get; }

    public int Count => Entries.Count;

    public MemberEntry? this[string name] => Entries.GetValueOrDefault(name);

    /// <summary>The members believed alive or suspect, that is, not dead.</summary>
    public IEnumerable<MemberEntry> Live => Entries.Values.Where(e => e.Status.State != MemberState.Dead);

    public static MembershipView Of(IEnumerable<MemberEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var view = Empty;
        foreach (var entry in entries)
        {
            view = view.With(entry);
        }

        return view;
    }

    /// <summary>This view with <paramref name="entry"/> applied: it replaces the current row only if it takes precedence.</summary>
    public MembershipView With(MemberEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var name = entry.Member.Name;
        return Entries.TryGetValue(name, out var current) && MemberEntry.Compare(entry, current) <= 0
            ? this
            : new MembershipView(Entries.SetItem(name, entry));
    }

    /// <summary>
    /// The view that knows everything either view knows. Steps:
    /// 1. every member named in only one view is taken as it is;
    /// 2. for a member named in both, the entry with the greater <see cref="MemberStatus"/> wins (SWIM §4.2 precedence);
    /// 3. ties in status fall to the greater metadata, then to the earlier change, so the result does not depend on
    ///    which view is the receiver.
    /// Per member this is the maximum under a total order, so the merge is commutative, associative and idempotent.
    /// </summary>
    public MembershipView Merge(MembershipView other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (ReferenceEquals(this, other) || other.Count == 0)
        {
            return this;
        }

        var builder = Entries.ToBuilder();
        foreach (var (name, theirs) in other.Entries)
        {
            if (!builder.TryGetValue(name, out var mine) || MemberEntry.Compare(theirs, mine) > 0)
            {
                builder[name] = theirs;
            }
        }

        return new MembershipView(builder.ToImmutable());
    }

    public bool SameAs(MembershipView other) =>
        Count == other.Count && Entries.All(e => other.Entries.TryGetValue(e.Key, out var o) && MemberEntry.Compare(e.Value, o) == 0);
}
