namespace Orleans.Patterns.Silo.Configuration;

/// <summary>
/// Loads a TSK file. A plain provider rather than a FileConfigurationProvider: the latter wraps parse errors in
/// an InvalidDataException and resolves paths against the content root, while a <c>--config</c> argument is
/// expected to resolve against the current directory and to report <c>file:line:column</c> directly.
/// </summary>
internal sealed class TskConfigurationProvider(TskConfigurationSource source) : ConfigurationProvider
{
    public override void Load()
    {
        var fullPath = Path.GetFullPath(source.Path);
        if (!File.Exists(fullPath))
        {
            if (source.Optional)
            {
                Data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
                return;
            }

            throw new FileNotFoundException(
                $"The configuration file '{source.Path}' was not found (looked for '{fullPath}').", fullPath);
        }

        Data = TskParser.Parse(File.ReadAllText(fullPath), source.Path);
    }

    public override string ToString() => $"{GetType().Name} for '{source.Path}' ({(source.Optional ? "Optional" : "Required")})";
}
