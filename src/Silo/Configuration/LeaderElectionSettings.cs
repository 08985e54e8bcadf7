using Orleans.Patterns.Coordination;

namespace Orleans.Patterns.Silo.Configuration;

/// <summary>
/// The <c>[leader_election]</c> section: which backend elects a leader and where. With <c>type: raft</c> the election
/// runs on the cluster's own coordination store (<see cref="LeaderElection"/>): <c>election_path</c> is its prefix and
/// <c>timeout</c> its candidates' lease TTL; <c>zk_hosts</c> is then ignored.
/// </summary>
public sealed class LeaderElectionSettings
{
    /// <summary>The configuration section these settings bind from.</summary>
    public const string SectionName = "leader_election";

    /// <summary>The election backend: <c>"zookeeper"</c> or <c>"raft"</c> (the cluster's own coordination store).</summary>
    [ConfigurationKeyName("type")]
    public string Type { get; set; } = "zookeeper";

    /// <summary>ZooKeeper hosts as <c>host:port</c>; when left empty, <c>127.0.0.1:2181</c> is used.</summary>
    [ConfigurationKeyName("zk_hosts")]
    public IReadOnlyList<string> ZkHosts { get; set; } = [];

    /// <summary>The node path under which candidates register; must start with '/'.</summary>
    [ConfigurationKeyName("election_path")]
    public string ElectionPath { get; set; } = "/election/leader";

    /// <summary>How long a leader's claim lasts without renewal.</summary>
    [ConfigurationKeyName("timeout")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The backend that runs on the cluster's own coordination store.</summary>
    public const string RaftType = "raft";

    /// <summary>An external ZooKeeper ensemble.</summary>
    public const string ZooKeeperType = "zookeeper";

    /// <summary>Whether the election runs on the cluster's own store.</summary>
    public bool UsesCoordinationStore => string.Equals(Type, RaftType, StringComparison.OrdinalIgnoreCase);

    /// <summary>The coordination-store election these settings describe: <c>election_path</c> as the prefix, <c>timeout</c> as the session TTL.</summary>
    /// <exception cref="InvalidOperationException">The type is not <c>raft</c>.</exception>
    public LeaderElectionOptions ToElectionOptions() => UsesCoordinationStore
        ? new LeaderElectionOptions { Prefix = ElectionPath, SessionTtl = Timeout }
        : throw new InvalidOperationException($"leader_election:type is '{Type}': only type '{RaftType}' runs on the coordination store.");

    // The binder appends to a pre-filled collection instead of replacing it, so list defaults are applied after binding.
    internal static readonly IReadOnlyList<string> DefaultZkHosts = ["127.0.0.1:2181"];
}
