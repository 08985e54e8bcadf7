using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Patterns.Chaos;

namespace Orleans.Hosting;

/// <summary>Switches fault injection (chaos) on for a silo.</summary>
public static class ChaosHostingExtensions
{
    /// <summary>
    /// Registers the chaos grain-call filters, the silo's rule store and its pinned <see cref="IChaosControlGrain"/>
    /// (and silo-pinned placement, which that grain needs). The silo starts with no rules; set them with
    /// <see cref="ChaosCluster"/> or a silo's control grain.
    /// </summary>
    /// <remarks>
    /// What can be faulted: calls between two different silos to application grain interfaces. What cannot:
    /// calls from clients (their request context is untrusted and they have no silo name), calls within one silo,
    /// Orleans' own grains, system targets and grain extensions, and Orleans' membership probes and gossip (not
    /// grain calls at all: a partition here never makes Orleans declare a silo dead). A drop loses the request
    /// before the callee runs, never the reply after it ran. A delay holds the callee's turn. A duplicate runs
    /// the callee twice back to back in one turn, not concurrently or reordered. Rules are per silo; a silo that
    /// joins later starts without rules.
    /// </remarks>
    public static ISiloBuilder AddChaos(this ISiloBuilder builder, Action<ChaosOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<ChaosOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        // A second call only adds configuration: registering the filters twice would stamp and fault twice.
        if (builder.Services.Any(d => d.ServiceType == typeof(ChaosRuleStore)))
        {
            return builder;
        }

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ChaosOptions>, ChaosOptionsValidator>());
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ChaosRuleStore>();
        builder.Services.TryAddSingleton<ChaosScope>();
        builder.AddSiloPinnedPlacement();
        builder.AddOutgoingGrainCallFilter<ChaosOutgoingCallFilter>();
        builder.AddIncomingGrainCallFilter<ChaosIncomingCallFilter>();
        return builder;
    }
}
