using System.Text.Json;
using Orleans.Patterns.Client;
using Orleans.Patterns.Client.Workload;

namespace Orleans.Patterns.Tests.Client;

/// <summary>
/// <c>chaos kill</c>, <c>cluster restart</c> and <c>bench failover</c>: usage errors and the refusal to touch the
/// localhost primary, all answered from the cluster file before any process is signalled or any cluster contacted.
/// </summary>
[Trait("Category", "Unit")]
public sealed class SiloControlCommandTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "orleans-patterns-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("chaos", "kill")]
    [InlineData("cluster", "restart")]
    [InlineData("cluster", "restart", "silo-2", "--graceful", "maybe")]
    [InlineData("bench", "failover", "--trials", "many")]
    public async Task A_usage_error_exits_with_2_and_one_error_line(params string[] args)
    {
        var (exitCode, line) = await RunAsync(args);

        Assert.Equal(ClientApp.ExitUsage, exitCode);
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("chaos", "kill")]
    [InlineData("cluster", "restart")]
    public async Task The_localhost_primary_is_refused(params string[] command)
    {
        // Pid 1 is never a silo: were the refusal missing, the process check would still keep init alive.
        var file = WriteClusterFile(redis: null);

        var (exitCode, line) = await RunAsync([.. command, "silo-1", "--cluster-file", file]);

        Assert.Equal(ClientApp.ExitUsage, exitCode);
        Assert.StartsWith($"error: {command[0]} {command[1]} silo-1 refused: under localhost clustering silo-1 is the primary", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Under_Redis_clustering_killing_the_first_silo_is_allowed_and_a_dead_pid_kills_nothing()
    {
        var file = WriteClusterFile(redis: "127.0.0.1:1");
        var console = new TestConsole();

        var exitCode = await ClientApp.RunAsync(["chaos", "kill", "silo-1", "--cluster-file", file], console.Console, console.Error);

        // Not refused; pid 1 is not a silo, so nothing is signalled and the command says so.
        Assert.Equal(ClientApp.ExitCheckFailed, exitCode);
        Assert.Contains("silo-1 is not running", console.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_silo_is_a_usage_error_naming_the_silos()
    {
        var file = WriteClusterFile(redis: null);

        var (exitCode, line) = await RunAsync(["chaos", "kill", "silo-9", "--cluster-file", file]);

        Assert.Equal(ClientApp.ExitUsage, exitCode);
        Assert.Contains("No silo named 'silo-9'", line, StringComparison.Ordinal);
        Assert.Contains("silo-1, silo-2, silo-3", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("error: --trials 0 must be between 1 and 1000.", "--trials", "0")]
    [InlineData("error: --clients 0 must be between 1 and 1024.", "--clients", "0")]
    public async Task Bad_failover_values_exit_with_2_before_reading_a_cluster_file(string expected, params string[] args)
    {
        var (exitCode, line) = await RunAsync(["bench", "failover", .. args, "--cluster-file", Path.Combine(_directory, "missing.json")]);

        Assert.Equal(ClientApp.ExitUsage, exitCode);
        Assert.Equal(expected, line);
    }

    [Fact]
    public void The_summary_takes_the_median_p90_and_max_of_the_trials_that_saw_a_commit()
    {
        var trials = new[] { 300, 100, 200, 500 }.Select((ms, i) =>
            new FailoverTrial(i + 1, "silo-2", 0, TimeSpan.FromMilliseconds(ms), null, null, 0, 0, TimeSpan.Zero, TimeSpan.Zero))
            .Append(new FailoverTrial(5, "silo-3", 0, null, null, null, 0, 0, TimeSpan.Zero, TimeSpan.Zero))
            .ToList();

        var summary = FailoverSummary.Of(trials);

        Assert.Equal(new FailoverSummary.Figures(250, 500, 500, 4), summary.Gap);
        Assert.Equal(0, summary.Election.Count);
    }

    private static async Task<(int ExitCode, string Line)> RunAsync(string[] args)
    {
        var console = new TestConsole();
        var exitCode = await ClientApp.RunAsync(args, console.Console, console.Error);
        return (exitCode, Assert.Single(console.ErrorLines));
    }

    private string WriteClusterFile(string? redis)
    {
        Directory.CreateDirectory(_directory);
        var silos = Enumerable.Range(1, 3).Select(i => new Dictionary<string, object>
        {
            ["name"] = $"silo-{i}", ["silo_port"] = 11110 + i, ["gateway_port"] = 30000 + i, ["http_port"] = 8080 + i, ["process_id"] = 1,
        });
        var json = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["run_directory"] = _directory, ["cluster_id"] = "test", ["service_id"] = "orleans-patterns", ["redis"] = redis, ["silos"] = silos,
        });
        var path = Path.Combine(_directory, "cluster.json");
        File.WriteAllText(path, json);
        return path;
    }
}
