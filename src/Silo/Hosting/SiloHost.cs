using System.Net;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Patterns.Sharding;
using Orleans.Patterns.Silo.Configuration;

namespace Orleans.Patterns.Silo.Hosting;

/// <summary>
/// Builds and runs one silo process: configuration (appsettings.json &lt; TSK file &lt; environment &lt; command
/// line), clustering, placement, storage, chaos, the Raft replica, dashboard and telemetry. Everything is checked before anything
/// starts, so a bad configuration or an unreachable dependency stops the process with one clear line.
/// </summary>
public static class SiloHost
{
    public const int ExitOk = 0;
    public const int ExitConfigurationError = 2;
    public const int ExitDependencyUnreachable = 3;

    /// <summary>Short command-line switches for the settings a local cluster varies per silo.</summary>
    private static readonly Dictionary<string, string> SwitchMappings = new(StringComparer.Ordinal)
    {
        ["--name"] = "silo:name",
        ["--silo-port"] = "silo:silo_port",
        ["--gateway-port"] = "silo:gateway_port",
        ["--http-port"] = "silo:http_port",
        ["--etcd-port"] = "silo:etcd_port",
        ["--primary-port"] = "cluster:primary_silo_port",
        ["--clustering"] = "cluster:clustering",
        ["--redis"] = "cluster:redis",
        ["--storage"] = "storage:directory",
        ["--config"] = "config_file",
    };

    public static async Task<int> RunAsync(string[] args)
    {
        WebApplication app;
        try
        {
            app = await BuildAsync(args, CancellationToken.None);
        }
        catch (Exception e) when (e is SiloConfigurationException or TskFormatException or FileNotFoundException or FormatException)
        {
            await Console.Error.WriteLineAsync($"silo: configuration error: {e.Message}");
            return ExitConfigurationError;
        }
        catch (DependencyUnreachableException e)
        {
            await Console.Error.WriteLineAsync($"silo: {e.Message}");
            return ExitDependencyUnreachable;
        }

        await using (app)
        {
            try
            {
                await app.RunAsync();
                return ExitOk;
            }
            catch (OptionsValidationException e)
            {
                await Console.Error.WriteLineAsync($"silo: configuration error: {string.Join("; ", e.Failures)}");
                return ExitConfigurationError;
            }
        }
    }

