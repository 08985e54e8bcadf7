using Microsoft.Extensions.DependencyInjection;
using Orleans.Patterns.Chaos;
using Orleans.Patterns.Client.Cluster;
using Orleans.Patterns.Placement;
using Orleans.Patterns.Silo.Hosting;
using Orleans.Patterns.Tests.Infrastructure;

namespace Orleans.Patterns.Tests.Hosting;

/// <summary>The silo host switches chaos and silo-pinned placement on, under the silo's configured name.</summary>
[Trait("Category", "Cluster")]
public sealed class SiloHostChaosTests
{
    [Fact]
    public async Task The_host_serves_its_chaos_control_grain_under_its_configured_name()
    {
        var ports = FreePorts.Take(3);
        var storage = PatternsClusterFactory.CreateStorageRoot();
        try
        {
            string[] args =
            [
                "--name", "silo-7",
                "--silo-port", ports[0].ToString(),
                "--primary-port", ports[0].ToString(),
                "--gateway-port", ports[1].ToString(),
                "--http-port", ports[2].ToString(),
                "--storage", storage,
            ];
            await using var app = await SiloHost.BuildAsync(args, CancellationToken.None);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await app.StartAsync(timeout.Token);
            try
            {
                var grains = app.Services.GetRequiredService<IGrainFactory>();
                Assert.Equal(["silo-7"], await grains.GetActiveSiloNamesAsync());
                Assert.Equal(ChaosRuleSet.Empty.Version, (await grains.GetPinnedGrain<IChaosControlGrain>("silo-7").GetRules()).Version);

                var error = await Assert.ThrowsAsync<PinnedSiloUnavailableException>(
                    () => grains.GetPinnedGrain<IChaosControlGrain>("silo-8").GetRules());
                Assert.Equal("silo-8", error.SiloName);
            }
            finally
            {
                await app.StopAsync(CancellationToken.None);
            }
        }
        finally
        {
            PatternsClusterFactory.DeleteStorageRoot(storage);
        }
    }
}
