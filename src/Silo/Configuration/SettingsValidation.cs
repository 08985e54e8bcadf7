namespace Orleans.Patterns.Silo.Configuration;

/// <summary>Checks shared by the settings validators; every message starts with the configuration key it is about.</summary>
internal static class SettingsValidation
{
    public static void RequireText(List<string> failures, string key, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            failures.Add($"{key} must not be empty");
        }
    }

    public static void RequirePositive(List<string> failures, string key, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"{key} ({Duration.Format(value)}) must be positive");
        }
    }

    public static void RequireRootedPath(List<string> failures, string key, string? value)
    {
        if (value is null || !value.StartsWith('/'))
        {
            failures.Add($"{key} ('{value}') must start with '/'");
        }
    }

    public static void RequireDistinct<T>(List<string> failures, string key, IEnumerable<T> values)
    {
        foreach (var group in values.GroupBy(v => v).Where(g => g.Count() > 1))
        {
            failures.Add($"{key} lists '{group.Key}' more than once");
        }
    }
}
