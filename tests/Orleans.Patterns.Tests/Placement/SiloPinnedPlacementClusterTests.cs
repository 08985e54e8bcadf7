using System.Diagnostics;
using Orleans.Patterns.Placement;
using Orleans.Patterns.Tests.Infrastructure;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Placement;

/// <summary>
/// One grain per silo, keyed by the silo's stable name. TestingHost names its silos <c>Silo_0</c>, <c>Silo_1</c>…
/// (and sets <c>SiloOptions.SiloName</c> to that); the tests read names back from membership rather than assume them.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class SiloPinnedPlacementClusterTests(ITestOutputHelper output)
{
    private static readonly TimeSpan FailFastBound = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Each_silos_pinned_grain_runs_on_that_silo()
    {
        await using var cluster = await DeployAsync(3);
        var hosts = await ActiveHostsAsync(cluster);
        Assert.Equal(3, hosts.Count);

        foreach (var (name, address) in hosts)
        {
            var report = await cluster.Client.GetPinnedGrain<IPinnedProbeGrain>(name).WhereAmI();
            Assert.Equal(name, report.SiloName);
            Assert.Equal(address, report.Silo);
            Assert.Equal(address, await cluster.Client.GetGrain<IManagementGrain>(0)
                .GetActivationAddress(cluster.Client.GetPinnedGrain<IPinnedProbeGrain>(name)));
        }
    }

    [Fact]
    public async Task Stopped_silos_pinned_grain_fails_fast_with_a_clear_error_while_the_others_answer()
    {
        await using var cluster = await DeployAsync(3);
        var hosts = await ActiveHostsAsync(cluster);
        foreach (var name in hosts.Keys)
        {
            await cluster.Client.GetPinnedGrain<IPinnedProbeGrain>(name).WhereAmI();
        }

        // Not the primary: TestingHost membership lives there.
        var victim = cluster.Silos[1];
        await cluster.StopSiloAsync(victim);
        await cluster.WaitForLivenessToStabilizeAsync();
        output.WriteLine($"stopped {victim.Name} ({victim.SiloAddress})");

        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAnyAsync<Exception>(() => cluster.Client.GetPinnedGrain<IPinnedProbeGrain>(victim.Name).WhereAmI());
        clock.Stop();
        output.WriteLine($"call to the stopped silo's grain failed after {clock.ElapsedMilliseconds} ms: {error.GetType().Name}: {error.Message}");

        Assert.True(clock.Elapsed < FailFastBound, $"the call took {clock.Elapsed}, not under {FailFastBound}");
        var unavailable = Assert.IsType<PinnedSiloUnavailableException>(error);
        Assert.Equal(victim.Name, unavailable.SiloName);
        Assert.Contains($"silo '{victim.Name}' is not active; pinned grain", error.Message, StringComparison.Ordinal);

        foreach (var (name, address) in hosts.Where(h => h.Key != victim.Name))
        {
            Assert.Equal(address, (await cluster.Client.GetPinnedGrain<IPinnedProbeGrain>(name).WhereAmI()).Silo);
        }
    }

    [Fact]
    public async Task A_joining_silo_gets_its_own_pinned_grain()
    {
        await using var cluster = await DeployAsync(2);
        var joiner = await cluster.StartAdditionalSiloAsync();
        await cluster.WaitForLivenessToStabilizeAsync();
        await cluster.WaitForClusterManifestToStabilizeAsync();

        var hosts = await ActiveHostsAsync(cluster);
        var name = hosts.Single(h => h.Value.Equals(joiner.SiloAddress)).Key;
        output.WriteLine($"joined {name} ({joiner.SiloAddress})");

        // The placing silo learns of the joiner through membership; until then the grain cannot be placed.
        PinnedProbeReport? report = null;
        await Eventually.WaitAsync(
            async () => (report = await cluster.Client.GetPinnedGrain<IPinnedProbeGrain>(name).WhereAmI()) is not null,
            Deadline,
            () => $"join phase: pinned grain of {name} never answered");
        Assert.Equal(joiner.SiloAddress, report!.Silo);
        Assert.Equal(name, report.SiloName);
    }

    private async Task<InProcessTestCluster> DeployAsync(short silos)
    {
        var builder = new InProcessTestClusterBuilder(silos);
        builder.ConfigureSilo((_, silo) => silo.AddSiloPinnedPlacement());
        var cluster = builder.Build();
        await cluster.DeployAsync();
        output.WriteLine("deployed " + string.Join(", ", cluster.Silos.Select(s => $"{s.Name}={s.SiloAddress}")));
        return cluster;
    }

    /// <summary>Active silos by the name they registered in membership.</summary>
    private static async Task<Dictionary<string, SiloAddress>> ActiveHostsAsync(InProcessTestCluster cluster)
    {
        var hosts = await cluster.Client.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true);
        return hosts.ToDictionary(h => h.SiloName, h => h.SiloAddress, StringComparer.Ordinal);
    }
}
