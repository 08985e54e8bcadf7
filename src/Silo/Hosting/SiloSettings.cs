using System.Net;

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
    public static HostSettings Bind(IConfiguration configuration)
    {
        var settings = new HostSettings(
            Get<SiloSettings>(configuration, SiloSettings.SectionName),
            Get<ClusterSettings>(configuration, ClusterSettings.SectionName),
            Get<PlacementSettings>(configuration, PlacementSettings.SectionName),
            Get<StorageSettings>(configuration, StorageSettings.SectionName),
            Get<DashboardSettings>(configuration, DashboardSettings.SectionName),
            Get<TelemetrySettings>(configuration, TelemetrySettings.SectionName));
        settings.Validate();
        return settings;
    }

    public IPAddress Address => IPAddress.Parse(Silo.Address);

    public string StorageDirectory => string.IsNullOrWhiteSpace(Storage.Directory)
        ? System.IO.Path.Combine(System.IO.Path.GetTempPath(), "orleans-patterns", Cluster.ServiceId, "grain-state")
        : System.IO.Path.GetFullPath(Storage.Directory);

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
        Require(Dashboard.Path.StartsWith('/'), "dashboard:path", Dashboard.Path, "must start with '/'");
        Require(Telemetry.Exporter is TelemetryExporters.None or TelemetryExporters.Console or TelemetryExporters.Otlp,
            "telemetry:exporter", Telemetry.Exporter, "must be 'none', 'console' or 'otlp'");
        Require(Telemetry.Exporter != TelemetryExporters.Otlp || Uri.TryCreate(Telemetry.OtlpEndpoint, UriKind.Absolute, out _),
            "telemetry:otlp_endpoint", Telemetry.OtlpEndpoint, "must be an absolute URI");
    }

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
