namespace Orleans.Patterns.Silo.Configuration;

/// <summary>The <c>[coordination]</c> section: the shared configuration/coordination store.</summary>
public sealed class CoordinationSettings
{
    /// <summary>The configuration section these settings bind from.</summary>
    public const string SectionName = "coordination";

    /// <summary>The store backend, e.g. <c>"etcd"</c>.</summary>
    [ConfigurationKeyName("type")]
    public string Type { get; set; } = "etcd";

    /// <summary>Absolute URIs of the store; when left empty, <c>http://127.0.0.1:2379</c> is used.</summary>
    [ConfigurationKeyName("endpoints")]
    public IReadOnlyList<string> Endpoints { get; set; } = [];

    /// <summary>Timeout of a single request to the store.</summary>
    [ConfigurationKeyName("timeout")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Revisions of history the coordination store keeps for watchers and reads at old revisions; the Raft leader
    /// compacts older ones (etcd's <c>--auto-compaction-mode=revision</c>). 0 keeps everything.
    /// </summary>
    [ConfigurationKeyName("auto_compaction_retention")]
    public long AutoCompactionRetention { get; set; } = 10_000;

    /// <summary>Key prefix under which this cluster's entries live; must start with '/'.</summary>
    [ConfigurationKeyName("namespace")]
    public string Namespace { get; set; } = "/config";

    // The binder appends to a pre-filled collection instead of replacing it, so list defaults are applied after binding.
    internal static readonly IReadOnlyList<string> DefaultEndpoints = ["http://127.0.0.1:2379"];
}
