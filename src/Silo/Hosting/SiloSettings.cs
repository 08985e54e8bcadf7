using System.Globalization;
using System.Net;
using Orleans.Patterns.Raft;
using Orleans.Patterns.Silo.Configuration;

namespace Orleans.Patterns.Silo.Hosting;

/// <summary>This silo's identity and ports (configuration section <c>silo</c>).</summary>
public sealed class SiloSettings
{
    public const string SectionName = "silo";

    /// <summary>Stable name of the silo (<c>silo-1</c>…), shown in the dashboard and used by per-silo grains.</summary>
    [ConfigurationKeyName("name")] public string Name { get; set; } = "silo-1";

    /// <summary>Address the silo binds and advertises; loopback unless silos span machines.</summary>
    [ConfigurationKeyName("address")] public string Address { get; set; } = "127.0.0.1";

    [ConfigurationKeyName("silo_port")] public int SiloPort { get; set; } = 11111;

    [ConfigurationKeyName("gateway_port")] public int GatewayPort { get; set; } = 30000;

    /// <summary>Port of the silo's HTTP endpoint: the Orleans dashboard and the project's own views.</summary>
    [ConfigurationKeyName("http_port")] public int HttpPort { get; set; } = 8080;

    /// <summary>
    /// Port of the silo's etcd v3 gRPC endpoint (plaintext HTTP/2, on <see cref="Address"/>), for etcdctl and etcd
    /// clients; 0 (the default) leaves it off. <c>cluster up</c> gives every silo one.
    /// </summary>
    [ConfigurationKeyName("etcd_port")] public int EtcdPort { get; set; }
}

/// <summary>Which cluster to join and how to find it (configuration section <c>cluster</c>).</summary>
public sealed class ClusterSettings
{
    public const string SectionName = "cluster";

    [ConfigurationKeyName("cluster_id")] public string ClusterId { get; set; } = "orleans-patterns";

    [ConfigurationKeyName("service_id")] public string ServiceId { get; set; } = "orleans-patterns";

    /// <summary><c>localhost</c> (embedded default: the primary silo holds the membership table) or <c>redis</c>.</summary>
    [ConfigurationKeyName("clustering")] public string Clustering { get; set; } = ClusteringKinds.Localhost;

    /// <summary>Localhost clustering: silo port of the primary silo, which hosts the membership table.</summary>
    [ConfigurationKeyName("primary_silo_port")] public int PrimarySiloPort { get; set; } = 11111;

    /// <summary>Redis clustering: a StackExchange.Redis connection string, e.g. <c>127.0.0.1:6379</c>.</summary>
    [ConfigurationKeyName("redis")] public string Redis { get; set; } = "";
}

public static class ClusteringKinds
{
    public const string Localhost = "localhost";
    public const string Redis = "redis";
}

/// <summary>Consistent-hash placement (configuration section <c>placement</c>).</summary>
public sealed class PlacementSettings
{
    public const string SectionName = "placement";

    /// <summary>Virtual nodes per silo; empty for the ring's measured default. Must match on every silo and client.</summary>
    [ConfigurationKeyName("virtual_nodes")] public int? VirtualNodes { get; set; }
}

/// <summary>Where durable grain state lives (configuration section <c>storage</c>).</summary>
public sealed class StorageSettings
{
    public const string SectionName = "storage";

    /// <summary>
    /// Directory of the file grain storage. All silos of a local cluster must share it, because a user grain
    /// re-activates on another silo when its silo leaves. Empty: a directory per service under the temp path.
    /// </summary>
    [ConfigurationKeyName("directory")] public string Directory { get; set; } = "";
}

/// <summary>
/// The per-silo Raft replica (configuration section <c>raft</c>, shared with the seed's <c>[raft]</c> block that binds
/// to <see cref="Configuration.RaftSettings"/>). Only the keys the replica uses are bound here; the seed's numeric
/// <c>node_id</c>/<c>peers</c> stay with <see cref="Configuration.RaftSettings"/>, because replicas are named by silo.
/// </summary>
public sealed class RaftReplicaSettings
{
    public const string SectionName = "raft";

    /// <summary>Replicas keep their files in <c>{data_directory}/raft/{silo name}</c>. Empty: a directory per service under the temp path.</summary>
    [ConfigurationKeyName("data_directory")] public string DataDirectory { get; set; } = "";

