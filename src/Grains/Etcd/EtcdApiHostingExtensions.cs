using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Patterns.Etcd;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Orleans.Hosting;

/// <summary>Switches the etcd v3 gRPC API on.</summary>
public static class EtcdApiHostingExtensions
{
    /// <summary>The silo metadata key under which each silo publishes its etcd client URL (for <c>MemberList</c>).</summary>
    public const string ClientUrlMetadataKey = "patterns.etcd.client-url";

    /// <summary>
    /// Serves etcd's v3 gRPC API (KV, Watch, Lease, Cluster.MemberList, Maintenance.Status) on its own plaintext HTTP/2
    /// endpoint, started once the silo is active and stopped before it leaves. Requests go to the coordination store on
    /// the Raft replicas: writes and linearizable reads through the leader, serializable reads and watches served by
    /// this silo's own replica. Needs <c>AddRaftReplicas</c>. Works in any silo host, web application or not.
    /// </summary>
    public static ISiloBuilder AddEtcdApi(this ISiloBuilder builder, Action<EtcdApiOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new EtcdApiOptions();
        configure(options);
        builder.Services.AddOptions<EtcdApiOptions>().Configure(configure).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EtcdApiOptions>, EtcdApiOptionsValidator>());
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<EtcdMember>();
        builder.Services.AddSingleton<EtcdApiServer>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<EtcdApiServer>());
        builder.UseSiloMetadata(new Dictionary<string, string> { [ClientUrlMetadataKey] = options.ClientUrl });
        return builder;
    }
}
