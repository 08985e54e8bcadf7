namespace Orleans.Patterns.Silo.Configuration;

/// <summary>The <c>[sharding]</c> section: how keys are spread over nodes.</summary>
public sealed class ShardingSettings
{
    /// <summary>The configuration section these settings bind from.</summary>
    public const string SectionName = "sharding";

    /// <summary>The placement strategy, e.g. <c>"consistent_hashing"</c>.</summary>
    [ConfigurationKeyName("type")]
    public string Type { get; set; } = "consistent_hashing";

    /// <summary>Names of the shard nodes; empty means "the silos currently in the cluster".</summary>
    [ConfigurationKeyName("nodes")]
    public IReadOnlyList<string> Nodes { get; set; } = [];

    /// <summary>How many nodes hold each key; at least 1 and at most the number of listed nodes.</summary>
    [ConfigurationKeyName("replication_factor")]
    public int ReplicationFactor { get; set; } = 1;
}
