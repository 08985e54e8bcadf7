using Orleans.Patterns.Client;
using Orleans.Patterns.Client.Commands;
using Orleans.Patterns.Client.Workload.Resilience;
using Orleans.Patterns.Client.Workload.Sharding;
using Orleans.Patterns.Sharding;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Client;

/// <summary>What <c>shards</c> and the sharded workload make of the silos' shard-host reports, without a cluster.</summary>
[Trait("Category", "Unit")]
public sealed class ShardsCommandTests(ITestOutputHelper output)
{
    private static readonly ShardMap Map = new(3, ["silo-1", "silo-2", "silo-3"], [.. Enumerable.Range(0, 12).Select(s => $"silo-{(s % 3) + 1}")]);

    [Fact]
    public void Shards_shows_each_silo_the_epoch_disagreement_a_silent_silo_and_the_hot_shards()
    {
        var console = new TestConsole();
        ShardHostReply[] replies =
        [
            new("silo-1", Report("silo-1", 3, 300, new ShardLoad(5, 40, 250), new ShardLoad(2, 10, 50)), new ShardMapView(3, "raft", ShardMapCodec.Encode(Map)), null),
            new("silo-2", Report("silo-2", 2, 100, new ShardLoad(7, 12, 90)) with { MisplacedUsers = 4, HandOffsPending = 1 }, null, null),
            new("silo-3", null, null, "Response did not arrive on time"),
        ];

        ShardsCommand.Show(new ConsoleView(console.Console), replies, topCount: 2);

        output.WriteLine(console.Output);
        var text = console.Output;
        Assert.Contains("shard map epoch 3 (source raft): 12 shards over 3 silos", text, StringComparison.Ordinal);
        Assert.Contains("silos disagree on the epoch: silo-1 3, silo-2 2", text, StringComparison.Ordinal);
        Assert.Contains("silo-3: no answer (Response did not arrive on time)", text, StringComparison.Ordinal);
        var silo2 = Cells(text, "silo-2");
        Assert.Equal(["silo-2", "2 raft", "4/4", "20", "4", "100", "0.50", "1/0", "0", "0"], silo2);
        Assert.Equal(["silo-3", "no answer", "4/?"], Cells(text, "silo-3").Take(3));
        Assert.Contains("40 active users, 4 misplaced, 400 ops/s, max/avg 1.50; 1 hand-offs pending", text, StringComparison.Ordinal);
        Assert.Contains("busiest shards: #5 on silo-1 250/s (40 users), #7 on silo-2 90/s (12 users)", text, StringComparison.Ordinal);
        Assert.DoesNotContain("#2 on", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Shards_without_any_answer_says_so()
    {
        var console = new TestConsole();

        ShardsCommand.Show(new ConsoleView(console.Console), [new("silo-1", null, null, "no shard host")], topCount: 5);

        Assert.Contains("no shard map yet", console.Output, StringComparison.Ordinal);
        Assert.Contains("no silo's shard host answered", console.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void The_run_summary_averages_each_silos_reports_and_keeps_the_busiest_shards()
    {
        var samples = new ShardLoadSamples();
        samples.Add([new("silo-1", Report("silo-1", 3, 100), null, null), new("silo-2", Report("silo-2", 3, 100), null, null)]);
        samples.Add([new("silo-1", Report("silo-1", 3, 300, new ShardLoad(1, 5, 200)), null, null), new("silo-2", null, null, "timeout")]);
        var totals = new ResilienceTotals(4, 2, 1, 1, 3, 0);

        var summary = samples.Summarize(totals, epoch: 3);

        Assert.Equal("silo-1 300/s · silo-2 no answer · max/avg 1.00", samples.Status());
        Assert.Equal([("silo-1", 200.0, 300.0, 2), ("silo-2", 100.0, 100.0, 1)],
            summary.Silos.Select(s => (s.Silo, s.OpsPerSecond, s.PeakOpsPerSecond, s.Samples)));
        Assert.Equal(200.0 / 150.0, summary.MaxOverAverage, 9);
        Assert.Equal(new HotShard(1, "silo-1", 5, 200), Assert.Single(summary.HotShards));
        Assert.Same(totals, summary.Resilience);
        Assert.Equal(3, summary.Epoch);
    }

    [Fact]
    public void The_sharding_summary_prints_load_hot_shards_and_resilience_counters()
    {
        var console = new TestConsole();
        var summary = new ShardingSummary(
            [new SiloShardLoad("silo-1", 300, 350, 4, 20, 3, 5), new SiloShardLoad("silo-2", 100, 120, 4, 10, 3, 5)], 1.5,
            [new HotShard(1, "silo-1", 5, 200)], new ResilienceTotals(4, 2, 1, 1, 3, 0), 3);

        new ConsoleView(console.Console).Sharding(summary);

        output.WriteLine(console.Output);
        Assert.Contains("max/avg load across silos 1.50", console.Output, StringComparison.Ordinal);
        Assert.Contains("busiest shards: #1 on silo-1 200/s (5 users)", console.Output, StringComparison.Ordinal);
        Assert.Contains("resilience: 4 retries, 2 stale epochs (1 map refreshes), 1 circuits opened, 3 rejected by an open circuit, 0 unknown outcomes",
            console.Output, StringComparison.Ordinal);
    }

    /// <summary>The cells of the table row of <paramref name="silo"/>.</summary>
    private static string[] Cells(string text, string silo) => text.Split('\n')
        .Select(l => l.Split('│', StringSplitOptions.TrimEntries))
        .First(cells => cells.Length > 2 && cells[1] == silo)[1..^1];

    private static ShardHostReport Report(string silo, long epoch, double opsPerSecond, params ShardLoad[] hot) =>
        new(silo, epoch, "raft", 4, 20, 0, opsPerSecond, 0, 0, 0, hot, 0);
}
