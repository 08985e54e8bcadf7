using CsCheck;
using Orleans.Patterns.Gossip;

namespace Orleans.Patterns.Tests.Gossip;

/// <summary>
/// The laws that make push-pull anti-entropy converge whatever the order of exchanges: merge is commutative,
/// associative and idempotent. On failure CsCheck shrinks the input and prints its seed; replay it with
/// <c>seed: "..."</c> on the failing <c>Sample</c> call or the <c>CsCheck_Seed</c> environment variable.
/// </summary>
[Trait("Category", "Unit")]
public sealed class MembershipViewPropertyTests
{
    // Few names, incarnations, addresses and tags, so views overlap and tie often: the cases where a merge could
    // depend on which side is the receiver.
    private static readonly Gen<MemberEntry> Entry =
        Gen.Select(Gen.Int[0, 5], Gen.Int[0, 3], Gen.Enum<MemberState>(), Gen.Int[0, 1], Gen.Int[0, 2], Gen.Int[0, 2])
            .Select((name, incarnation, state, address, tag, changed) => new MemberEntry(
                new Member($"m{name}", $"10.0.0.{address}", tag == 0 ? null : [new("zone", $"z{tag}")]),
                new MemberStatus(incarnation, state),
                TimeSpan.FromSeconds(changed)));

    private static readonly Gen<MembershipView> View = Entry.List[0, 8].Select(MembershipView.Of);

    [Fact]
    public void Merge_is_commutative() =>
        Gen.Select(View, View).Sample((a, b) => a.Merge(b).SameAs(b.Merge(a)), iter: 2000);

    [Fact]
    public void Merge_is_associative() =>
        Gen.Select(View, View, View).Sample((a, b, c) => a.Merge(b).Merge(c).SameAs(a.Merge(b.Merge(c))), iter: 2000);

    [Fact]
    public void Merge_is_idempotent() =>
        Gen.Select(View, View).Sample((a, b) => a.Merge(a).SameAs(a) && a.Merge(b).Merge(b).SameAs(a.Merge(b)), iter: 2000);

    [Fact]
    public void Merge_keeps_for_each_member_the_entry_of_highest_precedence() =>
        Gen.Select(View, View).Sample((a, b) =>
        {
            var merged = a.Merge(b);
            foreach (var name in a.Entries.Keys.Union(b.Entries.Keys))
            {
                var candidates = new[] { a[name], b[name] }.OfType<MemberEntry>().ToList();
                var best = candidates.Max(e => e.Status);
                if (merged[name]!.Status != best)
                {
                    return false;
                }
            }

            return merged.Count == a.Entries.Keys.Union(b.Entries.Keys).Count();
        }, iter: 1000);

    [Fact]
    public void Dead_overrides_alive_and_suspect_at_its_incarnation_but_a_new_life_overrides_dead()
    {
        var member = new Member("m", "a");
        var view = MembershipView.Of([new MemberEntry(member, new(2, MemberState.Alive), TimeSpan.Zero)]);
        var dead = view.With(new MemberEntry(member, new(2, MemberState.Dead), TimeSpan.FromSeconds(1)));
        Assert.Equal(MemberState.Dead, dead["m"]!.Status.State);
        Assert.Same(dead, dead.With(new MemberEntry(member, new(2, MemberState.Suspect), TimeSpan.FromSeconds(2))));
        var back = dead.With(new MemberEntry(member, new(3, MemberState.Alive), TimeSpan.FromSeconds(3)));
        Assert.Equal(new MemberStatus(3, MemberState.Alive), back["m"]!.Status);
    }
}
