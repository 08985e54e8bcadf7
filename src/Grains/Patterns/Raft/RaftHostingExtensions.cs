using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Patterns.Raft;
using Orleans.Patterns.Raft.Transport;

namespace Orleans.Hosting;

/// <summary>Switches the per-silo Raft replicas on.</summary>
public static class RaftHostingExtensions
{
    /// <summary>
    /// Registers one Raft replica grain per silo (keyed by the silo's name, pinned to it) with its log on this
    /// silo's disk. Also switches silo-pinned placement on.
    /// </summary>
    public static ISiloBuilder AddRaftReplicas(this ISiloBuilder builder, Action<RaftReplicaOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.AddSiloPinnedPlacement();
        builder.Services.AddPatternsMetrics();
        builder.Services.AddOptions<RaftReplicaOptions>().Configure(configure).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RaftReplicaOptions>, RaftReplicaOptionsValidator>());
        builder.Services.TryAddSingleton(TimeProvider.System);
        if (!builder.Services.Any(d => d.ServiceType == typeof(RaftPeerTransport)))
        {
            builder.Services.AddSingleton<RaftPeerTransport>();
            builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<RaftPeerTransport>());
        }

        return builder;
    }
}
