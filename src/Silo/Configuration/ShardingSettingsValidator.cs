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
