using Orleans.Patterns.Coordination;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Coordination.Recipes;

[Trait("Category", "Unit")]
public sealed class FencingTokenGuardTests(ITestOutputHelper output)
{
    [Fact]
    public void Accepts_equal_or_larger_tokens_and_refuses_smaller_ones_per_resource()
    {
        var guard = new FencingTokenGuard();
        guard.Accept("db", 5);
        guard.Accept("db", 5);
        guard.Accept("db", 9);
        guard.Accept("cache", 3);
        var stale = Assert.Throws<StaleFencingTokenException>(() => guard.Accept("db", 8));
        Assert.Equal(("db", 8L, 9L), (stale.Resource, stale.Token, stale.Highest));
        Assert.Equal("fencing token 8 for 'db' is stale: the resource has accepted token 9", stale.Message);
        Assert.Equal(9, guard.Highest("db"));
        Assert.Equal(3, guard.Highest("cache"));
        Assert.Equal(0, guard.Highest("none"));
        Assert.Throws<ArgumentOutOfRangeException>(() => guard.Accept("db", 0));
    }

    [Fact]
    public void Concurrent_holders_leave_the_highest_token_and_every_refusal_was_below_an_accepted_one()
    {
        var seed = Environment.GetEnvironmentVariable("FENCE_SEED") is { } fixedSeed ? int.Parse(fixedSeed) : Random.Shared.Next();
        output.WriteLine($"seed {seed} (replay with FENCE_SEED={seed})");
        var guard = new FencingTokenGuard();
        var refused = 0;
        Parallel.For(0, 8, worker =>
        {
            var random = new Random(seed + worker);
            for (var i = 0; i < 2000; i++)
            {
                var token = random.NextInt64(1, 100_000);
                if (!guard.TryAccept("r", token, out var highest))
                {
                    Assert.True(highest > token, $"seed {seed}: refused {token} with highest {highest}");
                    Interlocked.Increment(ref refused);
                }
            }
        });

        var max = Enumerable.Range(0, 8).SelectMany(w => { var r = new Random(seed + w); return Enumerable.Range(0, 2000).Select(_ => r.NextInt64(1, 100_000)); }).Max();
        Assert.True(guard.Highest("r") == max, $"seed {seed} (replay with FENCE_SEED={seed}): highest {guard.Highest("r")}, expected {max}");
        Assert.True(refused > 0, $"seed {seed}: no refusal at all");
    }

    [Fact]
    public void Stored_tokens_order_bytewise_as_numbers()
    {
        long[] tokens = [1, 9, 10, 99, 100, 123_456_789, long.MaxValue];
        var encoded = tokens.Select(FencedWrites.Encode).ToList();
        for (var i = 1; i < encoded.Count; i++)
        {
            Assert.True(encoded[i - 1].AsSpan().SequenceCompareTo(encoded[i]) < 0);
        }

        Assert.Equal(tokens, encoded.Select(FencedWrites.Decode));
    }
}
