using Orleans.TestingHost;

namespace Orleans.Patterns.Tests.Infrastructure;

/// <summary>
/// The silo configuration every pattern cluster test uses: ring placement, the user grains and durable file
/// storage for users. Shared by the fixture and by tests that need a cluster of their own (topology changes),
/// so both run the same configuration.
/// </summary>
public static class PatternsClusterFactory
{
    /// <summary>Builds (does not deploy) a cluster of <paramref name="silos"/> silos storing users under <paramref name="storageRoot"/>.</summary>
    public static InProcessTestCluster Build(short silos, string storageRoot)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(storageRoot);
        var builder = new InProcessTestClusterBuilder(silos);

        // All silos point at one directory: a user re-activated on another silo must find its state.
        builder.ConfigureSilo((_, silo) => silo
            .AddConsistentHashPlacement()
            .AddUserGrains()
            .AddFileGrainStorage(UserHostingExtensions.UserStorageName, o => o.RootDirectory = storageRoot));
        return builder.Build();
    }

    /// <summary>A fresh, empty directory for user state under the system temp directory.</summary>
    public static string CreateStorageRoot()
    {
        var root = Path.Combine(Path.GetTempPath(), "orleans-patterns-users-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        return root;
    }

    /// <summary>Deletes a directory made by <see cref="CreateStorageRoot"/>, if it is still there.</summary>
    public static void DeleteStorageRoot(string root)
    {
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
