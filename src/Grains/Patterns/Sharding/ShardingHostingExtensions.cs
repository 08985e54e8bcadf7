using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Patterns.Sharding;

namespace Orleans.Hosting;

/// <summary>Switches user-based sharding on for a silo.</summary>
public static class ShardingHostingExtensions
{
    /// <summary>
    /// Registers the shard map agent, <see cref="ShardedPlacement"/> and its director, the sharded user grain and the
    /// per-silo shard host. With <see cref="ShardMapSource.Raft"/>, <c>AddRaftReplicas</c> must be on as well. User
    /// grains also need <c>AddUserGrains</c> and the <c>users</c> storage provider.
    /// </summary>
    public static ISiloBuilder AddUserSharding(this ISiloBuilder builder, Action<ShardingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddSiloPinnedPlacement();
        var options = builder.Services.AddOptions<ShardingOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ShardingOptions>, ShardingOptionsValidator>());
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddPatternsMetrics();
        builder.Services.TryAddSingleton<LocalShardRegistry>();
        builder.Services.TryAddSingleton<ShardMapAgent>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<ShardMapAgent>());
        builder.AddPlacementDirector<ShardedPlacement, ShardedPlacementDirector>();

        // Passivation: idle users leave memory after the configured time; their state is durable. Orleans checks for
        // idle grains once per collection quantum (1 min by default) and insists every age limit exceed it, so a
        // shorter idle timeout shortens the quantum to half of it.
        builder.Services.AddOptions<GrainCollectionOptions>().Configure<IOptions<ShardingOptions>>((collection, sharding) =>
        {
            var idle = sharding.Value.IdleTimeout;
            collection.ClassSpecificCollectionAge[typeof(ShardedUserGrain).FullName!] = idle;
            if (idle > TimeSpan.Zero && idle <= collection.CollectionQuantum)
            {
                collection.CollectionQuantum = idle / 2;
            }
        });
        return builder;
    }
}
