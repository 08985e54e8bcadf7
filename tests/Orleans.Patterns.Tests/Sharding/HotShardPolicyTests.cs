using CsCheck;
using Orleans.Patterns.Sharding;

namespace Orleans.Patterns.Tests.Sharding;

/// <remarks>
/// On failure CsCheck shrinks the input and prints its seed; pass it to the failing <c>Sample</c> call
/// (<c>seed: "..."</c>) or set <c>CsCheck_Seed</c> to replay that case.
/// </remarks>
[Trait("Category", "Unit")]
public sealed class HotShardPolicyTests
{
    private static readonly HotShardPolicy Policy = new();

    // Zipf with exponent 1: shard k carries 1000 / (k + 1) ops/s.
    private static double[] Zipf(int shards) => [.. Enumerable.Range(0, shards).Select(k => 1000.0 / (k + 1))];

    [Fact]
    public void ZipfLoads_SplitTheShardsAboveAQuarterOfAFairShare_HottestFirst()
    {
        ShardMap map = new RendezvousShardAllocator(new ShardLoadCap()).Allocate(ShardAllocators.Silos(4), 64);
        double[] loads = Zipf(64);

        HotShardDecision decision = Policy.Decide(map, loads);

        // Total 1000 * H(64) = 4,743.9, fair share 1,186.0, split threshold 296.5: shards 0, 1 and 2 (333.3).
        Assert.Equal(4743.9, decision.TotalLoad, 1);
        Assert.Equal(296.5, decision.SplitThreshold, 1);
        Assert.Equal(118.6, decision.MergeThreshold, 1);
        Assert.Equal([0, 1, 2], decision.Changes.Select(c => c.Shard));
        Assert.All(decision.Changes, c => Assert.Equal(HotShardAction.Split, c.Action));
        Assert.All(decision.Changes, c => Assert.Equal(map.OwnerOfShard(c.Shard), c.Owner));
        Assert.All(decision.Changes, c => Assert.NotEqual(c.Owner, c.ChildOwner));
        Assert.NotNull(decision.NextMap);
        Assert.Equal(map.Epoch + 1, decision.NextMap.Epoch);
        Assert.Equal(decision.Changes.Select(c => new ShardSplit(c.Shard, c.ChildOwner)), decision.NextMap.Splits);
        Assert.Empty(decision.NextMap.MovesFrom(map));
    }

    [Fact]
    public void TheChildIsTheLeastLoadedOtherMember_AndOneRoundSpreadsItsSplits()
    {
        // a owns the hot shard and carries 110 ops/s, b 20, c 10: c takes the child half.
        var map = new ShardMap(1, ["a", "b", "c"], ["a", "b", "c", "a", "b", "c"]);
        HotShardDecision decision = Policy.Decide(map, [100, 10, 5, 10, 10, 5]);
        HotShardChange change = Assert.Single(decision.Changes);
        Assert.Equal(new HotShardChange(HotShardAction.Split, 0, "a", "c", 100, 140.0 / 3 * 0.25), change);
        Assert.Equal("split shard 0 of a to c: 100.0 ops/s above the split threshold 11.7", change.ToString());

        // Two equally hot shards on a and b: c (2 ops/s, lower name than d on a tie) takes the first; with half of it
        // c carries 52, so d takes the second.
        var four = new ShardMap(1, ["a", "b", "c", "d"], ["a", "a", "b", "b", "c", "c", "d", "d"]);
        HotShardDecision two = Policy.Decide(four, [100, 1, 100, 1, 1, 1, 1, 1]);
        Assert.Equal([new ShardSplit(0, "c"), new ShardSplit(2, "d")], two.NextMap!.Splits);
    }

    [Fact]
    public void AtMostMaxChangesPerRound_HottestFirst_TheRestInLaterRounds()
    {
        var policy = new HotShardPolicy(new HotShardOptions { MaxChangesPerRound = 2 });
        var map = new ShardMap(1, ["a", "b", "c", "d"], [.. Enumerable.Range(0, 16).Select(s => "abcd"[s % 4].ToString())]);
        double[] loads = [.. Enumerable.Range(0, 16).Select(s => s < 5 ? 100.0 + s : 1.0)];

        HotShardDecision first = policy.Decide(map, loads);
        Assert.Equal([4, 3], first.Changes.Select(c => c.Shard));
        HotShardDecision second = policy.Decide(first.NextMap!, loads);
        Assert.Equal([2, 1], second.Changes.Select(c => c.Shard));
        HotShardDecision third = policy.Decide(second.NextMap!, loads);
        Assert.Equal([0], third.Changes.Select(c => c.Shard));
        Assert.Equal(4, third.NextMap!.Epoch);
        Assert.Null(policy.Decide(third.NextMap, loads).NextMap);
    }

