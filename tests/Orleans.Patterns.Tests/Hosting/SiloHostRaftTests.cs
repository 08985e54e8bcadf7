using Microsoft.Extensions.DependencyInjection;
using Orleans.Patterns.Client.Cluster;
using Orleans.Patterns.Raft;
using Orleans.Patterns.Silo.Hosting;
using Orleans.Patterns.Tests.Infrastructure;

namespace Orleans.Patterns.Tests.Hosting;

/// <summary>The silo host runs a Raft replica under its configured name, and a restarted silo finds its log.</summary>
[Trait("Category", "Cluster")]
public sealed class SiloHostRaftTests
{
    [Fact]
    public async Task A_single_voter_silo_serves_writes_and_keeps_them_across_a_restart()
    {
        var root = PatternsClusterFactory.CreateStorageRoot();
        try
        {
            // Default voters: the silo alone. First life: write; second life (new ports, same name and directory): read.
            var first = await RunSiloAsync(root, async grains =>
            {
                var kv = new RaftKvClient(grains, ["silo-r"], "first-life");
                Assert.Null((await kv.PutAsync("k", "v1")).Previous);
                return (await kv.PutAsync("k", "v2")).Index;
            });

            await RunSiloAsync(root, async grains =>
            {
                var read = await new RaftKvClient(grains, ["silo-r"], "second-life").GetAsync("k");
                Assert.Equal("v2", read.Value);
                Assert.True(read.Index >= first, $"read at index {read.Index}, before the last write's {first}");
                var status = await grains.GetGrain<IRaftReplicaGrain>("silo-r").GetStatus();
                Assert.Equal(["silo-r"], status.Voters);
                return 0L;
            });
        }
        finally
        {
            PatternsClusterFactory.DeleteStorageRoot(root);
        }
    }

    private static async Task<long> RunSiloAsync(string root, Func<IGrainFactory, Task<long>> body)
    {
        var ports = FreePorts.Take(3);
        string[] args =
        [
            "--name", "silo-r",
            "--silo-port", ports[0].ToString(),
            "--primary-port", ports[0].ToString(),
            "--gateway-port", ports[1].ToString(),
            "--http-port", ports[2].ToString(),
            "--storage", Path.Combine(root, "grain-state"),
            "--raft:data_directory", Path.Combine(root, "raft-data"),
            "--dashboard:enabled", "false",
        ];
        await using var app = await SiloHost.BuildAsync(args, CancellationToken.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await app.StartAsync(timeout.Token);
        try
        {
            return await body(app.Services.GetRequiredService<IGrainFactory>());
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
        }
    }
}
