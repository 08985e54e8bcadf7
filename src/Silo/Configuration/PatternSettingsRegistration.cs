using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Orleans.Patterns.Silo.Configuration;

/// <summary>Registers the pattern settings sections (<c>raft</c>, <c>leader_election</c>, <c>sharding</c>, <c>coordination</c>).</summary>
public static class PatternSettingsRegistration
{
    /// <summary>
    /// Binds <see cref="RaftSettings"/>, <see cref="LeaderElectionSettings"/>, <see cref="ShardingSettings"/> and
    /// <see cref="CoordinationSettings"/> from <paramref name="configuration"/> and validates them when the host
    /// starts, so a bad value (including an unparsable duration) stops the host instead of surfacing later.
    /// Durations may be written as <c>"3s"</c> in any configuration source.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The root configuration holding the sections.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddPatternSettings(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        // appsettings.json or environment variables may carry "3s" too, not only TSK files.
        DurationConverter.EnsureRegistered();

        services.AddOptions<RaftSettings>()
            .Bind(configuration.GetSection(RaftSettings.SectionName))
            .ValidateOnStart();
        services.AddOptions<LeaderElectionSettings>()
            .Bind(configuration.GetSection(LeaderElectionSettings.SectionName))
            .PostConfigure(s => s.ZkHosts = s.ZkHosts.Count == 0 ? LeaderElectionSettings.DefaultZkHosts : s.ZkHosts)
            .ValidateOnStart();
        // With leader_election:type raft, hosted code asks for the election as the section describes it.
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<LeaderElectionSettings>>().Value.ToElectionOptions());
        services.AddOptions<ShardingSettings>()
            .Bind(configuration.GetSection(ShardingSettings.SectionName))
            .ValidateOnStart();
        services.AddOptions<CoordinationSettings>()
            .Bind(configuration.GetSection(CoordinationSettings.SectionName))
            .PostConfigure(s => s.Endpoints = s.Endpoints.Count == 0 ? CoordinationSettings.DefaultEndpoints : s.Endpoints)
            .ValidateOnStart();

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RaftSettings>, RaftSettingsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LeaderElectionSettings>, LeaderElectionSettingsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ShardingSettings>, ShardingSettingsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CoordinationSettings>, CoordinationSettingsValidator>());
        return services;
    }
}