    /// <summary>Election timeout; empty falls back to the seed's <c>raft:timeout</c>, then to 150 ms.</summary>
    [ConfigurationKeyName("election_timeout")] public TimeSpan? ElectionTimeout { get; set; }

    /// <summary>The seed block's election timeout, read only as the fallback of <see cref="ElectionTimeout"/>.</summary>
    [ConfigurationKeyName("timeout")] public TimeSpan? SeedTimeout { get; set; }

    /// <summary>Leader heartbeat interval, the same key the seed block uses; empty: 40 ms.</summary>
    [ConfigurationKeyName("heartbeat_interval")] public TimeSpan? HeartbeatInterval { get; set; }

    /// <summary>How long a silo must be dead before the leader removes its replica; empty: 30 s.</summary>
    [ConfigurationKeyName("removal_grace_period")] public TimeSpan? RemovalGracePeriod { get; set; }

    /// <summary>Applied entries between two snapshots (the log is cut behind each); empty: 10,000.</summary>
    [ConfigurationKeyName("snapshot_every_entries")] public int? SnapshotEveryEntries { get; set; }

    /// <summary>How long the leader waits for the fronts of a settled round before proposing the next; 0 turns gathering off; empty: 8 ms.</summary>
    [ConfigurationKeyName("gather_wait")] public TimeSpan? GatherWait { get; set; }

    /// <summary>Serve linearizable reads from the leader's lease (true) or after a heartbeat round each (false); empty: true.</summary>
    [ConfigurationKeyName("lease_reads")] public bool? LeaseReads { get; set; }

    /// <summary>How replicas reach each other: <c>tcp</c> (a connection per pair of silos) or <c>orleans</c> (grain calls); empty: tcp.</summary>
    [ConfigurationKeyName("peer_transport")] public RaftPeerTransportKind? PeerTransport { get; set; }

    /// <summary>The port the tcp peer transport listens on; empty or 0: any free port (peers ask the replica where).</summary>
    [ConfigurationKeyName("peer_transport_port")] public int? PeerTransportPort { get; set; }
}

/// <summary>
/// The per-silo gossip member and heartbeat watchdog (configuration section <c>gossip</c>); empty keys keep the
/// defaults of <c>GossipOptions</c> (probes every 500 ms, 250 ms timeout, heartbeats every 250 ms, phi 8).
/// </summary>
public sealed class GossipSettings
{
    public const string SectionName = "gossip";

    /// <summary>SWIM protocol period: one probe per period.</summary>
    [ConfigurationKeyName("probe_interval")] public TimeSpan? ProbeInterval { get; set; }

    /// <summary>How long a direct probe waits for its ack before asking others to probe.</summary>
    [ConfigurationKeyName("probe_timeout")] public TimeSpan? ProbeTimeout { get; set; }

    /// <summary>How often the watchdog asks each watched peer for a heartbeat.</summary>
    [ConfigurationKeyName("heartbeat_interval")] public TimeSpan? HeartbeatInterval { get; set; }

    /// <summary>Phi at which the watchdog convicts a peer.</summary>
    [ConfigurationKeyName("phi_threshold")] public double? PhiThreshold { get; set; }
}

/// <summary>The Orleans dashboard (configuration section <c>dashboard</c>).</summary>
public sealed class DashboardSettings
{
    public const string SectionName = "dashboard";

    [ConfigurationKeyName("enabled")] public bool Enabled { get; set; } = true;

    /// <summary>Route prefix of the dashboard on the silo's HTTP port.</summary>
    [ConfigurationKeyName("path")] public string Path { get; set; } = "/dashboard";
}

/// <summary>OpenTelemetry export (configuration section <c>telemetry</c>).</summary>
public sealed class TelemetrySettings
{
    public const string SectionName = "telemetry";

    /// <summary><c>none</c> (default: nothing is exported), <c>console</c> or <c>otlp</c>.</summary>
    [ConfigurationKeyName("exporter")] public string Exporter { get; set; } = TelemetryExporters.None;

    /// <summary>OTLP collector endpoint, used when <see cref="Exporter"/> is <c>otlp</c>.</summary>
    [ConfigurationKeyName("otlp_endpoint")] public string OtlpEndpoint { get; set; } = "http://127.0.0.1:4317";
}

