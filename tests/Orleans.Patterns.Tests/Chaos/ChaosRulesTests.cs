using System.Collections.Immutable;
using Orleans.Patterns.Chaos;

namespace Orleans.Patterns.Tests.Chaos;

[Trait("Category", "Unit")]
public sealed class ChaosRulesTests
{
    private const string Echo = "Orleans.Patterns.Tests.Chaos.IChaosEchoGrain";
    private const string Raft = "Orleans.Patterns.Raft.IRaftReplicaGrain";
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);

    private static ChaosRules Compile(params ChaosRule[] rules) => ChaosRules.Compile(new ChaosRuleSet(1, [.. rules]), MaxDelay);

    private static PartitionRule Partition(params string[][] sides) =>
        new("split", [], [.. sides.Select(s => s.ToImmutableArray())]);

    [Fact]
    public void Partition_drops_calls_across_sides_in_both_directions_and_only_those()
    {
        var rules = Compile(Partition(["a"], ["b", "c"]));
        var random = new Random(1);

        Assert.Equal("split", rules.Decide(new ChaosCall("a", "b", Echo), random).DroppedBy);
        Assert.Equal("split", rules.Decide(new ChaosCall("b", "a", Echo), random).DroppedBy);
        Assert.Equal("split", rules.Decide(new ChaosCall("c", "a", Echo), random).DroppedBy);
        Assert.True(rules.Decide(new ChaosCall("b", "c", Echo), random).IsNone);
        Assert.True(rules.Decide(new ChaosCall("c", "b", Echo), random).IsNone);
        // A silo on no side is not partitioned from anyone.
        Assert.True(rules.Decide(new ChaosCall("a", "d", Echo), random).IsNone);
        Assert.True(rules.Decide(new ChaosCall("d", "b", Echo), random).IsNone);
    }

    [Fact]
    public void Calls_within_one_silo_are_never_faulted()
    {
        var rules = Compile(new DropRule("all", [], ChaosLinks.Any, 1.0));
        Assert.True(rules.Decide(new ChaosCall("a", "a", Echo), new Random(1)).IsNone);
        Assert.Equal("all", rules.Decide(new ChaosCall("a", "b", Echo), new Random(1)).DroppedBy);
    }

    [Fact]
    public void Drop_rate_with_a_fixed_seed_stays_within_bounds_and_replays()
    {
        const int Calls = 10_000;
        const int Seed = 12345;
        var rules = Compile(new DropRule("lossy", [], ChaosLinks.Any, 0.2));

        int CountDrops()
        {
            var random = new Random(Seed);
            return Enumerable.Range(0, Calls).Count(_ => rules.Decide(new ChaosCall("a", "b", Echo), random).DroppedBy is not null);
        }

        var drops = CountDrops();
        // 0.2 * 10000 = 2000 expected, standard deviation 40: 5 sigma either side.
        Assert.InRange(drops, 1800, 2200);
        Assert.Equal(drops, CountDrops());
    }

    [Fact]
    public void Rules_scoped_to_interfaces_match_by_simple_or_full_name_only()
    {
        var rules = Compile(
            new DropRule("raft-only", ["IRaftReplicaGrain"], ChaosLinks.Any, 1.0),
            new DelayRule("echo-slow", [Echo], ChaosLinks.Any, TimeSpan.FromMilliseconds(10), TimeSpan.Zero));
        var random = new Random(1);

        Assert.Equal("raft-only", rules.Decide(new ChaosCall("a", "b", Raft), random).DroppedBy);
        var echo = rules.Decide(new ChaosCall("a", "b", Echo), random);
        Assert.Null(echo.DroppedBy);
        Assert.Equal(TimeSpan.FromMilliseconds(10), echo.Delay);
        Assert.True(rules.Decide(new ChaosCall("a", "b", "Orleans.Patterns.Raft.INotRaftReplicaGrain"), random).IsNone);
    }

    [Fact]
    public void Links_restrict_a_rule_to_directed_silo_pairs()
    {
        var rules = Compile(new DropRule("a-to-b", [], new ChaosLinks(["a"], ["b"]), 1.0));
        var random = new Random(1);

        Assert.Equal("a-to-b", rules.Decide(new ChaosCall("a", "b", Echo), random).DroppedBy);
        Assert.True(rules.Decide(new ChaosCall("b", "a", Echo), random).IsNone);
        Assert.True(rules.Decide(new ChaosCall("a", "c", Echo), random).IsNone);
    }

    [Fact]
    public void Delays_add_up_with_jitter_within_its_bound_and_duplicates_are_flagged()
    {
        var rules = Compile(
            new DelayRule("base", [], ChaosLinks.Any, TimeSpan.FromMilliseconds(50), TimeSpan.Zero),
            new DelayRule("jitter", [], ChaosLinks.Any, TimeSpan.Zero, TimeSpan.FromMilliseconds(20)),
            new DuplicateRule("twice", [], ChaosLinks.Any, 1.0));
        var random = new Random(7);

        for (var i = 0; i < 100; i++)
        {
            var decision = rules.Decide(new ChaosCall("a", "b", Echo), random);
            Assert.InRange(decision.Delay, TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(70));
            Assert.Equal("twice", decision.DuplicatedBy);
            Assert.Null(decision.DroppedBy);
        }
    }

    [Fact]
    public void The_first_dropping_rule_wins_over_later_rules()
    {
        var rules = Compile(
            Partition(["a"], ["b"]),
            new DropRule("lossy", [], ChaosLinks.Any, 1.0));
        Assert.Equal("split", rules.Decide(new ChaosCall("a", "b", Echo), new Random(1)).DroppedBy);
        Assert.Equal("lossy", rules.Decide(new ChaosCall("a", "c", Echo), new Random(1)).DroppedBy);
    }

    [Theory]
    [InlineData("probability")]
    [InlineData("sides")]
    [InlineData("fixed/jitter")]
    [InlineData("name is used twice")]
    public void Invalid_rules_are_refused_with_the_rule_and_field_named(string field)
    {
        ChaosRule[] rules = field switch
        {
            "probability" => [new DropRule("bad", [], ChaosLinks.Any, 1.5)],
            "sides" => [Partition(["a", "b"], ["b"]) with { Name = "bad" }],
            "fixed/jitter" => [new DelayRule("bad", [], ChaosLinks.Any, TimeSpan.FromMinutes(1), TimeSpan.Zero)],
            _ => [new DropRule("bad", [], ChaosLinks.Any, 0.1), new DuplicateRule("bad", [], ChaosLinks.Any, 0.1)],
        };

        var error = Assert.Throws<ArgumentException>(() => Compile(rules));
        Assert.Contains("chaos rule 'bad'", error.Message, StringComparison.Ordinal);
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
    }
}
