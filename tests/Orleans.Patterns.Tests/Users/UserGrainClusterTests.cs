using Orleans.Patterns.Tests.Infrastructure;
using Orleans.Patterns.Users;

namespace Orleans.Patterns.Tests.Users;

[Trait("Category", "Cluster")]
[Collection(ThreeSiloClusterCollection.Name)]
public sealed class UserGrainClusterTests(ThreeSiloClusterFixture fixture)
{
    // The grain's documented bounds; the tests check the messages name them.
    private const int KeyLimit = 256;
    private const int ValueLimit = 4096;

    private IGrainFactory Grains => fixture.Cluster.Client;

    [Fact]
    public async Task An_increment_under_an_operation_id_applies_once_even_across_reactivation()
    {
        var user = Grains.GetUser("increment-once-grace");
        var first = Guid.NewGuid();

        Assert.Equal(2, await user.IncrementOnce("n", 2, first));
        Assert.Equal(2, await user.IncrementOnce("n", 2, first));
        Assert.Equal(5, await user.IncrementOnce("n", 3, Guid.NewGuid()));

        // The remembered id is durable: a retry that reaches a fresh activation is still answered, not applied.
        var activation = await user.GetLocation();
        await fixture.Cluster.DeactivateAsync(user);
        await Eventually.WaitAsync(
            async () => (await user.GetLocation()).ActivatedAt != activation.ActivatedAt,
            TimeSpan.FromSeconds(10),
            () => "a new activation of increment-once-grace");
        Assert.Equal(2, await user.IncrementOnce("n", 2, first));
        Assert.Equal(5, (await user.GetSnapshot()).Counters["n"]);

        // Only the latest 128 ids are kept: the oldest one is forgotten and would apply again.
        for (var i = 0; i < 128; i++)
        {
            await user.IncrementOnce("m", 1, Guid.NewGuid());
        }

        Assert.Equal(8, await user.IncrementOnce("n", 3, first));
    }

    [Fact]
    public async Task Operations_round_trip_and_survive_reactivation()
    {
        var user = Grains.GetUser("semantics-ada");

        Assert.Equal(2, await user.Increment("logins", 2));
        Assert.Equal(5, await user.Increment("logins", 3));
        Assert.Equal(-1, await user.Increment("credits", -1));
        await user.Put("theme", "dark");
        await user.Put("theme", "light");
        await user.SetDisplayName("Ada");

        Assert.Equal("light", await user.Get("theme"));
        Assert.Null(await user.Get("missing"));

        var before = await user.GetSnapshot();
        AssertSnapshot(before);
        var firstActivation = await user.GetLocation();

        // State must come back from storage, not from the old activation's memory.
        await fixture.Cluster.DeactivateAsync(user);
        await Eventually.WaitAsync(
            async () => (await user.GetLocation()).ActivatedAt != firstActivation.ActivatedAt,
            TimeSpan.FromSeconds(10),
            () => $"Re-activation phase: user 'semantics-ada' still answers from the activation of {firstActivation.ActivatedAt:O}");

        AssertSnapshot(await user.GetSnapshot());
        Assert.Equal(6, await user.Increment("logins", 1));

        static void AssertSnapshot(UserSnapshot s)
        {
            Assert.Equal("semantics-ada", s.UserId);
            Assert.Equal("Ada", s.DisplayName);
            Assert.Equal(new Dictionary<string, long> { ["credits"] = -1, ["logins"] = 5 }, s.Counters.OrderBy(p => p.Key).ToDictionary());
            Assert.Equal(new Dictionary<string, string> { ["theme"] = "light" }, s.Values.ToDictionary());

            // Three increments, two puts and a display name.
            Assert.Equal(6, s.Writes);
        }
    }

    [Fact]
    public async Task Bad_input_is_rejected_with_the_limit_and_changes_nothing()
    {
        var user = Grains.GetUser("semantics-bad-input");
        await user.Put("kept", "value");

        var emptyKey = await Assert.ThrowsAsync<ArgumentException>(() => user.Put("", "v"));
        Assert.Contains("'key'", emptyKey.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => user.Increment("", 1));
        await Assert.ThrowsAsync<ArgumentException>(() => user.Get(""));

        var longValue = await Assert.ThrowsAsync<ArgumentException>(() => user.Put("k", new string('v', ValueLimit + 1)));
        Assert.Contains($"{ValueLimit}", longValue.Message, StringComparison.Ordinal);
        Assert.Contains("'value'", longValue.Message, StringComparison.Ordinal);

        var longKey = await Assert.ThrowsAsync<ArgumentException>(() => user.Increment(new string('k', KeyLimit + 1), 1));
        Assert.Contains($"{KeyLimit}", longKey.Message, StringComparison.Ordinal);
        Assert.Contains("'counter'", longKey.Message, StringComparison.Ordinal);

        var longName = await Assert.ThrowsAsync<ArgumentException>(() => user.SetDisplayName(new string('n', KeyLimit + 1)));
        Assert.Contains($"{KeyLimit}", longName.Message, StringComparison.Ordinal);

        // Exactly at the limits is accepted.
        await user.Put(new string('k', KeyLimit), new string('v', ValueLimit));
        await user.SetDisplayName(new string('n', KeyLimit));

        var snapshot = await user.GetSnapshot();
        Assert.Equal(3, snapshot.Writes);
        Assert.Equal(2, snapshot.Values.Count);
        Assert.Empty(snapshot.Counters);
    }

    [Fact]
    public async Task Counter_overflow_is_rejected_and_leaves_the_counter_unchanged()
    {
        var user = Grains.GetUser("semantics-overflow");
        Assert.Equal(long.MaxValue, await user.Increment("big", long.MaxValue));

        await Assert.ThrowsAsync<OverflowException>(() => user.Increment("big", 1));

        var snapshot = await user.GetSnapshot();
        Assert.Equal(long.MaxValue, snapshot.Counters["big"]);
        Assert.Equal(1, snapshot.Writes);
    }

    [Theory]
    [InlineData(UserPlacement.Ring, UserGrainTypes.Ring)]
    [InlineData(UserPlacement.Hash, UserGrainTypes.Hash)]
    [InlineData(UserPlacement.Random, UserGrainTypes.Random)]
    public async Task Each_placement_has_its_own_grain_type_and_works(UserPlacement placement, string grainType)
    {
        var user = Grains.GetUser("placement-kind", placement);

        var location = await user.GetLocation();
        Assert.Equal(grainType, location.GrainType);
        Assert.Contains(location.Silo, fixture.Cluster.Silos.Select(s => s.SiloAddress));

        // Same id, different grain type: the three users are distinct grains with distinct state.
        Assert.Equal(1, await user.Increment("calls", 1));
        await user.Put("placement", grainType);
        Assert.Equal(grainType, await user.Get("placement"));
        Assert.Equal("placement-kind", (await user.GetSnapshot()).UserId);
    }
}
