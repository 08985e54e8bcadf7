using Microsoft.Extensions.Options;

namespace Orleans.Patterns.Silo.Configuration;

/// <summary>Validates <see cref="CoordinationSettings"/>.</summary>
internal sealed class CoordinationSettingsValidator : IValidateOptions<CoordinationSettings>
{
    private const string Prefix = CoordinationSettings.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, CoordinationSettings options)
    {
        var failures = new List<string>();
        SettingsValidation.RequireText(failures, Prefix + "type", options.Type);
        for (var i = 0; i < options.Endpoints.Count; i++)
        {
            if (!Uri.TryCreate(options.Endpoints[i], UriKind.Absolute, out _))
            {
                failures.Add($"{Prefix}endpoints:{i} ('{options.Endpoints[i]}') must be an absolute URI such as http://127.0.0.1:2379");
            }
        }

        SettingsValidation.RequirePositive(failures, Prefix + "timeout", options.Timeout);
        if (options.AutoCompactionRetention < 0)
        {
            failures.Add($"{Prefix}auto_compaction_retention ({options.AutoCompactionRetention}) must be 0 (keep all history) or a positive number of revisions");
        }

        SettingsValidation.RequireRootedPath(failures, Prefix + "namespace", options.Namespace);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
