using Microsoft.Extensions.Options;

namespace Orleans.Patterns.Silo.Configuration;

/// <summary>Validates <see cref="ShardingSettings"/>.</summary>
internal sealed class ShardingSettingsValidator : IValidateOptions<ShardingSettings>
{
    private const string Prefix = ShardingSettings.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, ShardingSettings options)
    {
        var failures = new List<string>();
        SettingsValidation.RequireText(failures, Prefix + "type", options.Type);
        if (options.Type is not ("consistent_hashing" or "rendezvous"))
        {
            failures.Add($"{Prefix}type ('{options.Type}') must be \"consistent_hashing\" or \"rendezvous\"");
        }

        if (options.ShardCount is < 1 or > 65536)
        {
            failures.Add($"{Prefix}shard_count ({options.ShardCount}) must be between 1 and 65536");
        }

        if (options.LoadFactor != 0 && !(options.LoadFactor >= 1.0 && options.LoadFactor <= 10.0))
        {
            failures.Add($"{Prefix}load_factor ({options.LoadFactor}) must be 0 (no cap) or between 1.0 and 10.0");
        }

        if (options.MapSource is not ("raft" or "membership"))
        {
            failures.Add($"{Prefix}map_source ('{options.MapSource}') must be \"raft\" or \"membership\"");
        }

        if (options.IdleTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{Prefix}idle_timeout ({options.IdleTimeout}) must be positive");
        }

        if (options.ReplicationFactor < 1)
        {
            failures.Add($"{Prefix}replication_factor ({options.ReplicationFactor}) must be >= 1");
        }

        // With an explicit node list, more replicas than nodes could never be placed.
        if (options.Nodes.Count > 0 && options.ReplicationFactor > options.Nodes.Count)
        {
            failures.Add($"{Prefix}replication_factor ({options.ReplicationFactor}) must not exceed the number of " +
                $"{Prefix}nodes ({options.Nodes.Count})");
        }

        for (var i = 0; i < options.Nodes.Count; i++)
        {
            SettingsValidation.RequireText(failures, $"{Prefix}nodes:{i}", options.Nodes[i]);
        }

        SettingsValidation.RequireDistinct(failures, Prefix + "nodes", options.Nodes);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
