using System.Diagnostics;
using Orleans.Patterns.Client;
using Orleans.Patterns.Client.Cluster;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Client;

/// <summary>The console's contract with scripts: exit codes and one readable error line, without a cluster.</summary>
[Trait("Category", "Unit")]
public sealed class ClientCommandTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("frobnicate")]
    [InlineData("workload", "--users", "abc")]
    [InlineData("workload", "--placement", "ring2")]
    [InlineData("workload", "--placement", "shard")]
    [InlineData("workload", "--distribution", "pareto")]
    [InlineData("workload", "--skew", "abc")]
    [InlineData("shards", "--top", "many")]
    [InlineData("where")]
    [InlineData("cluster", "up", "--silos", "many")]
    [InlineData("kv", "put", "only-a-key")]
    [InlineData("raft", "kv", "put", "only-a-key")]
    [InlineData("raft", "kv", "cas", "k", "v")]
    [InlineData("kv", "cas", "k", "v")]
    [InlineData("lease", "grant", "ten")]
    [InlineData("raft", "transfer")]
    [InlineData("raft", "frobnicate")]
    [InlineData("bench", "raft", "--clients", "abc")]
    public async Task A_usage_error_exits_with_2_and_one_error_line(params string[] args)
    {
        var console = new TestConsole();

        var exitCode = await ClientApp.RunAsync(args, console.Console, console.Error);

        output.WriteLine(console.Error.ToString());
        Assert.Equal(ClientApp.ExitUsage, exitCode);
        var line = Assert.Single(console.ErrorLines);
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.EndsWith("(see --help)", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_option_value_is_named_in_the_error()
    {
        var console = new TestConsole();

        var exitCode = await ClientApp.RunAsync(["workload", "--placement", "ring2"], console.Console, console.Error);

        Assert.Equal(ClientApp.ExitUsage, exitCode);
        Assert.Equal("error: Argument 'ring2' not recognized. Must be one of: 'ring' 'hash' 'random' 'all' 'sharded' (see --help)", Assert.Single(console.ErrorLines));
    }

    [Fact]
    public async Task An_unreachable_gateway_exits_with_3_naming_the_gateway()
    {
        // Free a moment ago, so nothing answers there.
        var port = FreePorts.Take(1)[0];
        var console = new TestConsole();
        var clock = Stopwatch.StartNew();

        var exitCode = await ClientApp.RunAsync(
            ["workload", "--gateway", port.ToString(), "--connect-timeout", "2"], console.Console, console.Error);

        output.WriteLine($"exit {exitCode} after {clock.Elapsed.TotalSeconds:0.00} s: {console.Error}");
        Assert.Equal(ClientApp.ExitUnavailable, exitCode);
        var line = Assert.Single(console.ErrorLines);
        Assert.StartsWith($"error: Cannot reach the cluster at gateways 127.0.0.1:{port} within 2 s", line, StringComparison.Ordinal);
        // It gives up on its own (2 s asked) rather than hanging; the bound is generous for a loaded CI box.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Where_without_a_cluster_file_exits_with_2_naming_the_path()
    {
        var path = Path.Combine(Path.GetTempPath(), "orleans-patterns-" + Guid.NewGuid().ToString("N"), "cluster.json");
        var console = new TestConsole();

        var exitCode = await ClientApp.RunAsync(["where", "alice", "--cluster-file", path], console.Console, console.Error);

        Assert.Equal(ClientApp.ExitUsage, exitCode);
        var line = Assert.Single(console.ErrorLines);
        Assert.StartsWith($"error: No running cluster found at {path}.", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_out_of_range_connect_timeout_exits_with_2()
    {
        var console = new TestConsole();

        var exitCode = await ClientApp.RunAsync(["ring", "--gateway", "30000", "--connect-timeout", "0"], console.Console, console.Error);

        Assert.Equal(ClientApp.ExitUsage, exitCode);
        Assert.Equal("error: --connect-timeout 0 must be between 1 and 600 seconds.", Assert.Single(console.ErrorLines));
    }

    [Theory]
    [InlineData("error: --clients 0 must be between 1 and 4096.", "bench", "raft", "--clients", "0")]
    [InlineData("error: --value-size 0 must be between 1 and 1048576.", "bench", "raft", "--value-size", "0")]
    [InlineData("error: key must not be empty.", "raft", "kv", "get", " ")]
    [InlineData("error: --to must name a silo, e.g. --to silo-2.", "raft", "transfer", "--to", "")]
    public async Task A_bad_raft_or_bench_value_exits_with_2_before_connecting(string expected, params string[] args)
    {
        var console = new TestConsole();
        // A closed gateway and a long connect timeout: only a check made before connecting can answer quickly.
        var port = FreePorts.Take(1)[0];
        var clock = Stopwatch.StartNew();

        var exitCode = await ClientApp.RunAsync([.. args, "--gateway", port.ToString(), "--connect-timeout", "60"], console.Console, console.Error);

        Assert.Equal(ClientApp.ExitUsage, exitCode);
        Assert.Equal(expected, Assert.Single(console.ErrorLines));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
    }

    [Theory]
    [InlineData("error: --skew 0 must be a number above 0.", "workload", "--placement", "sharded", "--distribution", "zipf", "--skew", "0")]
    [InlineData("error: --skew 0 must be a number above 0.", "workload", "--distribution", "zipf", "--skew", "0")]
    [InlineData("error: --skew 1.5 applies only with --distribution zipf.", "workload", "--skew", "1.5")]
    [InlineData("error: --top 500 must be between 0 and 100.", "shards", "--top", "500")]
    public async Task A_bad_workload_or_shards_value_exits_with_2_before_connecting(string expected, params string[] args)
    {
        var console = new TestConsole();
        var port = FreePorts.Take(1)[0];
        var clock = Stopwatch.StartNew();

        var exitCode = await ClientApp.RunAsync([.. args, "--gateway", port.ToString(), "--connect-timeout", "60"], console.Console, console.Error);

        Assert.Equal(ClientApp.ExitUsage, exitCode);
        Assert.Equal(expected, Assert.Single(console.ErrorLines));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
    }

    [Theory]
    [InlineData("error: --endpoints must list at least one etcd endpoint, e.g. --endpoints http://127.0.0.1:2379.", " , ")]
    [InlineData("error: --endpoints https://127.0.0.1:2379 is not an endpoint of the form http://host:port.", "https://127.0.0.1:2379")]
    [InlineData("error: --endpoints 127.0.0.1:2379 is not an endpoint of the form http://host:port.", "http://127.0.0.1:2379,127.0.0.1:2379")]
    [InlineData("error: --endpoints http://127.0.0.1 is not an endpoint of the form http://host:port.", "http://127.0.0.1")]
    [InlineData("error: --endpoints http://127.0.0.1:2379/v3 is not an endpoint of the form http://host:port.", "http://127.0.0.1:2379/v3")]
    public async Task Bench_etcd_with_bad_endpoints_exits_with_2_before_connecting(string expected, string endpoints)
    {
        var console = new TestConsole();

        var exitCode = await ClientApp.RunAsync(["bench", "etcd", "--endpoints", endpoints, "--ops", "1"], console.Console, console.Error);

        Assert.Equal(ClientApp.ExitUsage, exitCode);
        Assert.Equal(expected, Assert.Single(console.ErrorLines));
    }

    [Theory]
    [InlineData("error: --members 1 must be between 2 and 100000.", "--members", "1")]
    [InlineData("error: --loss 1 must be at least 0 and below 1.", "--loss", "1")]
    [InlineData("error: --duration 5 must be between 20 and 3600 seconds (the faults start at 10 s).", "--duration", "5")]
    public async Task Bench_gossip_with_bad_values_exits_with_2(string expected, params string[] args)
    {
        var console = new TestConsole();

        var exitCode = await ClientApp.RunAsync(["bench", "gossip", .. args], console.Console, console.Error);

        Assert.Equal(ClientApp.ExitUsage, exitCode);
        Assert.Equal(expected, Assert.Single(console.ErrorLines));
    }

    [Fact]
    public async Task Bench_gossip_simulates_and_writes_its_figures_and_plot()
    {
        var console = new TestConsole();
        var directory = Directory.CreateTempSubdirectory("bench-gossip-");
        try
        {
            var markdown = Path.Combine(directory.FullName, "gossip.md");
            var svg = Path.Combine(directory.FullName, "gossip.svg");

            var exitCode = await ClientApp.RunAsync(
                ["bench", "gossip", "--members", "30", "--duration", "20", "--crashes", "1", "--compare", "--out", markdown, "--svg", svg],
                console.Console, console.Error);

            Assert.Equal(ClientApp.ExitOk, exitCode);
            var text = await File.ReadAllTextAsync(markdown);
            Assert.StartsWith("`dotnet run -c Release --project src/Client -- bench gossip --members 30", text, StringComparison.Ordinal);
            Assert.Contains("| 99.99% informed after |", text, StringComparison.Ordinal);
            Assert.Contains("Plain SWIM / Lifeguard false suspicions", text, StringComparison.Ordinal);
            Assert.StartsWith("<svg", await File.ReadAllTextAsync(svg), StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Bench_etcd_checks_the_load_shape_like_bench_raft()
    {
        var console = new TestConsole();

        var exitCode = await ClientApp.RunAsync(["bench", "etcd", "--clients", "0"], console.Console, console.Error);

        Assert.Equal(ClientApp.ExitUsage, exitCode);
        Assert.Equal("error: --clients 0 must be between 1 and 4096.", Assert.Single(console.ErrorLines));
    }

    [Fact]
    public async Task Bench_kv_refuses_a_negative_warm_up_naming_it()
    {
        var console = new TestConsole();

        var exitCode = await ClientApp.RunAsync(["bench", "kv", "--warmup", "-1", "--endpoints", "http://127.0.0.1:1"], console.Console, console.Error);

        Assert.Equal(ClientApp.ExitUsage, exitCode);
        Assert.Equal("error: --warmup -1 must be between 0 and 600 seconds.", Assert.Single(console.ErrorLines));
    }

    [Theory]
    [InlineData("raft", "kv", "put", "k", "v")]
    [InlineData("kv", "put", "k", "v")]
    [InlineData("lease", "list")]
    public async Task Kv_against_an_unreachable_gateway_exits_with_3(params string[] args)
    {
        var port = FreePorts.Take(1)[0];
        var console = new TestConsole();

        var exitCode = await ClientApp.RunAsync([.. args, "--gateway", port.ToString(), "--connect-timeout", "1"], console.Console, console.Error);

        Assert.Equal(ClientApp.ExitUnavailable, exitCode);
        Assert.StartsWith($"error: Cannot reach the cluster at gateways 127.0.0.1:{port}", Assert.Single(console.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_exits_with_0_and_lists_the_commands()
    {
        var console = new TestConsole();

        var exitCode = await ClientApp.RunAsync(["--help"], console.Console, console.Error);

        Assert.Equal(ClientApp.ExitOk, exitCode);
        Assert.Empty(console.Error.ToString());
        foreach (var command in new[] { "cluster", "workload", "where", "ring", "demo", "raft", "kv", "lease", "lock", "elect", "svc", "bench", "shards" })
        {
            Assert.Contains(command, console.Output, StringComparison.Ordinal);
        }
    }
}
