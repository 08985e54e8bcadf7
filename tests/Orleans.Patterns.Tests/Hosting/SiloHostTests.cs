using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Patterns.Client.Cluster;
using Orleans.Patterns.Gossip;
using Orleans.Patterns.Raft;
using Orleans.Patterns.Silo.Configuration;
using Orleans.Patterns.Silo.Hosting;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Hosting;

/// <summary>
/// What the silo host does before anything starts: configuration sources and their order, refusal of bad
/// values with the key and value named, and a fast, named failure when Redis is unreachable. No silo starts.
/// </summary>
[Trait("Category", "Unit")]
public sealed class SiloHostTests(ITestOutputHelper output) : IDisposable
{
    private const string BrokenTsk = "[silo]\nname: \"silo-9\"\nsilo_port 11111\n";

    private readonly string _directory = Directory.CreateTempSubdirectory("silo-host-tests-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task BuildAsync_rejects_a_broken_tsk_file_naming_file_line_and_column()
    {
        var path = WriteFile("broken.tsk", BrokenTsk);

        var error = await Assert.ThrowsAsync<TskFormatException>(() => SiloHost.BuildAsync(["--config", path], CancellationToken.None));

        Assert.Equal($"{path}:3:11: expected ':' after key 'silo_port', found '1'", error.Message);
    }

    [Fact]
    public async Task RunAsync_exits_with_2_and_prints_the_tsk_position_on_stderr()
    {
        var path = WriteFile("broken.tsk", BrokenTsk);

        var (exitCode, stderr) = await ConsoleCapture.RunWithStandardErrorAsync(() => SiloHost.RunAsync(["--config", path]));

        Assert.Equal(SiloHost.ExitConfigurationError, exitCode);
        Assert.Contains($"silo: configuration error: {path}:3:11: expected ':' after key 'silo_port'", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--silo-port", "0", "silo:silo_port")]
    [InlineData("--gateway-port", "70000", "silo:gateway_port")]
    [InlineData("--cluster:clustering", "zookeeper", "cluster:clustering")]
    [InlineData("--silo-port", "abc", "silo:silo_port")]
    [InlineData("--dashboard:enabled", "maybe", "dashboard:enabled")]
    [InlineData("--telemetry:exporter", "jaeger", "telemetry:exporter")]
    [InlineData("--raft:election_timeout", "soon", "raft:election_timeout")]
    [InlineData("--raft:election_timeout", "0s", "raft:election_timeout")]
    [InlineData("--raft:heartbeat_interval", "5ms", "raft:heartbeat_interval")]
    [InlineData("--raft:heartbeat_interval", "1s", "raft:heartbeat_interval")]
    [InlineData("--raft:initial_voters", "silo-1,,silo-3", "raft:initial_voters")]
    [InlineData("--raft:initial_voters", "silo-1,silo-1", "raft:initial_voters")]
    [InlineData("--raft:snapshot_every_entries", "10", "raft:snapshot_every_entries")]
    [InlineData("--raft:snapshot_every_entries", "many", "raft:snapshot_every_entries")]
    [InlineData("--raft:lease_reads", "sometimes", "raft:lease_reads")]
    [InlineData("--raft:gather_wait", "1s", "raft:gather_wait")]
    [InlineData("--raft:gather_wait", "a while", "raft:gather_wait")]
    [InlineData("--raft:peer_transport", "udp", "raft:peer_transport")]
    [InlineData("--raft:peer_transport_port", "70000", "raft:peer_transport_port")]
    [InlineData("--raft:peer_transport_port", "any", "raft:peer_transport_port")]
    [InlineData("--gossip:probe_interval", "10ms", "gossip:probe_interval")]
    [InlineData("--gossip:probe_timeout", "500ms", "gossip:probe_timeout")]
    [InlineData("--gossip:heartbeat_interval", "often", "gossip:heartbeat_interval")]
    [InlineData("--gossip:phi_threshold", "0.5", "gossip:phi_threshold")]
    public async Task BuildAsync_refuses_a_bad_value_naming_the_key_and_the_value(string option, string value, string key)
    {
        var error = await Assert.ThrowsAsync<SiloConfigurationException>(() => SiloHost.BuildAsync([option, value], CancellationToken.None));

        output.WriteLine(error.Message);
        Assert.Contains($"'{key}'", error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{value}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BuildAsync_refuses_redis_clustering_without_a_connection_string()
    {
        var error = await Assert.ThrowsAsync<SiloConfigurationException>(() => SiloHost.BuildAsync(["--clustering", "redis"], CancellationToken.None));

        Assert.StartsWith("Configuration key 'cluster:redis' ('') must be a Redis connection string", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BuildAsync_fails_fast_naming_an_unreachable_redis_endpoint()
    {
        // A port that was free a moment ago: nothing listens there, so the connection is refused.
        var port = FreePorts.Take(1)[0];
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<DependencyUnreachableException>(
            () => SiloHost.BuildAsync(["--clustering", "redis", "--redis", $"127.0.0.1:{port}"], CancellationToken.None));

        output.WriteLine($"failed after {clock.Elapsed.TotalSeconds:0.00} s: {error.Message}");
        Assert.Contains($"cannot reach Redis at 127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        Assert.Contains("'cluster:redis'", error.Message, StringComparison.Ordinal);
        // A behaviour, not a speed target: the host gives up on its own instead of waiting for Orleans' long retry.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task The_example_tsk_file_configures_the_host()
    {
        var example = Path.Combine(AppContext.BaseDirectory, "cluster.example.tsk");

        await using var app = await SiloHost.BuildAsync(["--config", example], CancellationToken.None);

        Assert.Equal("2", app.Configuration["raft:peers:0"]);
        Assert.Equal("4", app.Configuration["raft:peers:2"]);
        Assert.Equal("zookeeper", app.Configuration["leader_election:type"]);
        Assert.Equal("silo-1", Settings(app).Silo.Name);
    }

    [Fact]
    public async Task The_tsk_file_overrides_appsettings_and_the_command_line_overrides_the_tsk_file()
    {
        // The example's [silo] values equal the appsettings.json defaults, so a variant with another name
        // is what shows which source won.
        var example = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "cluster.example.tsk"));
        Assert.Contains("name: \"silo-1\"", example, StringComparison.Ordinal);
        var path = WriteFile("named.tsk", example.Replace("name: \"silo-1\"", "name: \"silo-from-tsk\"", StringComparison.Ordinal));

        await using (var fromTsk = await SiloHost.BuildAsync(["--config", path], CancellationToken.None))
        {
            Assert.Equal("silo-from-tsk", Settings(fromTsk).Silo.Name);
            Assert.Equal("2", fromTsk.Configuration["raft:peers:0"]);
        }

        await using var fromCommandLine = await SiloHost.BuildAsync(["--config", path, "--name", "other"], CancellationToken.None);
        Assert.Equal("other", Settings(fromCommandLine).Silo.Name);
        Assert.Equal("2", fromCommandLine.Configuration["raft:peers:0"]);
    }

    [Fact]
    public async Task Raft_defaults_to_a_single_voter_named_after_the_silo_with_its_log_in_a_stable_directory()
    {
        await using var app = await SiloHost.BuildAsync(["--name", "silo-5", "--cluster:service_id", "svc-a"], CancellationToken.None);

        var settings = Settings(app);
        Assert.Equal(["silo-5"], settings.RaftInitialVoters);
        Assert.Equal(Path.Combine(Path.GetTempPath(), "orleans-patterns", "svc-a"), settings.RaftDataDirectory);
        Assert.Equal(TimeSpan.FromMilliseconds(150), settings.RaftElectionTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(40), settings.RaftHeartbeatInterval);
    }

    [Fact]
    public async Task Raft_voters_come_from_one_comma_separated_switch_and_durations_from_unit_strings()
    {
        string[] args = ["--raft:initial_voters", "silo-1, silo-2,silo-3", "--raft:election_timeout", "300ms", "--raft:heartbeat_interval", "50ms"];

        await using var app = await SiloHost.BuildAsync(args, CancellationToken.None);

        var settings = Settings(app);
        Assert.Equal(["silo-1", "silo-2", "silo-3"], settings.RaftInitialVoters);
        Assert.Equal(TimeSpan.FromMilliseconds(300), settings.RaftElectionTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(50), settings.RaftHeartbeatInterval);
    }

    [Fact]
    public async Task The_snapshot_interval_reaches_the_replica_options_and_defaults_to_etcds_hundred_thousand()
    {
        await using (var app = await SiloHost.BuildAsync(["--raft:snapshot_every_entries", "50000"], CancellationToken.None))
        {
            Assert.Equal(50_000, app.Services.GetRequiredService<IOptions<RaftReplicaOptions>>().Value.SnapshotEveryEntries);
        }

        await using var defaults = await SiloHost.BuildAsync([], CancellationToken.None);
        Assert.Equal(100_000, defaults.Services.GetRequiredService<IOptions<RaftReplicaOptions>>().Value.SnapshotEveryEntries);
    }

    [Fact]
    public async Task Lease_reads_reach_the_replica_options_on_by_default_with_a_lease_inside_the_election_timeout()
    {
        await using (var app = await SiloHost.BuildAsync(["--raft:lease_reads", "false"], CancellationToken.None))
        {
            Assert.False(app.Services.GetRequiredService<IOptions<RaftReplicaOptions>>().Value.LeaseReads);
        }

        await using var defaults = await SiloHost.BuildAsync(["--raft:election_timeout", "300ms"], CancellationToken.None);
        var options = defaults.Services.GetRequiredService<IOptions<RaftReplicaOptions>>().Value;
        Assert.True(options.LeaseReads);
        Assert.Equal(TimeSpan.FromMilliseconds(240), options.LeaseDuration);
    }

    [Fact]
    public async Task The_gather_wait_reaches_the_replica_options_zero_turns_it_off_and_the_default_is_eight_milliseconds()
    {
        await using (var app = await SiloHost.BuildAsync(["--raft:gather_wait", "0"], CancellationToken.None))
        {
            Assert.Equal(TimeSpan.Zero, app.Services.GetRequiredService<IOptions<RaftReplicaOptions>>().Value.GatherWait);
        }

        await using (var app = await SiloHost.BuildAsync(["--raft:gather_wait", "20ms"], CancellationToken.None))
        {
            Assert.Equal(TimeSpan.FromMilliseconds(20), app.Services.GetRequiredService<IOptions<RaftReplicaOptions>>().Value.GatherWait);
        }

        await using var defaults = await SiloHost.BuildAsync([], CancellationToken.None);
        Assert.Equal(TimeSpan.FromMilliseconds(8), defaults.Services.GetRequiredService<IOptions<RaftReplicaOptions>>().Value.GatherWait);
    }

    [Fact]
    public async Task The_peer_transport_is_tcp_on_any_free_port_by_default_and_binds_from_its_keys()
    {
        await using (var app = await SiloHost.BuildAsync(["--raft:peer_transport", "orleans", "--raft:peer_transport_port", "41234"], CancellationToken.None))
        {
            var options = app.Services.GetRequiredService<IOptions<RaftReplicaOptions>>().Value;
            Assert.Equal((RaftPeerTransportKind.Orleans, 41234), (options.PeerTransport, options.PeerTransportPort));
        }

        await using var defaults = await SiloHost.BuildAsync([], CancellationToken.None);
        var defaulted = defaults.Services.GetRequiredService<IOptions<RaftReplicaOptions>>().Value;
        Assert.Equal((RaftPeerTransportKind.Tcp, 0), (defaulted.PeerTransport, defaulted.PeerTransportPort));
    }

    [Fact]
    public async Task Gossip_timing_binds_from_unit_strings_and_reaches_the_gossip_options()
    {
        string[] args = ["--gossip:probe_interval", "1s", "--gossip:probe_timeout", "400ms", "--gossip:heartbeat_interval", "100ms", "--gossip:phi_threshold", "10"];

        await using var app = await SiloHost.BuildAsync(args, CancellationToken.None);

        var options = app.Services.GetRequiredService<IOptions<GossipOptions>>().Value;
        Assert.Equal(TimeSpan.FromSeconds(1), options.Swim.ProbeInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(400), options.Swim.ProbeTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(100), options.Watchdog.HeartbeatInterval);
        Assert.Equal(10, options.Watchdog.Detector.Threshold);
    }

    [Fact]
    public async Task The_example_tsk_raft_block_sets_the_replica_timing_through_timeout_and_heartbeat_interval()
    {
        var example = Path.Combine(AppContext.BaseDirectory, "cluster.example.tsk");

        await using var app = await SiloHost.BuildAsync(["--config", example], CancellationToken.None);

        // raft:timeout is the seed's name for the election timeout; raft:election_timeout would take precedence.
        Assert.Equal(TimeSpan.FromSeconds(3), Settings(app).RaftElectionTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), Settings(app).RaftHeartbeatInterval);
        var error = await Assert.ThrowsAsync<SiloConfigurationException>(
            () => SiloHost.BuildAsync(["--config", example, "--raft:heartbeat_interval", "5s"], CancellationToken.None));
        Assert.Contains("'raft:heartbeat_interval' ('5s') must be shorter than raft:timeout (3s)", error.Message, StringComparison.Ordinal);
    }

    private static HostSettings Settings(WebApplication app) => app.Services.GetRequiredService<HostSettings>();

    private string WriteFile(string name, string text)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        return path;
    }
}
