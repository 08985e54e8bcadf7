using Orleans.Patterns.Client;
using Orleans.Patterns.Client.Workload;
using Orleans.Patterns.Users;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Client;

/// <summary>The Zipf draws of <c>workload --distribution zipf</c>: seeded, shaped like 1/k^s, and the skew checked.</summary>
[Trait("Category", "Unit")]
public sealed class ZipfSamplerTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(1.0)]
    [InlineData(0.8)]
    [InlineData(2.0)]
    public void Probabilities_follow_one_over_rank_to_the_skew_and_sum_to_one(double skew)
    {
        var zipf = new ZipfSampler(1000, skew);

        Assert.Equal(1.0, Enumerable.Range(0, zipf.Count).Sum(zipf.Probability), 9);
        Assert.Equal(Math.Pow(4, skew), zipf.Probability(0) / zipf.Probability(3), 9);
        Assert.Equal(Math.Pow(10.0 / 9, skew), zipf.Probability(8) / zipf.Probability(9), 9);
    }

    [Fact]
    public void Seeded_draws_have_the_frequencies_of_zipf()
    {
        const int seed = 1234;
        const int draws = 200_000;
        output.WriteLine($"seed {seed}");
        var zipf = new ZipfSampler(100, 1.0);
        var random = new Random(seed);
        var counts = new int[zipf.Count];
        for (var i = 0; i < draws; i++)
        {
            counts[zipf.Next(random)]++;
        }

        for (var k = 0; k < 10; k++)
        {
            var expected = zipf.Probability(k) * draws;
            output.WriteLine($"index {k}: {counts[k]} drawn, {expected:0} expected");
            Assert.InRange(counts[k], expected * 0.9, expected * 1.1);
        }

        // Rank 1 about twice rank 2 and ten times rank 10.
        Assert.InRange((double)counts[0] / counts[1], 1.8, 2.2);
        Assert.InRange((double)counts[0] / counts[9], 8.5, 11.5);
    }

    [Fact]
    public void The_same_seed_replays_the_same_users()
    {
        var zipf = new ZipfSampler(500, 1.2);
        var first = Enumerable.Range(0, 1000).Select(i => zipf.Sample(ZipfSampler.UniformAt(42, i))).ToArray();
        var again = Enumerable.Range(0, 1000).Select(i => zipf.Sample(ZipfSampler.UniformAt(42, i))).ToArray();
        var other = Enumerable.Range(0, 1000).Select(i => zipf.Sample(ZipfSampler.UniformAt(43, i))).ToArray();

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.All(Enumerable.Range(0, 10_000).Select(i => ZipfSampler.UniformAt(7, i)), u => Assert.InRange(u, 0.0, 1.0 - 1e-17));
    }

    [Fact]
    public void Draws_at_the_ends_of_the_unit_interval_stay_in_range()
    {
        var zipf = new ZipfSampler(3, 1.0);

        Assert.Equal(0, zipf.Sample(0.0));
        Assert.Equal(0, zipf.Sample(zipf.Probability(0) / 2));
        Assert.Equal(1, zipf.Sample(zipf.Probability(0)));
        Assert.Equal(2, zipf.Sample(Math.BitDecrement(1.0)));
        Assert.Equal(0, new ZipfSampler(1, 1.0).Sample(0.99));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_skew_that_is_not_above_zero_is_refused(double skew)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ZipfSampler(10, skew));
        var spec = new WorkloadSpec(10, 100, 1, UserPlacement.Sharded, 0.2, "u-", 42, UserDistribution.Zipf, skew);
        var error = Assert.Throws<UsageException>(spec.Validate);
        Assert.StartsWith("--skew ", error.Message, StringComparison.Ordinal);
        Assert.EndsWith(" must be a number above 0.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_first_pass_calls_every_user_once_and_the_warm_pass_favours_user_zero()
    {
        var spec = new WorkloadSpec(50, 5000, 1, UserPlacement.Sharded, 0.2, "u-", 42, UserDistribution.Zipf, 1.5);
        var runner = new WorkloadRunner(null!, spec);
        runner.UseDistribution();

        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"u-{i}"), Enumerable.Range(0, 50).Select(i => runner.UserOf(i)));
        var warm = Enumerable.Range(50, 4950).Select(i => runner.UserOf(i)).ToList();
        var hottest = warm.GroupBy(u => u).OrderByDescending(g => g.Count()).First();
        Assert.Equal("u-0", hottest.Key);
        Assert.True(hottest.Count() > warm.Count / 4, $"u-0 got {hottest.Count()} of {warm.Count}");
    }
}
