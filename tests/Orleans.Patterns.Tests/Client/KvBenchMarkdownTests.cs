using System.Diagnostics;
using HdrHistogram;
using Orleans.Patterns.Client.Commands;
using Orleans.Patterns.Client.Workload;

namespace Orleans.Patterns.Tests.Client;

/// <summary>
/// What <c>bench kv --rounds</c> writes: every round's figures labelled with its round, and per client count the
/// ratios against etcd as median and range over the rounds.
/// </summary>
[Trait("Category", "Unit")]
public sealed class KvBenchMarkdownTests
{
    private static readonly PutBenchSpec Sixteen = new(16, 1000, 128, 100);

    [Fact]
    public void Rounds_are_labelled_and_their_ratios_summarised_as_median_and_range()
    {
        KvBenchRow[] rows =
        [
            Row(1, oursPuts: 2000, etcdPuts: 1000, oursP99Ms: 4, etcdP99Ms: 8),
            Row(2, oursPuts: 1500, etcdPuts: 1000, oursP99Ms: 8, etcdP99Ms: 8),
            Row(3, oursPuts: 900, etcdPuts: 1000, oursP99Ms: 12, etcdP99Ms: 8),
        ];

        var markdown = BenchCommands.KvMarkdown(rows, "bench kv --rounds 3");

        Assert.Contains("| clients | round | system | puts/s |", markdown);
        Assert.Contains("| 16 | 2 | orleans | 1500 |", markdown);
        Assert.Contains("| 16 | 3 | etcd | 1000 |", markdown);
        Assert.Contains("| 16 | 3 | 0.90 | 1.50 |", markdown); // that round's own ratios
        Assert.Contains("| 16 | 3 | 1.50 (0.90-2.00) | 1.00 (0.50-1.50) |", markdown);
    }

    [Fact]
    public void A_single_round_keeps_the_tables_without_a_round_column_or_summary()
    {
        var markdown = BenchCommands.KvMarkdown([Row(1, oursPuts: 2000, etcdPuts: 1000, oursP99Ms: 4, etcdP99Ms: 8)], "bench kv");

        Assert.Contains("| clients | system | puts/s |", markdown);
        Assert.Contains("| 16 | 2.00 | 0.50 |", markdown);
        Assert.DoesNotContain("median", markdown);
    }

    [Fact]
    public void Leadership_shows_one_figure_where_it_held_and_before_and_after_where_an_election_moved_it()
    {
        var ours = Run("orleans", 2000, 4) with
        {
            LeaderBefore = new Leadership(0xa, 3, FirstEndpointLeads: true),
            LeaderAfter = new Leadership(0xb, 4, FirstEndpointLeads: false),
        };
        var etcd = Run("etcd", 1000, 8) with
        {
            LeaderBefore = new Leadership(0x1f, 2, FirstEndpointLeads: true),
            LeaderAfter = new Leadership(0x1f, 2, FirstEndpointLeads: true),
        };

        var markdown = BenchCommands.KvMarkdown([new KvBenchRow(Sixteen, ours, etcd)], "bench kv");

        Assert.Contains("| clients | system | term | leader (member id) | first endpoint leads |", markdown);
        Assert.Contains("| 16 | orleans | 3 → 4 | a → b | yes → no |", markdown);
        Assert.Contains("| 16 | etcd | 2 | 1f | yes |", markdown);
    }

    [Fact]
    public void Without_leadership_figures_there_is_no_leadership_table()
    {
        var markdown = BenchCommands.KvMarkdown([Row(1, oursPuts: 2000, etcdPuts: 1000, oursP99Ms: 4, etcdP99Ms: 8)], "bench kv");

        Assert.DoesNotContain("leader (member id)", markdown);
    }

    [Fact]
    public void The_median_of_an_even_count_is_the_mean_of_the_middle_two_and_ratios_not_taken_are_left_out()
    {
        Assert.Equal("1.25 (1.00-2.00)", BenchCommands.MedianAndRange([2.0, 1.0, 1.5, 1.0]));
        Assert.Equal("1.00 (1.00-1.00)", BenchCommands.MedianAndRange([double.NaN, 1.0]));
        Assert.Equal("-", BenchCommands.MedianAndRange([double.NaN]));
    }

    private static KvBenchRow Row(int round, double oursPuts, double etcdPuts, double oursP99Ms, double etcdP99Ms) =>
        new(Sixteen, Run("orleans", oursPuts, oursP99Ms), Run("etcd", etcdPuts, etcdP99Ms), round);

    // A second's worth of operations at the given rate, every one of them taking the given latency.
    private static KvBenchRun Run(string system, double perSecond, double latencyMs)
    {
        var latency = new LongHistogram(Stopwatch.Frequency * 10, 3);
        var ticks = (long)(latencyMs * Stopwatch.Frequency / 1000);
        latency.RecordValueWithCount(ticks, (long)perSecond);
        var phase = new PhaseResult("puts", (long)perSecond, 0, TimeSpan.FromSeconds(1), latency);
        var result = new PutBenchResult(Sixteen, phase, null, system);
        return new KvBenchRun(system, system, result, result);
    }
}
