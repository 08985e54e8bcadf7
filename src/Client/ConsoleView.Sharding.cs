using System.Globalization;
using Orleans.Patterns.Client.Workload.Sharding;
using Spectre.Console;

namespace Orleans.Patterns.Client;

/// <summary>The sharded workload's summary: load per silo, the busiest shards, what resilience did.</summary>
internal sealed partial class ConsoleView
{
    public void Sharding(ShardingSummary summary)
    {
        var total = Math.Max(1e-9, summary.Silos.Sum(s => s.OpsPerSecond));
        var table = new Table { Title = new TableTitle($"load per silo while the run went on (shard-map epoch {summary.Epoch})") }
            .AddColumns("silo", "ops/s (mean)", "ops/s (peak)", "share", "owned shards", "active users", "epoch", "reports");
        foreach (var s in summary.Silos)
        {
            table.AddRow(Markup.Escape(s.Silo), F("0", s.OpsPerSecond), F("0", s.PeakOpsPerSecond),
                s.Samples == 0 ? "[red]no answer[/]" : (s.OpsPerSecond / total).ToString("P1", CultureInfo.InvariantCulture),
                s.OwnedShards.ToString(CultureInfo.InvariantCulture), s.ActiveUsers.ToString(CultureInfo.InvariantCulture),
                s.Epoch.ToString(CultureInfo.InvariantCulture), s.Samples.ToString(CultureInfo.InvariantCulture));
        }

        console.Write(table);
        Note(summary.MaxOverAverage > 0
            ? $"max/avg load across silos {F("0.00", summary.MaxOverAverage)} (1.00 is perfectly even)"
            : "no silo reported its load (do the silos run the shard host?)");
        if (summary.HotShards.Count > 0)
        {
            Note("busiest shards: " + string.Join(", ", summary.HotShards.Select(h =>
                $"#{h.Shard} on {h.Silo} {F("0", h.OpsPerSecond)}/s ({h.ActiveUsers} users)")));
        }

        var r = summary.Resilience;
        var line = $"resilience: {r}";
        if (r.UnknownOutcomes > 0 || r.Rejected > 0)
        {
            Bad(line);
        }
        else
        {
            Note(line);
        }
    }

    private static string F(string format, double value) => value.ToString(format, CultureInfo.InvariantCulture);
}
