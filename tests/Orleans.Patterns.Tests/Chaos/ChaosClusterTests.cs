using System.Collections.Immutable;
using System.Diagnostics;
using Orleans.Patterns.Chaos;
using Orleans.Patterns.Placement;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Chaos;

/// <summary>A 3-silo cluster with chaos switched on; tests set rules and heal before they end.</summary>
public sealed class ChaosClusterFixture : IAsyncLifetime
{
    public const int Seed = 20261123;

    public InProcessTestCluster Cluster { get; private set; } = null!;

    /// <summary>The silo names, sorted: A, B, C of the tests.</summary>
    public IReadOnlyList<string> Silos { get; private set; } = [];

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(3);
        builder.ConfigureSilo((_, silo) => silo.AddChaos(o => o.Seed = Seed));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        Silos = await Cluster.Client.GetActiveSiloNamesAsync();
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }
}

[Trait("Category", "Cluster")]
public sealed class ChaosClusterTests(ChaosClusterFixture fixture, ITestOutputHelper output)
    : IClassFixture<ChaosClusterFixture>, IAsyncLifetime
{
    private IGrainFactory Client => fixture.Cluster.Client;

    private string A => fixture.Silos[0];

    private string B => fixture.Silos[1];

    private string C => fixture.Silos[2];

    public Task InitializeAsync()
    {
        output.WriteLine($"silos {string.Join(", ", fixture.Silos)}; chaos seed {ChaosClusterFixture.Seed}");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Client.HealEverywhereAsync();

    private IChaosEchoGrain Echo(string silo) => Client.GetPinnedGrain<IChaosEchoGrain>(silo);

    private static PartitionRule Partition(string name, params string[][] sides) =>
        new(name, [], [.. sides.Select(s => s.ToImmutableArray())]);

    [Fact]
    public async Task Partition_fails_calls_across_it_with_a_named_error_and_heal_restores_them()
    {
        Assert.Equal(B, await Echo(A).CallPeer(B));

        var applied = await Client.SetRulesEverywhereAsync([Partition("a|bc", [A], [B, C])]);
        foreach (var (silo, rules) in await Client.GetRulesEverywhereAsync())
        {
            Assert.Equal(applied.Version, rules.Version);
        }

        var error = await Assert.ThrowsAsync<ChaosInjectedException>(() => Echo(A).CallPeer(B));
        output.WriteLine(error.Message);
        Assert.Equal("a|bc", error.Rule);
        Assert.Equal((A, B), (error.SourceSilo, error.TargetSilo));
        var back = await Assert.ThrowsAsync<ChaosInjectedException>(() => Echo(B).CallPeer(A));
        Assert.Equal((B, A), (back.SourceSilo, back.TargetSilo));
        await Assert.ThrowsAsync<ChaosInjectedException>(() => Echo(C).CallPeer(A));
        Assert.Equal(C, await Echo(B).CallPeer(C));
        Assert.Equal(B, await Echo(C).CallPeer(B));

        var healed = await Client.HealEverywhereAsync();
        Assert.True(healed.Version > applied.Version);
        Assert.Empty(healed.Rules);
        Assert.Equal(B, await Echo(A).CallPeer(B));
        Assert.Equal(A, await Echo(C).CallPeer(A));
    }

    [Fact]
    public async Task Delay_holds_calls_on_the_link_for_at_least_the_configured_time()
    {
        var delay = TimeSpan.FromMilliseconds(300);
        await Client.SetRulesEverywhereAsync([new DelayRule("slow-a-b", [], new ChaosLinks([A], [B]), delay, TimeSpan.Zero)]);

        var clock = Stopwatch.StartNew();
        Assert.Equal(B, await Echo(A).CallPeer(B));
        clock.Stop();
        output.WriteLine($"{A} -> {B} took {clock.ElapsedMilliseconds} ms with a {delay.TotalMilliseconds} ms delay rule");

        // Lower bound only; a little slack for timer granularity.
        Assert.True(clock.Elapsed >= delay - TimeSpan.FromMilliseconds(20), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Duplicate_runs_the_callee_twice_and_the_caller_sees_the_second_result()
    {
        var before = await Echo(B).Increment();
        await Client.SetRulesEverywhereAsync([new DuplicateRule("twice", [], new ChaosLinks([A], [B]), 1.0)]);

        Assert.Equal(before + 2, await Echo(A).IncrementPeer(B));
        // From a client: not duplicated.
        Assert.Equal(before + 3, await Echo(B).Increment());
    }

    [Fact]
    public async Task Client_calls_are_never_faulted()
    {
        await Client.SetRulesEverywhereAsync(
        [
            Partition("split", [A], [B], [C]),
            new DropRule("drop-all", [], ChaosLinks.Any, 1.0),
        ]);

        foreach (var silo in fixture.Silos)
        {
            Assert.Equal(silo, await Echo(silo).Echo());
        }

        await Assert.ThrowsAsync<ChaosInjectedException>(() => Echo(A).CallPeer(C));
    }

    [Fact]
    public async Task Orleans_system_calls_and_chaos_control_work_during_a_partition()
    {
        await Client.SetRulesEverywhereAsync([Partition("split", [A], [B], [C])]);

        // From inside a partitioned silo: the management grain reaches every silo's system targets.
        foreach (var silo in fixture.Silos)
        {
            Assert.Equal(3, await Echo(silo).CountActiveSilos());
        }

        Assert.Equal(3, (await fixture.Cluster.Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Count);
        Assert.Equal(3, (await Client.GetRulesEverywhereAsync()).Count);
    }

    [Fact]
    public async Task Rules_scoped_to_other_interfaces_leave_calls_alone()
    {
        await Client.SetRulesEverywhereAsync(
            [new DropRule("raft-only", ["IRaftReplicaGrain"], ChaosLinks.Any, 1.0)]);
        Assert.Equal(B, await Echo(A).CallPeer(B));

        await Client.SetRulesEverywhereAsync(
            [new DropRule("echo-only", [nameof(IChaosEchoGrain)], ChaosLinks.Any, 1.0)]);
        await Assert.ThrowsAsync<ChaosInjectedException>(() => Echo(A).CallPeer(B));
    }

    [Fact]
    public async Task Stale_rule_versions_are_ignored_and_invalid_rules_refused()
    {
        var applied = await Client.SetRulesEverywhereAsync([Partition("split", [A], [B])]);
        var control = Client.GetPinnedGrain<IChaosControlGrain>(A);

        var inForce = await control.SetRules(new ChaosRuleSet(applied.Version - 1, []));
        Assert.Equal(applied.Version, inForce.Version);
        Assert.Single(inForce.Rules);

        var error = await Assert.ThrowsAsync<ArgumentException>(
            () => control.SetRules(new ChaosRuleSet(applied.Version + 1, [new DropRule("bad", [], ChaosLinks.Any, 2)])));
        Assert.Contains("chaos rule 'bad': probability", error.Message, StringComparison.Ordinal);
    }
}
