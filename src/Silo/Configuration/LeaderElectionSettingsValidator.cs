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
        if (string.Equals(options.Type, "zookeeper", StringComparison.OrdinalIgnoreCase))
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
