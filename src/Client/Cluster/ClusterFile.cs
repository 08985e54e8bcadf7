using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orleans.Patterns.Client.Cluster;

/// <summary>
/// What `cluster up` writes so later commands (`workload`, `where`, `ring`) find the cluster without flags:
/// the run directory, the clustering, every silo's ports and how each silo's current incarnation was started.
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

    /// <summary>This run's own copy, which outlives the pointer at <see cref="CurrentPath"/> being replaced by a newer cluster.</summary>
    public string RunPath => Path.Combine(RunDirectory, "cluster.json");

    /// <summary>Under localhost clustering the first silo holds the membership table: losing it loses the cluster.</summary>
    public bool LocalhostClustering => string.IsNullOrWhiteSpace(Redis);

    public SiloEndpoints Primary => Silos[0];

    public SiloEndpoints GetSilo(string name) =>
        Silos.FirstOrDefault(s => s.Name == name)
        ?? throw new UsageException($"No silo named '{name}' in {RunPath}; the cluster has {string.Join(", ", Silos.Select(s => s.Name))}.");

    public ClusterFile WithSilo(SiloEndpoints silo) =>
        this with { Silos = [.. Silos.Select(s => s.Name == silo.Name ? silo : s)] };

    /// <summary>A new cluster: writes the run's copy and makes it the current one.</summary>
    public Task SaveAsync(CancellationToken cancellationToken) => WriteAsync(claimCurrent: true, cancellationToken);

    /// <summary>
    /// A changed silo: writes the run's copy, and the current pointer only while it still names this run, so
    /// updating an older cluster never redirects later commands to it.
    /// </summary>
    public Task UpdateAsync(CancellationToken cancellationToken) => WriteAsync(claimCurrent: false, cancellationToken);

    private async Task WriteAsync(bool claimCurrent, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.Serialize(this, Json);
        var pointsHere = claimCurrent || !File.Exists(CurrentPath) || IsOurs(await File.ReadAllTextAsync(CurrentPath, cancellationToken));
        await WriteAtomicallyAsync(RunPath, json, cancellationToken);
        if (pointsHere)
        {
            await WriteAtomicallyAsync(CurrentPath, json, cancellationToken);
        }
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
            if (File.Exists(CurrentPath) && IsOurs(File.ReadAllText(CurrentPath)))
            {
                File.Delete(CurrentPath);
            }
        }
        catch (IOException)
        {
            // Best effort: a stale pointer only makes the next command report an unreachable cluster.
        }
    }

    private bool IsOurs(string json) => json.Contains(JsonSerializer.Serialize(RunDirectory, Json), StringComparison.Ordinal);

    // `cluster up` reads the file at exit while a `cluster restart` may be writing it: a reader sees the old or the new
    // file, never half of one.
    private static async Task WriteAtomicallyAsync(string path, string json, CancellationToken cancellationToken)
    {
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        await File.WriteAllTextAsync(temporary, json, cancellationToken);
        File.Move(temporary, path, overwrite: true);
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
