namespace Orleans.Patterns.Silo.Configuration;

/// <summary>A TSK file as a configuration source; see <see cref="TskConfigurationExtensions.AddTskFile"/>.</summary>
internal sealed class TskConfigurationSource(string path, bool optional) : IConfigurationSource
{
    /// <summary>The path as the user gave it (relative paths resolve against the current directory).</summary>
    public string Path { get; } = path;

    public bool Optional { get; } = optional;

    public IConfigurationProvider Build(IConfigurationBuilder builder) => new TskConfigurationProvider(this);
}
