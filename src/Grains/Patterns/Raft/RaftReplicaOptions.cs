using Microsoft.Extensions.Options;

namespace Orleans.Patterns.Raft;

/// <summary>Options of the per-silo Raft replicas (<c>siloBuilder.AddRaftReplicas</c>).</summary>
public sealed class RaftReplicaOptions
{
    /// <summary>
    /// Directory under which each replica keeps its log, hard state and snapshots (<c>{DataDirectory}/raft/{silo name}</c>).
    /// It must be this silo's own disk and survive restarts; a restarted silo with the same name gets its log back.
    /// </summary>
    public string DataDirectory { get; set; } = "";

    /// <summary>
    /// Names of the silos whose replicas form the initial voting configuration. Every replica must be given the same
    /// list; a replica whose silo is not on it waits to be added.
    /// </summary>
    public IList<string> InitialVoters { get; set; } = [];

    /// <summary>Election timeout; the randomized timeout is drawn from [T, 2T) (Raft §5.2).</summary>
    public TimeSpan ElectionTimeout { get; set; } = TimeSpan.FromMilliseconds(150);

    /// <summary>Leader heartbeat interval; well below <see cref="ElectionTimeout"/>.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromMilliseconds(40);

    /// <summary>How often the replica's timer drives the core's clock.</summary>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Take a snapshot and compact the log once this many entries were applied since the last one.</summary>
    public int SnapshotEveryEntries { get; set; } = 10_000;
}

internal sealed class RaftReplicaOptionsValidator : IValidateOptions<RaftReplicaOptions>
{
    public ValidateOptionsResult Validate(string? name, RaftReplicaOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            failures.Add("raft:data_directory must name a directory on this silo's disk.");
        }

        if (options.InitialVoters.Count == 0 || options.InitialVoters.Any(string.IsNullOrWhiteSpace))
        {
            failures.Add($"raft:initial_voters must list at least one silo name; it is [{string.Join(", ", options.InitialVoters)}].");
        }

        if (options.HeartbeatInterval >= options.ElectionTimeout)
        {
            failures.Add($"raft:heartbeat_interval ({options.HeartbeatInterval}) must be shorter than raft:election_timeout ({options.ElectionTimeout}).");
        }

        if (options.TickInterval <= TimeSpan.Zero || options.TickInterval > options.HeartbeatInterval)
        {
            failures.Add($"raft:tick_interval ({options.TickInterval}) must be positive and at most raft:heartbeat_interval ({options.HeartbeatInterval}).");
        }

        if (options.SnapshotEveryEntries < 1)
        {
            failures.Add($"raft:snapshot_every_entries must be at least 1; it is {options.SnapshotEveryEntries}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
