using System.Diagnostics;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Storage;

[Trait("Category", "Cluster")]
public sealed class FileGrainStorageClusterTests(ITestOutputHelper output) : IDisposable
{
    public const string StorageName = "durable";

    private static readonly TimeSpan FailoverDeadline = TimeSpan.FromSeconds(10);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "file-grain-storage-cluster-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public async Task State_survives_a_crash_of_the_hosting_silo()
    {
        var builder = new InProcessTestClusterBuilder(initialSilosCount: 2);
        var root = _root;
        builder.ConfigureSilo((_, silo) => silo.AddFileGrainStorage(StorageName, o => o.RootDirectory = root));
        await using var cluster = builder.Build();
        await cluster.DeployAsync();

        var grain = cluster.Client.GetGrain<ICounterTestGrain>("survivor");
        for (var expected = 1; expected <= 3; expected++)
        {
            Assert.Equal(expected, await grain.Increment());
        }

        var victimAddress = await grain.GetHostingSilo();
        var victim = cluster.Silos.Single(s => s.SiloAddress.Equals(victimAddress));
        output.WriteLine($"Counter at 3 on {victimAddress}; killing that silo.");
        await cluster.KillSiloAsync(victim);
        await cluster.WaitForLivenessToStabilizeAsync(didKill: true);

        var newHost = await WaitForReactivationElsewhere(grain, victimAddress);
        output.WriteLine($"Grain reactivated on {newHost}.");

        Assert.Equal(3, await grain.Get());
        Assert.Equal(4, await grain.Increment());
        Assert.Single(Directory.GetFiles(Path.Combine(_root, "counter"), "*.state", SearchOption.AllDirectories));
    }

    /// <summary>Polls until the grain answers from a silo other than <paramref name="deadSilo"/>.</summary>
    private static async Task<SiloAddress> WaitForReactivationElsewhere(ICounterTestGrain grain, SiloAddress deadSilo)
    {
        var clock = Stopwatch.StartNew();
        Exception? lastError = null;
        while (clock.Elapsed < FailoverDeadline)
        {
            try
            {
                var host = await grain.GetHostingSilo();
                if (!host.Equals(deadSilo))
                {
                    return host;
                }
            }
            catch (Exception e)
            {
                // Calls may fail while the cluster notices the crash; that is what we are waiting out.
                lastError = e;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }

        throw new TimeoutException(
            $"Failover phase: grain 'survivor' still not reactivated away from {deadSilo} after {FailoverDeadline}.", lastError);
    }
}