    [Fact]
    public void ACooledSplitShardIsMerged_AndSplitsTakePriorityOverMerges()
    {
        var map = new ShardMap(1, ["a", "b"], [.. Enumerable.Range(0, 20).Select(s => s % 2 == 0 ? "a" : "b")])
            .WithSplit(0, "b").WithSplit(1, "a");

        // Total 200, fair share 100, thresholds 25 and 10: shard 0 at 5 merges, shard 1 at 15 is in the band.
        HotShardDecision decision = Policy.Decide(map, Loads(20, 10, (0, 5), (1, 15)));
        HotShardChange merge = Assert.Single(decision.Changes);
        Assert.Equal(new HotShardChange(HotShardAction.Merge, 0, "a", "b", 5, 10), merge);
        Assert.Equal("merge shard 0 from b back to a: 5.0 ops/s below the merge threshold 10.0", merge.ToString());
        Assert.Equal([new ShardSplit(1, "a")], decision.NextMap!.Splits);
        Assert.Equal(4, decision.NextMap.Epoch);

        // With room for one change only, the split of hot shard 2 comes before the merge of shard 0.
        var one = new HotShardPolicy(new HotShardOptions { MaxChangesPerRound = 1 });
        Assert.Equal(
            [(HotShardAction.Split, 2)],
            one.Decide(map, Loads(20, 0, (0, 5), (1, 15), (2, 170))).Changes.Select(c => (c.Action, c.Shard)));
    }

    [Fact]
    public void LoadsInTheHysteresisBand_ChangeNothing()
    {
        // Fair share 100: 10 <= load <= 25 neither merges the split shard 0 nor splits shard 1.
        var map = new ShardMap(7, ["a", "b"], [.. Enumerable.Range(0, 10).Select(s => s % 2 == 0 ? "a" : "b")]).WithSplit(0, "b");
        HotShardDecision decision = Policy.Decide(map, Loads(10, 20.625, (0, 10), (1, 25)));
        Assert.Null(decision.NextMap);
        Assert.Empty(decision.Changes);
        Assert.Equal("no change (total 200.0 ops/s, split above 25.0, merge below 10.0)", decision.ToString());
        Assert.Null(Policy.Decide(map, Loads(10, 20.625, (0, 25), (1, 10))).NextMap);
    }

    [Fact]
    public void BelowTheMinimumTotal_NothingIsDecided()
    {
        var map = new ShardMap(1, ["a", "b"], ["a", "b", "a", "b"]).WithSplit(1, "a");
        HotShardDecision decision = Policy.Decide(map, [49.9, 0, 0, 0]);
        Assert.Null(decision.NextMap);
        Assert.Empty(decision.Changes);
        Assert.Null(Policy.Decide(map, [0, 0, 0, 0]).NextMap);
        Assert.NotNull(Policy.Decide(map, [50, 0, 0, 0]).NextMap);
    }

    [Fact]
    public void OneMember_HasNoOneToSplitTo()
    {
        var map = new ShardMap(1, ["a"], ["a", "a"]);
        Assert.Null(Policy.Decide(map, [1000, 1]).NextMap);
    }

