using Orleans.Patterns.Coordination;
using Orleans.Patterns.Raft;
using Orleans.TestingHost;

namespace Orleans.Patterns.Tests.Infrastructure;

/// <summary>
/// One 3-silo cluster with Raft replicas (logs on disk under a temp directory), shared by every coordination test
/// class in <see cref="CoordinationClusterCollection"/>. Tests on it must not change its topology and should use keys
/// under a prefix of their own: the store lives as long as the fixture.
/// </summary>
public sealed class CoordinationClusterFixture : IAsyncLifetime
{
    public static readonly IReadOnlyList<string> Voters = ["Silo_0", "Silo_1", "Silo_2"];

    /// <summary>Revisions of history kept: small, so a test sees the leader compact; tests that watch stay well within it.</summary>
    public const long Retention = 300;

    public string DataRoot { get; } = Path.Combine(Path.GetTempPath(), "orleans-patterns-coordination-" + Guid.NewGuid().ToString("N"));

    public InProcessTestCluster Cluster { get; private set; } = null!;

    /// <summary>A coordination client with a fresh client id, talking to the fixture's replicas.</summary>
    public CoordinationClient NewClient(string name, string? localReplica = null) =>
        new(Cluster.Client, () => Voters, $"{name}-{Guid.NewGuid():N}") { LocalReplica = localReplica };

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder((short)Voters.Count);
        builder.ConfigureSilo((_, silo) => silo.AddRaftReplicas(o =>
        {
            o.DataDirectory = DataRoot;
            o.InitialVoters = [.. Voters];
            o.CoordinationRetention = Retention;
        }));
        Cluster = builder.Build();
        await Cluster.DeployAsync();

        // A leader first, so the first test's deadline is not spent on the first election.
        await Eventually.WaitAsync(
            async () => (await Task.WhenAll(Voters.Select(v => Cluster.Client.GetGrain<IRaftReplicaGrain>(v).GetStatus()))).Count(s => s.Role == "Leader") == 1,
            TimeSpan.FromSeconds(30),
            () => "one Raft leader among the coordination fixture's replicas");
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
}

/// <summary>Test classes marked <c>[Collection(CoordinationClusterCollection.Name)]</c> share one <see cref="CoordinationClusterFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class CoordinationClusterCollection : ICollectionFixture<CoordinationClusterFixture>
{
    public const string Name = "coordination-cluster";
}
