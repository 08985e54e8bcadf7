namespace Orleans.Patterns.Silo.Configuration;

/// <summary>Adds TSK files to a configuration builder.</summary>
public static class TskConfigurationExtensions
{
    /// <summary>
    /// Adds a TSK file (<c>[section]</c> headers, <c>key: value</c> lines) to <paramref name="builder"/>. Like other
    /// sources, later sources override earlier ones key by key. Also enables duration strings such as <c>"3s"</c>
    /// for <see cref="TimeSpan"/> binding, since TSK files write durations that way.
    /// </summary>
    /// <param name="builder">The configuration builder.</param>
    /// <param name="path">Path of the file; relative paths resolve against the current directory.</param>
    /// <param name="optional">When <c>true</c>, a missing file adds no keys instead of failing.</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    /// <exception cref="FileNotFoundException">When the configuration is built and a required file is missing.</exception>
    /// <exception cref="TskFormatException">When the configuration is built and the file is malformed.</exception>
    public static IConfigurationBuilder AddTskFile(this IConfigurationBuilder builder, string path, bool optional = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);

        DurationConverter.EnsureRegistered();
        return builder.Add(new TskConfigurationSource(path, optional));
    }
}
