using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orleans.Patterns.Client.Cluster;

/// <summary>
/// What `cluster up` writes so later commands (`workload`, `where`, `ring`) find the cluster without flags:
/// the run directory, the clustering and every silo's ports.
/// </summary>
internal sealed record ClusterFile(
    string RunDirectory,
    string ClusterId,
    string ServiceId,
    string? Redis,
    IReadOnlyList<SiloEndpoints> Silos)
{
    /// <summary>The pointer to the newest cluster started from this working directory.</summary>
    public static string CurrentPath => Path.Combine(RunDirectories.Root, "current-cluster.json");

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public async Task SaveAsync(CancellationToken cancellationToken)
    {
        var json = JsonSerializer.Serialize(this, Json);
        await File.WriteAllTextAsync(Path.Combine(RunDirectory, "cluster.json"), json, cancellationToken);
        await File.WriteAllTextAsync(CurrentPath, json, cancellationToken);
    }

    public static async Task<ClusterFile> LoadAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            throw new UsageException(
                $"No running cluster found at {path}. Start one with `cluster up`, or pass --gateway HOST:PORT or --redis CONNECTION.");
        }

        try
        {
            return JsonSerializer.Deserialize<ClusterFile>(await File.ReadAllTextAsync(path, cancellationToken), Json)
                ?? throw new UsageException($"{path} is empty.");
        }
        catch (JsonException e)
        {
            throw new UsageException($"{path} is not a cluster file: {e.Message}");
        }
    }

    public void DeleteCurrentIfOurs()
    {
        try
        {
            if (File.Exists(CurrentPath) && File.ReadAllText(CurrentPath).Contains(JsonSerializer.Serialize(RunDirectory), StringComparison.Ordinal))
            {
                File.Delete(CurrentPath);
            }
        }
        catch (IOException)
        {
            // Best effort: a stale pointer only makes the next command report an unreachable cluster.
        }
    }
}

/// <summary>Run directories: one per `cluster up` or `demo`, holding silo logs, grain state and results.</summary>
internal static class RunDirectories
{
    public static string Root => Path.Combine(Environment.CurrentDirectory, ".runs");

    public static string Create(string purpose)
    {
        var path = Path.Combine(Root, $"{DateTime.Now:yyyyMMdd-HHmmss}-{purpose}-{Environment.ProcessId}");
        Directory.CreateDirectory(path);
        return path;
    }
}