public static class TelemetryExporters
{
    public const string None = "none";
    public const string Console = "console";
    public const string Otlp = "otlp";
}

/// <summary>All host settings, bound and checked before anything starts.</summary>
internal sealed record HostSettings(
    SiloSettings Silo, ClusterSettings Cluster, PlacementSettings Placement, StorageSettings Storage, DashboardSettings Dashboard, TelemetrySettings Telemetry)
{
    /// <summary>Replica timing when nothing is configured: what the Raft core is tuned and tested for on loopback.</summary>
    public static readonly TimeSpan DefaultElectionTimeout = TimeSpan.FromMilliseconds(150);

    public static readonly TimeSpan DefaultHeartbeatInterval = TimeSpan.FromMilliseconds(40);

    /// <summary>The replica's timer period; a heartbeat shorter than one tick could not be kept.</summary>
    public static readonly TimeSpan ReplicaTick = TimeSpan.FromMilliseconds(10);

    public RaftReplicaSettings Raft { get; private init; } = new();

    public GossipSettings Gossip { get; private init; } = new();

    /// <summary>The <c>sharding</c> section; validated again, with the other pattern sections, when the host starts.</summary>
    public ShardingSettings Sharding { get; private init; } = new();

    /// <summary>The silo names of the initial voting configuration; default: this silo alone.</summary>
    public IReadOnlyList<string> RaftInitialVoters { get; private init; } = [];

    /// <summary>Which key the election timeout came from, so an error names the key the user actually wrote.</summary>
    public string ElectionTimeoutKey => Raft.ElectionTimeout is not null || Raft.SeedTimeout is null ? "raft:election_timeout" : "raft:timeout";

    public TimeSpan RaftElectionTimeout => Raft.ElectionTimeout ?? Raft.SeedTimeout ?? DefaultElectionTimeout;

    public TimeSpan RaftHeartbeatInterval => Raft.HeartbeatInterval ?? DefaultHeartbeatInterval;

    /// <summary>
    /// Stable per machine, service and silo name (the replica adds <c>raft/{silo name}</c>), so a silo restarted on
    /// the same machine under the same name finds its log.
    /// </summary>
    public string RaftDataDirectory => string.IsNullOrWhiteSpace(Raft.DataDirectory)
        ? System.IO.Path.Combine(System.IO.Path.GetTempPath(), "orleans-patterns", Cluster.ServiceId)
        : System.IO.Path.GetFullPath(Raft.DataDirectory);

    public static HostSettings Bind(IConfiguration configuration)
    {
        // "150ms" must bind to TimeSpan here, before the pattern settings register the converter for the host.
        DurationConverter.EnsureRegistered();
        var silo = Get<SiloSettings>(configuration, SiloSettings.SectionName);
        var settings = new HostSettings(
            silo,
            Get<ClusterSettings>(configuration, ClusterSettings.SectionName),
            Get<PlacementSettings>(configuration, PlacementSettings.SectionName),
            Get<StorageSettings>(configuration, StorageSettings.SectionName),
            Get<DashboardSettings>(configuration, DashboardSettings.SectionName),
            Get<TelemetrySettings>(configuration, TelemetrySettings.SectionName))
        {
            Raft = Get<RaftReplicaSettings>(configuration, RaftReplicaSettings.SectionName),
            RaftInitialVoters = ReadVoters(configuration.GetSection("raft:initial_voters"), silo.Name),
            Gossip = Get<GossipSettings>(configuration, GossipSettings.SectionName),
            Sharding = Get<ShardingSettings>(configuration, ShardingSettings.SectionName),
        };
        settings.Validate();
        return settings;
    }

    public IPAddress Address => IPAddress.Parse(Silo.Address);

    public string StorageDirectory => string.IsNullOrWhiteSpace(Storage.Directory)
        ? System.IO.Path.Combine(System.IO.Path.GetTempPath(), "orleans-patterns", Cluster.ServiceId, "grain-state")
        : System.IO.Path.GetFullPath(Storage.Directory);

    /// <summary>
    /// A comma-separated value (<c>--raft:initial_voters silo-1,silo-2,silo-3</c>, one switch on a command line) or a
    /// list (<c>initial_voters: ["silo-1", "silo-2"]</c> in a TSK file, <c>raft:initial_voters:0</c>…).
    /// </summary>
    private static List<string> ReadVoters(IConfigurationSection section, string siloName)
    {
        var values = !string.IsNullOrWhiteSpace(section.Value)
            ? section.Value.Split(',', StringSplitOptions.TrimEntries)
            : section.GetChildren()
                .OrderBy(c => int.TryParse(c.Key, out var i) ? i : int.MaxValue)
                .Select(c => c.Value?.Trim() ?? "");
        var voters = values.ToList();
        return voters.Count == 0 ? [siloName] : voters;
    }

    private static T Get<T>(IConfiguration configuration, string section) where T : new()
    {
        try
        {
            return configuration.GetSection(section).Get<T>() ?? new T();
        }
        catch (InvalidOperationException e)
        {
            // The binder names the key and the value ("Failed to convert configuration value 'x' at 'silo:silo_port'…").
            throw new SiloConfigurationException(e.Message, e);
        }
    }

    private void Validate()
    {
        Require(!string.IsNullOrWhiteSpace(Silo.Name), "silo:name", Silo.Name, "must not be empty");
        Require(IPAddress.TryParse(Silo.Address, out _), "silo:address", Silo.Address, "must be an IP address");
        RequirePort("silo:silo_port", Silo.SiloPort);
        RequirePort("silo:gateway_port", Silo.GatewayPort);
        RequirePort("silo:http_port", Silo.HttpPort);
        Require(new[] { Silo.SiloPort, Silo.GatewayPort, Silo.HttpPort }.Distinct().Count() == 3,
            "silo:silo_port/gateway_port/http_port", $"{Silo.SiloPort}/{Silo.GatewayPort}/{Silo.HttpPort}", "must be three different ports");
        Require(Silo.EtcdPort is >= 0 and <= 65535, "silo:etcd_port", Silo.EtcdPort.ToString(), "must be 0 (off) or a port between 1 and 65535");
        Require(Silo.EtcdPort == 0 || !new[] { Silo.SiloPort, Silo.GatewayPort, Silo.HttpPort }.Contains(Silo.EtcdPort),
            "silo:etcd_port", Silo.EtcdPort.ToString(), "must differ from silo:silo_port, silo:gateway_port and silo:http_port");
        Require(!string.IsNullOrWhiteSpace(Cluster.ClusterId), "cluster:cluster_id", Cluster.ClusterId, "must not be empty");
        Require(!string.IsNullOrWhiteSpace(Cluster.ServiceId), "cluster:service_id", Cluster.ServiceId, "must not be empty");
        Require(Cluster.Clustering is ClusteringKinds.Localhost or ClusteringKinds.Redis,
            "cluster:clustering", Cluster.Clustering, $"must be '{ClusteringKinds.Localhost}' or '{ClusteringKinds.Redis}'");
        if (Cluster.Clustering == ClusteringKinds.Localhost)
        {
            RequirePort("cluster:primary_silo_port", Cluster.PrimarySiloPort);
        }
        else
        {
            Require(!string.IsNullOrWhiteSpace(Cluster.Redis), "cluster:redis", Cluster.Redis,
                "must be a Redis connection string (e.g. 127.0.0.1:6379) when cluster:clustering is 'redis'");
        }

        Require(Placement.VirtualNodes is null or (>= 1 and <= 4096), "placement:virtual_nodes",
            Placement.VirtualNodes?.ToString(), "must be between 1 and 4096");
        ValidateRaft();
        ValidateGossip();
        Require(Dashboard.Path.StartsWith('/'), "dashboard:path", Dashboard.Path, "must start with '/'");
        Require(Telemetry.Exporter is TelemetryExporters.None or TelemetryExporters.Console or TelemetryExporters.Otlp,
            "telemetry:exporter", Telemetry.Exporter, "must be 'none', 'console' or 'otlp'");
        Require(Telemetry.Exporter != TelemetryExporters.Otlp || Uri.TryCreate(Telemetry.OtlpEndpoint, UriKind.Absolute, out _),
            "telemetry:otlp_endpoint", Telemetry.OtlpEndpoint, "must be an absolute URI");
    }

    private void ValidateRaft()
    {
        var voters = string.Join(",", RaftInitialVoters);
        Require(RaftInitialVoters.All(v => !string.IsNullOrWhiteSpace(v)), "raft:initial_voters", voters, "must list silo names separated by commas, none empty");
        Require(RaftInitialVoters.Distinct(StringComparer.Ordinal).Count() == RaftInitialVoters.Count, "raft:initial_voters", voters, "must not name a silo twice");
        Require(RaftInitialVoters.Count <= 64, "raft:initial_voters", voters, "must list at most 64 silos");
        Require(IsUsablePath(Raft.DataDirectory), "raft:data_directory", Raft.DataDirectory, "must be a directory path");
        var election = RaftElectionTimeout;
        var heartbeat = RaftHeartbeatInterval;
        Require(election > TimeSpan.Zero && election <= TimeSpan.FromMinutes(1), ElectionTimeoutKey, Format(election), "must be between 1ms and 1m");
        if (Raft.RemovalGracePeriod is { } grace)
        {
            Require(grace > TimeSpan.Zero && grace <= TimeSpan.FromHours(24), "raft:removal_grace_period", Format(grace), "must be between 1ms and 24h");
        }

        if (Raft.SnapshotEveryEntries is { } every)
        {
            Require(every is >= 100 and <= 10_000_000, "raft:snapshot_every_entries", every.ToString(CultureInfo.InvariantCulture), "must be between 100 and 10000000");
        }

        if (Raft.GatherWait is { } gather)
        {
            Require(gather >= TimeSpan.Zero && gather <= TimeSpan.FromMilliseconds(100), "raft:gather_wait", Format(gather), "must be between 0 (off) and 100ms");
        }

        if (Raft.PeerTransportPort is { } port)
        {
            Require(port is >= 0 and <= 65535, "raft:peer_transport_port", port.ToString(CultureInfo.InvariantCulture), "must be between 0 (any free port) and 65535");
        }

        Require(heartbeat >= ReplicaTick, "raft:heartbeat_interval", Format(heartbeat), $"must be at least {Format(ReplicaTick)} (the replica's timer period)");
        // A heartbeat no shorter than the election timeout makes followers depose a healthy leader over and over.
        Require(heartbeat < election, "raft:heartbeat_interval", Format(heartbeat), $"must be shorter than {ElectionTimeoutKey} ({Format(election)})");
    }

    private void ValidateGossip()
    {
        if (Gossip.ProbeInterval is { } interval)
        {
            Require(interval >= TimeSpan.FromMilliseconds(50) && interval <= TimeSpan.FromMinutes(1), "gossip:probe_interval", Format(interval), "must be between 50ms and 1m");
        }

        if (Gossip.ProbeTimeout is { } timeout)
        {
            var period = Gossip.ProbeInterval ?? TimeSpan.FromMilliseconds(500);
            // The indirect probe needs the rest of the period: a timeout as long as the period leaves it none.
            Require(timeout > TimeSpan.Zero && timeout < period, "gossip:probe_timeout", Format(timeout), $"must be positive and shorter than gossip:probe_interval ({Format(period)})");
        }

        if (Gossip.HeartbeatInterval is { } heartbeat)
        {
            Require(heartbeat >= TimeSpan.FromMilliseconds(25) && heartbeat <= TimeSpan.FromMinutes(1), "gossip:heartbeat_interval", Format(heartbeat), "must be between 25ms and 1m");
        }

        if (Gossip.PhiThreshold is { } phi)
        {
            Require(phi is >= 1 and <= 32, "gossip:phi_threshold", phi.ToString(System.Globalization.CultureInfo.InvariantCulture), "must be between 1 and 32");
        }
    }

    private static bool IsUsablePath(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return true; // the default
        }

        try
        {
            _ = System.IO.Path.GetFullPath(path);
            return path.IndexOfAny(System.IO.Path.GetInvalidPathChars()) < 0;
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return false;
        }
    }

    private static string Format(TimeSpan value) => Duration.Format(value);

    private static void RequirePort(string key, int port) => Require(port is > 0 and <= 65535, key, port.ToString(), "must be a port between 1 and 65535");

    private static void Require(bool condition, string key, string? value, string rule)
    {
        if (!condition)
        {
            throw new SiloConfigurationException($"Configuration key '{key}' ('{value}') {rule}.");
        }
    }
}

/// <summary>Configuration that cannot start a silo; the message names the key and the value.</summary>
public sealed class SiloConfigurationException(string message, Exception? inner = null) : Exception(message, inner);
