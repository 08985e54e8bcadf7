namespace Orleans.Patterns.Silo.Configuration;

/// <summary>The <c>[leader_election]</c> section: which backend elects a leader and where.</summary>
public sealed class LeaderElectionSettings
{
    /// <summary>The configuration section these settings bind from.</summary>
    public const string SectionName = "leader_election";

    /// <summary>The election backend, e.g. <c>"zookeeper"</c>.</summary>
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

    // The binder appends to a pre-filled collection instead of replacing it, so list defaults are applied after binding.
    internal static readonly IReadOnlyList<string> DefaultZkHosts = ["127.0.0.1:2181"];
}
