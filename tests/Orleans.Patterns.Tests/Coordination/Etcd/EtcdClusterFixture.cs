using System.Net;
using Orleans.Patterns.Client.Cluster;
using Orleans.Patterns.Raft;
using Orleans.Patterns.Tests.Infrastructure;
using Orleans.TestingHost;

namespace Orleans.Patterns.Tests.Coordination.Etcd;

/// <summary>
/// One 3-silo cluster with Raft replicas and the etcd v3 API on a free loopback port per silo, shared by every etcdctl
/// test class in <see cref="EtcdClusterCollection"/>. Tests must not change its topology and use keys under a prefix
/// of their own: the store lives as long as the fixture.
/// </summary>
public sealed class EtcdClusterFixture : IAsyncLifetime
{
    public static readonly IReadOnlyList<string> Silos = ["Silo_0", "Silo_1", "Silo_2"];

    private readonly int[] _ports = FreePorts.Take(Silos.Count);

    public string DataRoot { get; } = Path.Combine(Path.GetTempPath(), "orleans-patterns-etcd-" + Guid.NewGuid().ToString("N"));

    public InProcessTestCluster Cluster { get; private set; } = null!;

    /// <summary>The etcd endpoint of the named silo, as <c>etcdctl --endpoints</c> takes it.</summary>
    public string Endpoint(string silo) => $"http://127.0.0.1:{_ports[IndexOf(silo)]}";

    /// <summary>The etcd endpoint of the named silo without a scheme (<c>127.0.0.1:port</c>).</summary>
    public string HostPort(string silo) => $"127.0.0.1:{_ports[IndexOf(silo)]}";

    /// <summary>Every silo's endpoint as host:port, comma-separated.</summary>
    public string AllHostPorts => string.Join(",", Silos.Select(HostPort));

    /// <summary>The silo whose replica leads now.</summary>
    public async Task<string> LeaderAsync()
    {
        string? leader = null;
        await Eventually.WaitAsync(
            async () => (leader = (await Cluster.Client.GetGrain<IRaftReplicaGrain>(Silos[0]).GetStatus()).Leader) is not null,
            TimeSpan.FromSeconds(20),
            () => "a Raft leader known to Silo_0");
        return leader!;
    }

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder((short)Silos.Count);
        builder.ConfigureSilo((options, silo) => silo
            .AddRaftReplicas(o =>
            {
                o.DataDirectory = DataRoot;
                o.InitialVoters = [.. Silos];
            })
            .AddEtcdApi(o =>
            {
                o.Address = IPAddress.Loopback;
                o.Port = _ports[IndexOf(options.SiloName)];
                o.WatchPollInterval = TimeSpan.FromMilliseconds(500);
                o.WatchProgressInterval = TimeSpan.FromSeconds(1);
            }));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        await Eventually.WaitAsync(
            async () => (await Task.WhenAll(Silos.Select(s => Cluster.Client.GetGrain<IRaftReplicaGrain>(s).GetStatus()))).Count(s => s.Role == "Leader") == 1,
            TimeSpan.FromSeconds(30),
            () => "one Raft leader among the etcd fixture's replicas");
    }

    public async Task DisposeAsync()
    {
        try
        {
            if (Cluster is not null)
            {
                await Cluster.DisposeAsync();
            }
        }
        finally
        {
            if (Directory.Exists(DataRoot))
            {
                Directory.Delete(DataRoot, recursive: true);
            }
        }
    }

    private static int IndexOf(string silo)
    {
        var index = Silos.ToList().IndexOf(silo);
        return index >= 0 ? index : throw new ArgumentException($"The etcd fixture has no silo named '{silo}'.", nameof(silo));
    }
}

/// <summary>Test classes marked <c>[Collection(EtcdClusterCollection.Name)]</c> share one <see cref="EtcdClusterFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class EtcdClusterCollection : ICollectionFixture<EtcdClusterFixture>
{
    public const string Name = "etcd-cluster";
}