    // Deterministic, never flaps under unchanged loads (a second decision never undoes the first), and every change
    // is justified by its threshold.
    [Fact]
    public void RandomZipfLoads_DecideDeterministically_WithinTheRules_AndDoNotFlap() =>
        Gen.Select(Gen.Int[1, 12], Gen.Int[1, 300], Gen.Double[0.5, 2.0], Gen.Int[1, 6], Gen.Int).Sample((members, shards, exponent, max, seed) =>
        {
            var random = new Random(seed);
            var policy = new HotShardPolicy(new HotShardOptions { MaxChangesPerRound = max });
            ShardMap map = new RingShardAllocator(new ShardLoadCap()).Allocate(ShardAllocators.Silos(members), shards);
            int[] rank = [.. Enumerable.Range(0, shards).OrderBy(_ => random.Next())];
            double[] loads = [.. rank.Select(r => 5000 / Math.Pow(r + 1, exponent))];

            HotShardDecision decision = policy.Decide(map, loads);
            HotShardDecision again = policy.Decide(ShardMapCodec.Decode(ShardMapCodec.Encode(map)), loads);
            Assert.Equal(decision.ToString(), again.ToString());
            Assert.Equal(decision.Changes, again.Changes);
            Assert.True(decision.Changes.Count <= max);
            Assert.All(decision.Changes, c =>
            {
                Assert.Equal(HotShardAction.Split, c.Action);
                Assert.True(loads[c.Shard] > decision.SplitThreshold);
                Assert.NotEqual(c.Owner, c.ChildOwner);
            });
            Assert.Equal(
                decision.Changes.Select(c => loads[c.Shard]).OrderByDescending(l => l),
                decision.Changes.Select(c => loads[c.Shard]));

            ShardMap current = decision.NextMap ?? map;
            for (int round = 0; round < 100 && policy.Decide(current, loads).NextMap is { } next; round++)
            {
                Assert.All(policy.Decide(current, loads).Changes, c => Assert.Equal(HotShardAction.Split, c.Action));
                current = next;
            }

            Assert.Null(policy.Decide(current, loads).NextMap);
            int hot = loads.Count(l => l > decision.SplitThreshold);
            Assert.Equal(members > 1 ? hot : 0, current.Splits.Count);
        }, iter: 200);

    // Every shard at rest, except the listed ones.
    private static double[] Loads(int shards, double rest, params (int Shard, double Load)[] set)
    {
        double[] loads = [.. Enumerable.Repeat(rest, shards)];
        foreach ((int shard, double load) in set)
        {
            loads[shard] = load;
        }

        return loads;
    }

    [Fact]
    public void BadLoads_AreRejected_NamingTheShard()
    {
        var map = new ShardMap(1, ["a", "b"], ["a", "b"]);
        Assert.Contains("Expected one load per shard (2), got 3", Assert.Throws<ArgumentException>(() => Policy.Decide(map, [1, 2, 3])).Message, StringComparison.Ordinal);
        Assert.Contains("The load of shard 1 must be a finite number of at least 0; got -1", Assert.Throws<ArgumentException>(() => Policy.Decide(map, [1, -1])).Message, StringComparison.Ordinal);
        Assert.Contains("The load of shard 0 must be", Assert.Throws<ArgumentException>(() => Policy.Decide(map, [double.NaN, 1])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadOptions_AreRejected_NamingTheOption()
    {
        (HotShardOptions Options, string Expected)[] bad =
        [
            (new HotShardOptions { SplitFraction = 0 }, "HotShardOptions.SplitFraction must be a finite number greater than 0; got 0"),
            (new HotShardOptions { SplitFraction = double.PositiveInfinity }, "HotShardOptions.SplitFraction must be"),
            (new HotShardOptions { MergeFraction = -0.1 }, "HotShardOptions.MergeFraction must be a finite number of at least 0; got -0.1"),
            (new HotShardOptions { MergeFraction = 0.25 }, "HotShardOptions.MergeFraction must be below SplitFraction (0.25)"),
            (new HotShardOptions { SplitFraction = 0.05 }, "HotShardOptions.MergeFraction must be below SplitFraction (0.05)"),
            (new HotShardOptions { MaxChangesPerRound = 0 }, "HotShardOptions.MaxChangesPerRound must be at least 1; got 0"),
            (new HotShardOptions { MinTotalOpsPerSecond = double.NaN }, "HotShardOptions.MinTotalOpsPerSecond must be a finite number of at least 0"),
        ];
        foreach ((HotShardOptions options, string expected) in bad)
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => new HotShardPolicy(options));
            Assert.Contains(expected, error.Message, StringComparison.Ordinal);
            Assert.StartsWith("options.", error.ParamName, StringComparison.Ordinal);
        }

        Assert.Equal(new HotShardOptions(), new HotShardPolicy().Options);
        Assert.Equal(0.25, HotShardOptions.DefaultSplitFraction);
    }
}
