namespace Orleans.Patterns.Silo.Configuration;

/// <summary>The <c>[sharding]</c> section: how keys are spread over nodes.</summary>
public sealed class ShardingSettings
{
    /// <summary>The configuration section these settings bind from.</summary>
    public const string SectionName = "sharding";

    /// <summary>How shards are allocated to silos: <c>consistent_hashing</c> (a ring with virtual nodes) or <c>rendezvous</c> (highest random weight).</summary>
    [ConfigurationKeyName("type")]
    public string Type { get; set; } = "consistent_hashing";

    /// <summary>Virtual shards users are hashed into; fixed for the life of a cluster.</summary>
    [ConfigurationKeyName("shard_count")]
    public int ShardCount { get; set; } = 4096;

    /// <summary>Bounded-load factor c (no silo owns more than ⌈c · average⌉ shards); 0 turns the cap off.</summary>
    [ConfigurationKeyName("load_factor")]
    public double LoadFactor { get; set; } = 1.10;

    /// <summary>Where the shard map is agreed: <c>raft</c> (committed through the Raft log) or <c>membership</c> (derived by each silo).</summary>
    [ConfigurationKeyName("map_source")]
    public string MapSource { get; set; } = "raft";

    /// <summary>Idle user grains are passivated after this long.</summary>
    [ConfigurationKeyName("idle_timeout")]
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Split a shard whose load dwarfs the others, and merge it back when it cools.</summary>
    [ConfigurationKeyName("split_hot_shards")]
    public bool SplitHotShards { get; set; } = true;

    /// <summary>Names of the shard nodes; empty means "the silos currently in the cluster". Checked, not yet used by user sharding, which follows the active silos.</summary>
    [ConfigurationKeyName("nodes")]
    public IReadOnlyList<string> Nodes { get; set; } = [];

    /// <summary>How many nodes hold each key; at least 1 and at most the number of listed nodes. Checked, not yet used: a user has one owner and durable storage.</summary>
    [ConfigurationKeyName("replication_factor")]
    public int ReplicationFactor { get; set; } = 1;
}
