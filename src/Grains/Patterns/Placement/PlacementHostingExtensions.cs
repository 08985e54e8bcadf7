using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Patterns.Placement;
using Orleans.Patterns.Telemetry;
using Orleans.Runtime.GrainDirectory;

namespace Orleans.Hosting;

/// <summary>Switches consistent-hash placement on for a silo.</summary>
public static class PlacementHostingExtensions
{
    /// <summary>
    /// Registers <see cref="ConsistentHashPlacement"/> and its director, so grain classes marked
    /// <see cref="ConsistentHashPlacementAttribute"/> are placed by the ring.
    /// </summary>
    public static ISiloBuilder AddConsistentHashPlacement(
        this ISiloBuilder builder, Action<ConsistentHashPlacementOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<ConsistentHashPlacementOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.TryAddEnumerable(
            ServiceDescriptor.Singleton<IValidateOptions<ConsistentHashPlacementOptions>, ConsistentHashPlacementOptionsValidator>());
        builder.Services.AddPatternsMetrics();
        builder.AddPlacementDirector<ConsistentHashPlacement, ConsistentHashPlacementDirector>();
        return builder;
    }

    /// <summary>
    /// Registers <see cref="SiloPinnedPlacement"/> and its director, so grain classes marked
    /// <see cref="SiloPinnedPlacementAttribute"/> (one grain per silo, keyed by silo name) can be placed, and
    /// locates those grains from membership instead of Orleans' directory (see <see cref="SiloPinnedGrainDirectory"/>).
    /// Safe to call more than once; modules built on pinned grains call it themselves.
    /// </summary>
    public static ISiloBuilder AddSiloPinnedPlacement(this ISiloBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.Services.Any(d => d.ServiceType == typeof(SiloPinnedPlacementDirector)))
        {
            return builder;
        }

        // Registered plainly as well, so the check above sees it; Orleans resolves the director by strategy key.
        builder.Services.AddSingleton<SiloPinnedPlacementDirector>();
        builder.AddPlacementDirector<SiloPinnedPlacement>(sp => sp.GetRequiredService<SiloPinnedPlacementDirector>());
        builder.Services.AddSingleton<SiloPinnedGrainDirectory>();
        builder.Services.AddSingleton<IGrainDirectoryResolver, SiloPinnedGrainDirectoryResolver>();
        return builder;
    }

    internal static IServiceCollection AddPatternsMetrics(this IServiceCollection services)
    {
        services.AddMetrics();
        services.TryAddSingleton<PatternsMetrics>();
        return services;
    }
}
