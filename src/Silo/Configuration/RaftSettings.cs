namespace Orleans.Patterns.Silo.Configuration;

/// <summary>The <c>[raft]</c> section: membership and timing of this node's Raft group.</summary>
public sealed class RaftSettings
{
    /// <summary>The configuration section these settings bind from.</summary>
    public const string SectionName = "raft";

    /// <summary>Whether this silo takes part in Raft. The other settings are only validated when it does.</summary>
    [ConfigurationKeyName("enabled")]
    public bool Enabled { get; set; }

    /// <summary>Name of the Raft group; nodes only talk to peers with the same cluster id.</summary>
    [ConfigurationKeyName("cluster_id")]
    public string ClusterId { get; set; } = "cluster-1";

    /// <summary>This node's id; must be positive and must not appear in <see cref="Peers"/>.</summary>
    [ConfigurationKeyName("node_id")]
    public int NodeId { get; set; } = 1;

    /// <summary>Ids of the other nodes of the group.</summary>
    [ConfigurationKeyName("peers")]
    public IReadOnlyList<int> Peers { get; set; } = [];

    /// <summary>Election timeout: a follower that hears no heartbeat for this long starts an election.</summary>
    [ConfigurationKeyName("timeout")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How often the leader sends heartbeats; must be shorter than <see cref="Timeout"/>.</summary>
    [ConfigurationKeyName("heartbeat_interval")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(1);
}
