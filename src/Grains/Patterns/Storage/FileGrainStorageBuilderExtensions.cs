using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Patterns.Storage;
using Orleans.Runtime.Hosting;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Orleans.Hosting;

/// <summary>
/// Registers the durable file-system grain storage provider of Orleans.Patterns.
/// </summary>
public static class FileGrainStorageBuilderExtensions
{
    /// <summary>
    /// Adds a grain storage provider named <paramref name="name"/> that keeps each grain's state in a
    /// file under <see cref="FileGrainStorageOptions.RootDirectory"/>. A write completes only once the
    /// new state is flushed to disk, so acknowledged state survives the loss of any silo.
    /// </summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="name">The provider name, as used in <c>[PersistentState(stateName, name)]</c>.</param>
    /// <param name="configure">Sets the options; <see cref="FileGrainStorageOptions.RootDirectory"/> is required.</param>
    /// <returns>The silo builder.</returns>
    public static ISiloBuilder AddFileGrainStorage(this ISiloBuilder builder, string name, Action<FileGrainStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddFileGrainStorage(name, configure);
        return builder;
    }

    /// <summary>
    /// Adds a grain storage provider named <paramref name="name"/> that keeps each grain's state in a
    /// file under <see cref="FileGrainStorageOptions.RootDirectory"/>.
    /// </summary>
    /// <param name="services">The silo's service collection.</param>
    /// <param name="name">The provider name, as used in <c>[PersistentState(stateName, name)]</c>.</param>
    /// <param name="configure">Sets the options; <see cref="FileGrainStorageOptions.RootDirectory"/> is required.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddFileGrainStorage(this IServiceCollection services, string name, Action<FileGrainStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(configure);

        services.AddOptions<FileGrainStorageOptions>(name).Configure(configure);
        services.ConfigureNamedOptionForLogging<FileGrainStorageOptions>(name);
        services.AddTransient<IConfigurationValidator>(sp => new FileGrainStorageOptionsValidator(GetOptions(sp, name), name));
        services.AddGrainStorage(name, Create);
        return services;
    }

    private static FileGrainStorage Create(IServiceProvider services, string name)
    {
        var options = GetOptions(services, name);
        new FileGrainStorageOptionsValidator(options, name).ValidateConfiguration();

        // Same precedence as Orleans' own providers: explicit option, then a serializer keyed by the
        // provider name, then the silo-wide default.
        var serializer = options.GrainStorageSerializer
            ?? services.GetKeyedService<IGrainStorageSerializer>(name)
            ?? services.GetRequiredService<IGrainStorageSerializer>();

        return new FileGrainStorage(
            name,
            options.RootDirectory!,
            serializer,
            services.GetRequiredService<IActivatorProvider>(),
            services.GetRequiredService<ILogger<FileGrainStorage>>());
    }

    private static FileGrainStorageOptions GetOptions(IServiceProvider services, string name) =>
        services.GetRequiredService<IOptionsMonitor<FileGrainStorageOptions>>().Get(name);
}
