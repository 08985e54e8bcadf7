using Microsoft.Extensions.Configuration;
using Orleans.Patterns.Silo.Configuration;

namespace Orleans.Patterns.Tests.Configuration;

[Trait("Category", "Unit")]
public sealed class TskConfigurationProviderTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("tsk-tests-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Design_blocks_load_from_a_file_and_bind()
    {
        var path = Write("cluster.tsk", TskSamples.DesignBlocks);

        var configuration = new ConfigurationBuilder().AddTskFile(path).Build();

        Assert.Equal("2", configuration["raft:peers:0"]);
        Assert.Equal("2", configuration["sharding:replication_factor"]);
        Assert.Equal("127.0.0.1:2181", configuration["leader_election:zk_hosts:0"]);
        Assert.Equal("/config", configuration["coordination:namespace"]);
        Assert.Equal("1", configuration["RAFT:Node_ID"]);

        var raft = configuration.GetSection(RaftSettings.SectionName).Get<RaftSettings>()!;
        Assert.True(raft.Enabled);
        Assert.Equal("cluster-1", raft.ClusterId);
        Assert.Equal(1, raft.NodeId);
        Assert.Equal(new[] { 2, 3, 4 }, raft.Peers);
        Assert.Equal(TimeSpan.FromSeconds(3), raft.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(1), raft.HeartbeatInterval);

        var election = configuration.GetSection(LeaderElectionSettings.SectionName).Get<LeaderElectionSettings>()!;
        Assert.Equal(TimeSpan.FromSeconds(5), election.Timeout);
        Assert.Equal(new[] { "127.0.0.1:2181" }, election.ZkHosts);

        var sharding = configuration.GetSection(ShardingSettings.SectionName).Get<ShardingSettings>()!;
        Assert.Equal(new[] { "node1", "node2", "node3" }, sharding.Nodes);
        Assert.Equal(2, sharding.ReplicationFactor);

        var coordination = configuration.GetSection(CoordinationSettings.SectionName).Get<CoordinationSettings>()!;
        Assert.Equal(TimeSpan.FromSeconds(3), coordination.Timeout);
        Assert.Equal("/config", coordination.Namespace);
    }

    [Fact]
    public void Example_file_next_to_the_binaries_loads_with_silo_keys()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "cluster.example.tsk");

        var configuration = new ConfigurationBuilder().AddTskFile(path).Build();

        Assert.Equal("silo-1", configuration["silo:name"]);
        Assert.Equal("11111", configuration["silo:silo_port"]);
        Assert.Equal("30000", configuration["silo:gateway_port"]);
        Assert.Equal("8080", configuration["silo:http_port"]);
        Assert.Equal("4", configuration["raft:peers:2"]);
    }

    [Fact]
    public void Missing_required_file_names_the_path()
    {
        var path = Path.Combine(_directory, "absent.tsk");
        var builder = new ConfigurationBuilder().AddTskFile(path);

        var error = Assert.Throws<FileNotFoundException>(() => builder.Build());

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Equal(path, error.FileName);
    }

    [Fact]
    public void Missing_optional_file_adds_nothing()
    {
        var configuration = new ConfigurationBuilder()
            .AddTskFile(Path.Combine(_directory, "absent.tsk"), optional: true)
            .Build();

        Assert.Empty(configuration.AsEnumerable());
    }

    [Fact]
    public void Malformed_file_reports_the_path_as_given()
    {
        var path = Write("bad.tsk", "[raft]\ntype: zookeeper\n");
        var builder = new ConfigurationBuilder().AddTskFile(path);

        var error = Assert.Throws<TskFormatException>(() => builder.Build());

        Assert.Equal($"{path}:2:7: unquoted value 'zookeeper': strings must be quoted, e.g. \"zookeeper\"", error.Message);
        Assert.Equal(path, error.FilePath);
    }

    [Fact]
    public void Later_sources_override_earlier_ones()
    {
        var path = Write("cluster.tsk", TskSamples.DesignBlocks);

        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["raft:node_id"] = "9",
                ["raft:cluster_id"] = "from-memory",
                ["silo:name"] = "kept",
            })
            .AddTskFile(path)
            .AddCommandLine(["--raft:cluster_id=from-command-line", "--raft:timeout=500ms"])
            .Build();

        Assert.Equal("1", configuration["raft:node_id"]);
        Assert.Equal("from-command-line", configuration["raft:cluster_id"]);
        Assert.Equal("kept", configuration["silo:name"]);
        Assert.Equal(TimeSpan.FromMilliseconds(500), configuration.GetSection("raft").Get<RaftSettings>()!.Timeout);
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        return path;
    }
}
