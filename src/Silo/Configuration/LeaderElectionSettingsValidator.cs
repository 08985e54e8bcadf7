using Microsoft.Extensions.Options;

namespace Orleans.Patterns.Silo.Configuration;

/// <summary>Validates <see cref="LeaderElectionSettings"/>.</summary>
internal sealed class LeaderElectionSettingsValidator : IValidateOptions<LeaderElectionSettings>
{
    private const string Prefix = LeaderElectionSettings.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, LeaderElectionSettings options)
    {
        var failures = new List<string>();
        SettingsValidation.RequireText(failures, Prefix + "type", options.Type);
        var zookeeper = string.Equals(options.Type, LeaderElectionSettings.ZooKeeperType, StringComparison.OrdinalIgnoreCase);
        if (!string.IsNullOrWhiteSpace(options.Type) && !zookeeper && !options.UsesCoordinationStore)
        {
            failures.Add($"{Prefix}type ('{options.Type}') must be '{LeaderElectionSettings.ZooKeeperType}' or '{LeaderElectionSettings.RaftType}'");
        }

        if (options.UsesCoordinationStore && options.Timeout > TimeSpan.Zero && options.Timeout.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            // The timeout becomes a lease TTL, which the store counts in whole seconds.
            failures.Add($"{Prefix}timeout ({Duration.Format(options.Timeout)}) must be a whole number of seconds with type '{LeaderElectionSettings.RaftType}'");
        }

        if (zookeeper)
        {
            for (var i = 0; i < options.ZkHosts.Count; i++)
            {
                if (!IsHostAndPort(options.ZkHosts[i]))
                {
                    failures.Add($"{Prefix}zk_hosts:{i} ('{options.ZkHosts[i]}') must be host:port");
                }
            }
        }

        SettingsValidation.RequireRootedPath(failures, Prefix + "election_path", options.ElectionPath);
        SettingsValidation.RequirePositive(failures, Prefix + "timeout", options.Timeout);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsHostAndPort(string value)
    {
        var colon = value.LastIndexOf(':');
        return colon > 0
            && ushort.TryParse(value.AsSpan(colon + 1), out var port)
            && port > 0;
    }
}
