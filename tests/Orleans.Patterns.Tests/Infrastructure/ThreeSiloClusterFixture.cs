using Orleans.TestingHost;

namespace Orleans.Patterns.Tests.Infrastructure;

/// <summary>
/// One 3-silo cluster shared by every test class in <see cref="ThreeSiloClusterCollection"/>. Tests on it must
/// not change its topology, and should use user ids of their own since user state persists for the fixture's life.
/// </summary>
public sealed class ThreeSiloClusterFixture : IAsyncLifetime
{
    public const short SiloCount = 3;

    public string StorageRoot { get; } = PatternsClusterFactory.CreateStorageRoot();

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Cluster = PatternsClusterFactory.Build(SiloCount, StorageRoot);
        await Cluster.DeployAsync();
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
            // After the silos stop, so no write is racing the delete.
            PatternsClusterFactory.DeleteStorageRoot(StorageRoot);
        }
    }
}

/// <summary>Test classes marked <c>[Collection(ThreeSiloClusterCollection.Name)]</c> share one <see cref="ThreeSiloClusterFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class ThreeSiloClusterCollection : ICollectionFixture<ThreeSiloClusterFixture>
{
    public const string Name = "three-silo-cluster";
}
