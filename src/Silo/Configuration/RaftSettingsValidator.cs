using Microsoft.Extensions.Options;

namespace Orleans.Patterns.Silo.Configuration;

/// <summary>Validates <see cref="RaftSettings"/> when Raft is enabled; a disabled section may hold anything.</summary>
internal sealed class RaftSettingsValidator : IValidateOptions<RaftSettings>
{
    private const string Prefix = RaftSettings.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, RaftSettings options)
    {
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        var failures = new List<string>();
        SettingsValidation.RequireText(failures, Prefix + "cluster_id", options.ClusterId);
        if (options.NodeId < 1)
        {
            failures.Add($"{Prefix}node_id ({options.NodeId}) must be >= 1");
        }

        foreach (var peer in options.Peers.Where(p => p < 1))
        {
            failures.Add($"{Prefix}peers contains {peer}; node ids must be >= 1");
        }

        if (options.Peers.Contains(options.NodeId))
        {
            failures.Add($"{Prefix}peers must not contain this node's own {Prefix}node_id ({options.NodeId})");
        }

        SettingsValidation.RequireDistinct(failures, Prefix + "peers", options.Peers);
        SettingsValidation.RequirePositive(failures, Prefix + "timeout", options.Timeout);
        SettingsValidation.RequirePositive(failures, Prefix + "heartbeat_interval", options.HeartbeatInterval);

        // A heartbeat slower than the election timeout makes followers depose a healthy leader over and over.
        if (options.HeartbeatInterval >= options.Timeout)
        {
            failures.Add($"{Prefix}heartbeat_interval ({Duration.Format(options.HeartbeatInterval)}) must be shorter than " +
                $"{Prefix}timeout ({Duration.Format(options.Timeout)})");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