    /// <summary>Builds a silo host from command-line style arguments; throws on bad configuration.</summary>
    public static async Task<WebApplication> BuildAsync(string[] args, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            // Child silos are started from any working directory; their appsettings.json sits beside the binary.
            ContentRootPath = AppContext.BaseDirectory,
        });
        AddConfigurationSources(builder.Configuration, args);

        var settings = HostSettings.Bind(builder.Configuration);
        var coordination = builder.Configuration.GetSection(CoordinationSettings.SectionName).Get<CoordinationSettings>() ?? new CoordinationSettings();
        var redis = settings.Cluster.Clustering == ClusteringKinds.Redis
            ? await RedisPreflight.ConnectOptionsAsync(settings.Cluster.Redis, cancellationToken)
            : null;

        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.WebHost.UseUrls($"http://{FormatHost(settings.Address)}:{settings.Silo.HttpPort}");
        builder.Services.AddPatternSettings(builder.Configuration);
        builder.Services.AddSingleton(settings);
        builder.AddPatternsTelemetry(settings);

        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = settings.Cluster.ClusterId;
                o.ServiceId = settings.Cluster.ServiceId;
            });
            silo.Configure<SiloOptions>(o => o.SiloName = settings.Silo.Name);
            if (redis is null)
            {
                silo.UseLocalhostClustering(
                    settings.Silo.SiloPort, settings.Silo.GatewayPort,
                    new IPEndPoint(settings.Address, settings.Cluster.PrimarySiloPort),
                    settings.Cluster.ServiceId, settings.Cluster.ClusterId);
            }
            else
            {
                silo.UseRedisClustering(o => o.ConfigurationOptions = redis);
                silo.ConfigureEndpoints(settings.Address, settings.Silo.SiloPort, settings.Silo.GatewayPort, listenOnAnyHostAddress: false);
            }

            silo.AddConsistentHashPlacement(o => o.VirtualNodes = settings.Placement.VirtualNodes ?? o.VirtualNodes);
            silo.AddSiloPinnedPlacement();
            silo.AddChaos();
            silo.AddRaftReplicas(o =>
            {
                o.DataDirectory = settings.RaftDataDirectory;
                o.InitialVoters = [.. settings.RaftInitialVoters];
                o.ElectionTimeout = settings.RaftElectionTimeout;
                o.HeartbeatInterval = settings.RaftHeartbeatInterval;
                o.TickInterval = HostSettings.ReplicaTick;
                o.RemovalGracePeriod = settings.Raft.RemovalGracePeriod ?? o.RemovalGracePeriod;
                o.SnapshotEveryEntries = settings.Raft.SnapshotEveryEntries ?? o.SnapshotEveryEntries;
                o.LeaseReads = settings.Raft.LeaseReads ?? o.LeaseReads;
                o.GatherWait = settings.Raft.GatherWait ?? o.GatherWait;
                o.PeerTransport = settings.Raft.PeerTransport ?? o.PeerTransport;
                o.PeerTransportPort = settings.Raft.PeerTransportPort ?? o.PeerTransportPort;
                o.CoordinationRetention = coordination.AutoCompactionRetention;
            });
            silo.AddGossipMembership(o =>
            {
                var gossip = settings.Gossip;
                o.Swim = o.Swim with
                {
                    ProbeInterval = gossip.ProbeInterval ?? o.Swim.ProbeInterval,
                    ProbeTimeout = gossip.ProbeTimeout ?? o.Swim.ProbeTimeout,
                };
                o.Watchdog = o.Watchdog with
                {
                    HeartbeatInterval = gossip.HeartbeatInterval ?? o.Watchdog.HeartbeatInterval,
                    Detector = o.Watchdog.Detector with { Threshold = gossip.PhiThreshold ?? o.Watchdog.Detector.Threshold },
                };
            });
            silo.Services.AddSingleton<ShutdownStallReporter>();
            silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<ShutdownStallReporter>());
            silo.AddUserGrains();
            silo.AddUserSharding(o =>
            {
                var sharding = settings.Sharding;
                o.MapSource = sharding.MapSource == "membership" ? ShardMapSource.Membership : ShardMapSource.Raft;
                o.ShardCount = sharding.ShardCount;
                o.Allocator = sharding.Type == "rendezvous" ? "rendezvous" : "ring";
                o.LoadFactor = sharding.LoadFactor == 0 ? null : sharding.LoadFactor;
                o.IdleTimeout = sharding.IdleTimeout;
                o.SplitHotShards = sharding.SplitHotShards;
            });
            silo.AddFileGrainStorage(UserHostingExtensions.UserStorageName, o => o.RootDirectory = settings.StorageDirectory);
            if (settings.Dashboard.Enabled)
            {
                silo.AddDashboard();
            }

            if (settings.Silo.EtcdPort != 0)
            {
                silo.AddEtcdApi(o =>
                {
                    o.Address = settings.Address;
                    o.Port = settings.Silo.EtcdPort;
                });
            }

            if (settings.Telemetry.Exporter != TelemetryExporters.None)
            {
                silo.AddActivityPropagation();
            }
        });

        var app = builder.Build();
        if (settings.Dashboard.Enabled)
        {
            app.MapOrleansDashboard(settings.Dashboard.Path);
        }

        app.MapPatternsViews(settings);
        return app;
    }

    /// <summary>
    /// Adds the TSK file named by <c>--config</c> above the JSON files and below environment and command line,
    /// and the short switches on top.
    /// </summary>
    private static void AddConfigurationSources(ConfigurationManager configuration, string[] args)
    {
        configuration.AddCommandLine(args, SwitchMappings);
        var tskPath = configuration["config_file"];
        if (!string.IsNullOrWhiteSpace(tskPath))
        {
            var lastJson = configuration.Sources.ToList().FindLastIndex(s => s is JsonConfigurationSource);
            var tsk = new ConfigurationBuilder().AddTskFile(Path.GetFullPath(tskPath)).Sources[0];
            configuration.Sources.Insert(lastJson + 1, tsk);
        }
    }

    private static string FormatHost(IPAddress address) =>
        address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
}
