using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Orleans.Hosting;

/// <summary>Switches the workload's user grains on for a silo.</summary>
public static class UserHostingExtensions
{
    /// <summary>
    /// Name of the grain storage provider that must hold user state. It should be durable and shared by
    /// all silos (a user re-activates elsewhere when its silo leaves), e.g. file storage on a shared
    /// directory for local clusters.
    /// </summary>
    public const string UserStorageName = "users";

    /// <summary>Registers what user grains need. Ring-placed users also need <c>AddConsistentHashPlacement</c>.</summary>
    public static ISiloBuilder AddUserGrains(this ISiloBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddPatternsMetrics();
        return builder;
    }
}
