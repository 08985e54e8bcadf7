using System.Globalization;
using System.Text;
using Orleans.Patterns.Users;
using Spectre.Console;

namespace Orleans.Patterns.Client.Workload;

/// <summary>
/// Placements compared on identical work in one run: the median over rounds of each phase's throughput, as a
/// ratio against Orleans' hash-based placement (the baseline, when it was measured).
/// </summary>
internal sealed record PlacementComparison(IReadOnlyList<PlacementComparison.Row> Rows, UserPlacement Baseline)
{
    internal sealed record Row(UserPlacement Placement, int Rounds, double FirstCallOpsPerSecond, double WarmOpsPerSecond,
        double FirstCallP99Ms, double WarmP99Ms, long Failed);

    public static PlacementComparison From(IEnumerable<WorkloadResult> results)
    {
        var rows = results.GroupBy(r => r.Spec.Placement)
            .Select(g => new Row(
                g.Key, g.Count(),
                Median(g.Select(r => r.FirstCall.OpsPerSecond)),
                Median(g.Select(r => r.Warm?.OpsPerSecond ?? 0)),
                Median(g.Select(r => r.FirstCall.PercentileMs(99))),
                Median(g.Select(r => r.Warm?.PercentileMs(99) ?? 0)),
                g.Sum(r => r.Total.Failed)))
            .ToList();
        var baseline = rows.Any(r => r.Placement == UserPlacement.Hash) ? UserPlacement.Hash : rows[0].Placement;
        return new PlacementComparison(rows, baseline);
    }

    public Table ToTable()
    {
        var table = new Table
        {
            Title = new TableTitle($"placement comparison: median of {Rows[0].Rounds} round(s), ratio against {Name(Baseline)} in the same run"),
        }.AddColumns("placement", "first-call ops/s", "ratio", "warm ops/s", "ratio", "first-call p99 ms", "warm p99 ms");
        foreach (var row in Rows)
        {
            table.AddRow(Name(row.Placement), $"{row.FirstCallOpsPerSecond:0}", FirstCallRatio(row), $"{row.WarmOpsPerSecond:0}", WarmRatio(row),
                $"{row.FirstCallP99Ms:0.00}", $"{row.WarmP99Ms:0.00}");
        }

        return table;
    }

    public string ToMarkdown(WorkloadSpec spec, int rounds)
    {
        var text = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture,
                $"Workload: {spec.Users} users, {spec.Operations} ops, concurrency {spec.Concurrency}, write ratio {spec.WriteRatio}, median of {rounds} round(s), {DateTime.UtcNow:u}")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture,
                $"| placement | first-call ops/s | ratio vs {Name(Baseline)} | warm ops/s | ratio vs {Name(Baseline)} | first-call p99 ms | warm p99 ms | failed |")
            .AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var row in Rows)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {Name(row.Placement)} | {row.FirstCallOpsPerSecond:0} | {FirstCallRatio(row)} | {row.WarmOpsPerSecond:0} | {WarmRatio(row)} | {row.FirstCallP99Ms:0.00} | {row.WarmP99Ms:0.00} | {row.Failed} |");
        }

        return text.ToString();
    }

    private Row BaselineRow => Rows.First(r => r.Placement == Baseline);

    private string FirstCallRatio(Row row) => Ratio(row.FirstCallOpsPerSecond, BaselineRow.FirstCallOpsPerSecond);

    private string WarmRatio(Row row) => Ratio(row.WarmOpsPerSecond, BaselineRow.WarmOpsPerSecond);

    private static string Ratio(double value, double baseline) =>
        baseline > 0 ? (value / baseline).ToString("0.00", CultureInfo.InvariantCulture) : "-";

    private static string Name(UserPlacement placement) => placement.ToString().ToLowerInvariant();

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : SortedValues.Median(sorted);
    }
}
