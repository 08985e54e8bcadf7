using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Patterns.Silo.Configuration;

namespace Orleans.Patterns.Tests.Configuration;

[Trait("Category", "Unit")]
public sealed class PatternSettingsTests
{
    [Fact]
    public void Example_file_binds_and_validates()
    {
        var configuration = new ConfigurationBuilder()
            .AddTskFile(Path.Combine(AppContext.BaseDirectory, "cluster.example.tsk"))
            .Build();
        using var services = Build(configuration);

        services.GetRequiredService<IStartupValidator>().Validate();

        var raft = services.GetRequiredService<IOptions<RaftSettings>>().Value;
        Assert.Equal(TimeSpan.FromSeconds(3), raft.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(1), raft.HeartbeatInterval);
        Assert.Equal(new[] { 2, 3, 4 }, raft.Peers);
        Assert.Equal(TimeSpan.FromSeconds(5), services.GetRequiredService<IOptions<LeaderElectionSettings>>().Value.Timeout);
        Assert.Equal(2, services.GetRequiredService<IOptions<ShardingSettings>>().Value.ReplicationFactor);
        Assert.Equal(new[] { "http://127.0.0.1:2379" }, services.GetRequiredService<IOptions<CoordinationSettings>>().Value.Endpoints);
    }

    [Fact]
    public void Absent_sections_use_valid_defaults()
    {
        using var services = Build(Memory());

        services.GetRequiredService<IStartupValidator>().Validate();

        Assert.False(services.GetRequiredService<IOptions<RaftSettings>>().Value.Enabled);
        Assert.Equal(new[] { "127.0.0.1:2181" }, services.GetRequiredService<IOptions<LeaderElectionSettings>>().Value.ZkHosts);
        Assert.Equal(new[] { "http://127.0.0.1:2379" }, services.GetRequiredService<IOptions<CoordinationSettings>>().Value.Endpoints);
        Assert.Equal(1, services.GetRequiredService<IOptions<ShardingSettings>>().Value.ReplicationFactor);
    }

    [Fact]
    public void Configured_list_replaces_the_default()
    {
        using var services = Build(Memory(("leader_election:zk_hosts:0", "zk1:2181"), ("leader_election:zk_hosts:1", "zk2:2181")));

        Assert.Equal(new[] { "zk1:2181", "zk2:2181" }, services.GetRequiredService<IOptions<LeaderElectionSettings>>().Value.ZkHosts);
    }

    [Theory]
    [InlineData("raft:heartbeat_interval (5s) must be shorter than raft:timeout (3s)",
        "raft:enabled", "true", "raft:timeout", "3s", "raft:heartbeat_interval", "5s")]
    [InlineData("raft:node_id (0) must be >= 1", "raft:enabled", "true", "raft:node_id", "0")]
    [InlineData("raft:peers must not contain this node's own raft:node_id (2)",
        "raft:enabled", "true", "raft:node_id", "2", "raft:peers:0", "2")]
    [InlineData("raft:peers lists '3' more than once", "raft:enabled", "true", "raft:peers:0", "3", "raft:peers:1", "3")]
    [InlineData("sharding:replication_factor (0) must be >= 1", "sharding:replication_factor", "0")]
    [InlineData("sharding:replication_factor (3) must not exceed the number of sharding:nodes (2)",
        "sharding:replication_factor", "3", "sharding:nodes:0", "a", "sharding:nodes:1", "b")]
    [InlineData("leader_election:zk_hosts:0 ('localhost') must be host:port", "leader_election:zk_hosts:0", "localhost")]
    [InlineData("leader_election:election_path ('election') must start with '/'", "leader_election:election_path", "election")]
    [InlineData("leader_election:timeout (0s) must be positive", "leader_election:timeout", "0s")]
    [InlineData("coordination:endpoints:0 ('127.0.0.1:2379') must be an absolute URI such as http://127.0.0.1:2379",
        "coordination:endpoints:0", "127.0.0.1:2379")]
    [InlineData("coordination:namespace ('config') must start with '/'", "coordination:namespace", "config")]
    [InlineData("coordination:type must not be empty", "coordination:type", "")]
    [InlineData("coordination:auto_compaction_retention (-5) must be 0 (keep all history) or a positive number of revisions",
        "coordination:auto_compaction_retention", "-5")]
    public void Validation_failure_names_key_and_value(string expected, params string[] keysAndValues)
    {
        var pairs = keysAndValues.Chunk(2).Select(p => (p[0], p[1])).ToArray();
        using var services = Build(Memory(pairs));

        // The startup validator throws the single failing section's exception, or an AggregateException of several.
        var error = Assert.ThrowsAny<Exception>(() => services.GetRequiredService<IStartupValidator>().Validate());

        var failures = (error is AggregateException all ? all.InnerExceptions : [error])
            .OfType<OptionsValidationException>()
            .SelectMany(e => e.Failures);
        Assert.Contains(expected, failures);
    }

    [Fact]
    public void Disabled_raft_is_not_validated()
    {
        using var services = Build(Memory(("raft:enabled", "false"), ("raft:node_id", "0")));

        services.GetRequiredService<IStartupValidator>().Validate();
    }

    [Fact]
    public async Task Bad_duration_stops_the_host_at_start_naming_key_and_value()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["raft:timeout"] = "3 parsecs" });
        builder.Services.AddPatternSettings(builder.Configuration);
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains("'raft:timeout'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'3 parsecs'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_value_stops_the_host_at_start()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["sharding:replication_factor"] = "0" });
        builder.Services.AddPatternSettings(builder.Configuration);
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Equal("sharding:replication_factor (0) must be >= 1", error.Message);
    }

    private static ServiceProvider Build(IConfiguration configuration) =>
        new ServiceCollection().AddPatternSettings(configuration).BuildServiceProvider();

    private static IConfigurationRoot Memory(params (string Key, string Value)[] pairs) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(pairs.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value)))
            .Build();
}
