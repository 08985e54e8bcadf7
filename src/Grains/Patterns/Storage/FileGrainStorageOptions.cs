using Orleans.Storage;

namespace Orleans.Patterns.Storage;

/// <summary>
/// Options for the durable file-system grain storage provider registered with
/// <c>AddFileGrainStorage</c>.
/// </summary>
public sealed class FileGrainStorageOptions
{
    /// <summary>
    /// Gets or sets the directory that holds the state files. Required. Every silo that may host a
    /// grain using this provider must point at the same directory, so that state written on one
    /// silo is found by the activation that replaces it on another.
    /// </summary>
    public string? RootDirectory { get; set; }

    /// <summary>
    /// Gets or sets the serializer for grain state. When <see langword="null"/>, the serializer
    /// registered as a keyed <see cref="IGrainStorageSerializer"/> under the provider's name is used,
    /// otherwise the silo's default <see cref="IGrainStorageSerializer"/>.
    /// </summary>
    public IGrainStorageSerializer? GrainStorageSerializer { get; set; }
}

/// <summary>Fails silo start-up when a named file storage provider has no usable root directory.</summary>
internal sealed class FileGrainStorageOptionsValidator(FileGrainStorageOptions options, string name) : IConfigurationValidator
{
    public void ValidateConfiguration()
    {
        if (string.IsNullOrWhiteSpace(options.RootDirectory))
        {
            throw new OrleansConfigurationException(
                $"File grain storage '{name}': {nameof(FileGrainStorageOptions.RootDirectory)} must be set to a directory shared by all silos.");
        }

        if (options.RootDirectory.AsSpan().IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            throw new OrleansConfigurationException(
                $"File grain storage '{name}': {nameof(FileGrainStorageOptions.RootDirectory)} '{options.RootDirectory}' contains invalid path characters.");
        }
    }
}
