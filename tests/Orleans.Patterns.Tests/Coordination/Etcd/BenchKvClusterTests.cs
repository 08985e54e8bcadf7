using Orleans.Patterns.Client;
using Orleans.Patterns.Coordination;
using Orleans.Patterns.Etcd;
using Orleans.Patterns.Tests.Client;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Coordination.Etcd;

/// <summary>
/// `bench kv` through the silos' etcd endpoints, end to end: the timed warm-up (puts and reads of each caller's own
/// keys, not measured), then per client count the measured puts and linearizable reads, written as markdown.
/// </summary>
[Trait("Category", "Cluster")]
[Collection(EtcdClusterCollection.Name)]
public sealed class BenchKvClusterTests(EtcdClusterFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Bench_kv_warms_up_then_measures_puts_and_reads_at_each_client_count()
    {
        var console = new TestConsole();
        var markdown = Path.Combine(fixture.DataRoot, "bench-kv.md");
        var endpoints = string.Join(",", EtcdClusterFixture.Silos.Select(fixture.Endpoint));

        var exitCode = await ClientApp.RunAsync(
            ["bench", "kv", "--endpoints", endpoints, "--clients", "1,3", "--ops", "30", "--keys", "5", "--warmup", "0.5", "--out", markdown],
            console.Console,
            console.Error);

        var text = await File.ReadAllTextAsync(markdown);
        output.WriteLine(text);
        Assert.Equal(ClientApp.ExitOk, exitCode);
        Assert.Contains("orleans: 3 callers warming up for 0.5 s (not measured)", console.Output, StringComparison.Ordinal);
        foreach (var clients in new[] { 1, 3 })
        {
            var row = text.Split('\n').First(l => l.StartsWith($"| {clients} | orleans |", StringComparison.Ordinal)).Split('|', StringSplitOptions.TrimEntries);
            Assert.Equal("0", row[6]); // no put failed
            Assert.Equal("0", row[10]); // no read failed
        }

        // The silos' endpoints are served by this test process, so that is the one process whose CPU the puts cost.
        if (OperatingSystem.IsLinux())
        {
            var usage = TableRow(text, "| clients | system | processes |", "| 3 | orleans |");
            Assert.Equal("1", usage[3]);
            Assert.True(double.Parse(usage[4], System.Globalization.CultureInfo.InvariantCulture) > 0, $"put CPU µs/op {usage[4]}");
        }

        // Who led, as the endpoints reported it through Maintenance.Status: the fixture's leader (after any election
        // during the run), and whether the first endpoint given was its.
        var leader = await fixture.LeaderAsync();
        var leadership = TableRow(text, "| clients | system | term |", "| 3 | orleans |");
        Assert.Equal(EtcdMember.IdOf(leader).ToString("x", System.Globalization.CultureInfo.InvariantCulture), leadership[4].Split(" → ")[^1]);
        Assert.Equal(leader == EtcdClusterFixture.Silos[0] ? "yes" : "no", leadership[5].Split(" → ")[^1]);
        Assert.True(long.Parse(leadership[3].Split(" → ")[^1], System.Globalization.CultureInfo.InvariantCulture) >= 1, $"term {leadership[3]}");

        // The warm-up wrote its own keys, one set per caller, apart from the measured ones.
        var store = new CoordinationClient(fixture.Cluster.Client, () => EtcdClusterFixture.Silos, "bench-kv-test");
        Assert.Single((await store.RangeAsync(new RangeRequest("bench-warmup-2-0"u8.ToArray()))).Kvs);
    }

    [Fact]
    public async Task Bench_kv_spread_per_request_sends_each_callers_requests_to_every_endpoint_in_turn()
    {
        var console = new TestConsole();
        var markdown = Path.Combine(fixture.DataRoot, "bench-kv-spread.md");
        var endpoints = string.Join(",", EtcdClusterFixture.Silos.Select(fixture.Endpoint));

        var exitCode = await ClientApp.RunAsync(
            ["bench", "kv", "--endpoints", endpoints, "--clients", "1", "--ops", "12", "--keys", "3", "--warmup", "0", "--spread", "request", "--out", markdown],
            console.Console,
            console.Error);

        var text = await File.ReadAllTextAsync(markdown);
        output.WriteLine(text);
        Assert.Equal(ClientApp.ExitOk, exitCode);
        Assert.Contains("each client's requests spread round-robin over the endpoints (--spread request)", text, StringComparison.Ordinal);
        var row = text.Split('\n').First(l => l.StartsWith("| 1 | orleans |", StringComparison.Ordinal)).Split('|', StringSplitOptions.TrimEntries);
        Assert.Equal(("0", "0"), (row[6], row[10]));
    }

    // The cells of the row starting with rowStart in the table whose header starts with header (up to its blank line).
    private static string[] TableRow(string markdown, string header, string rowStart) =>
        markdown.Split('\n').SkipWhile(l => !l.StartsWith(header, StringComparison.Ordinal)).TakeWhile(l => l.Trim().Length > 0)
            .Single(l => l.StartsWith(rowStart, StringComparison.Ordinal)).Split('|', StringSplitOptions.TrimEntries);

    [Fact]
    public async Task Bench_kv_refuses_an_unknown_spread_naming_the_choices()
    {
        var console = new TestConsole();

        var exitCode = await ClientApp.RunAsync(["bench", "kv", "--spread", "sometimes", "--endpoints", "http://127.0.0.1:1"], console.Console, console.Error);

        Assert.NotEqual(ClientApp.ExitOk, exitCode);
        Assert.Contains("sometimes", console.Error.ToString(), StringComparison.Ordinal);
        Assert.Contains("request", console.Error.ToString(), StringComparison.Ordinal);
    }
}
