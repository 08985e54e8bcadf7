using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Patterns.Gossip;

namespace Orleans.Hosting;

/// <summary>Switches the per-silo gossip member and heartbeat watchdog on.</summary>
public static class GossipHostingExtensions
{
    /// <summary>
    /// Registers one SWIM gossip member and one heartbeat watchdog per silo (keyed by the silo's name, pinned to it),
    /// both started when the silo becomes active. Also switches silo-pinned placement on.
    /// </summary>
    public static ISiloBuilder AddGossipMembership(this ISiloBuilder builder, Action<GossipOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddSiloPinnedPlacement();
        var options = builder.Services.AddOptions<GossipOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GossipOptions>, GossipOptionsValidator>());
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<LocalGossipVerdicts>();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ILifecycleParticipant<ISiloLifecycle>, GossipStartup>());
        return builder;
    }
}

/// <summary>Starts this silo's gossip member and watchdog once the silo is active (they can be placed only on it).</summary>
internal sealed class GossipStartup(IGrainFactory grains, ILocalSiloDetails localSilo) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(GossipStartup), ServiceLifecycleStage.Active, async _ =>
        {
            await grains.GetGrain<IGossipGrain>(localSilo.Name).Start();
            await grains.GetGrain<IHeartbeatWatchdogGrain>(localSilo.Name).Start();
        });
}
