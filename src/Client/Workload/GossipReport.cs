using System.Globalization;
using System.Text;
using Orleans.Patterns.Gossip.Simulation;

namespace Orleans.Patterns.Client.Workload;

/// <summary>The figures of <c>bench gossip</c> as markdown, and its convergence plot as SVG.</summary>
internal static class GossipReport
{
    public static string Markdown(IReadOnlyList<GossipScenarioResult> results, string commandLine)
    {
        var scenario = results[0].Scenario;
        var o = scenario.Options;
        var text = BenchMarkdown.Start(commandLine);
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Simulated: {scenario.Members} members, seed {scenario.Seed}, loss {scenario.Loss:0.###}, {scenario.StallFraction:P0} of members stall once for " +
            $"{scenario.StallMin.TotalSeconds:0.#}–{scenario.StallMax.TotalSeconds:0.#} s, " +
            $"{scenario.SlowFraction:P0} read every message {scenario.SlowLag.TotalMilliseconds:0} ms late from {scenario.FaultsFrom.TotalSeconds:0} s to {(scenario.Duration - TimeSpan.FromSeconds(10)).TotalSeconds:0} s, " +
            $"{scenario.Crashes} crashes a second apart from {scenario.FaultsFrom.TotalSeconds:0} s, {scenario.Duration.TotalSeconds:0} s simulated, the update made at {scenario.WarmUp.TotalSeconds:0} s. " +
            $"Timings (memberlist LAN): probe every {Ms(o.ProbeInterval)} ms, probe timeout {Ms(o.ProbeTimeout)} ms, {o.IndirectChecks} indirect probes, " +
            $"gossip every {Ms(o.GossipInterval)} ms to {o.GossipFanout}, retransmit ×{o.RetransmitMultiplier}·log10(N+1), suspicion ×{o.SuspicionMultiplier} " +
            $"(Lifeguard up to ×{o.SuspicionMaxMultiplier}), push-pull every {o.PushPullInterval.TotalSeconds:0} s scaled with log N.");
        text.AppendLine();
        text.AppendLine("| | " + string.Join(" | ", results.Select(Mode)) + " |");
        text.AppendLine("|---|" + string.Concat(results.Select(_ => "---|")));
        foreach (var (label, value) in Rows(o))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {label} | {string.Join(" | ", results.Select(value))} |");
        }

        if (Ratios(results) is { } ratios)
        {
            text.AppendLine();
            text.AppendLine(ratios);
        }

        text.AppendLine();
        text.AppendLine("Messages sent over the whole run by kind, per live member per protocol period (the last row above counts only after warm-up):");
        text.AppendLine();
        foreach (var result in results)
        {
            var periods = LiveMemberPeriods(result);
            text.AppendLine(CultureInfo.InvariantCulture,
                $"- {Mode(result)}: {string.Join(", ", result.MessagesByKind.Select(k => $"{k.Key} {k.Value / periods:0.00}"))}");
        }

        text.AppendLine();
        text.AppendLine("Members informed of the update over time (ms since the update: members):");
        text.AppendLine();
        foreach (var result in results)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {Mode(result)}: {string.Join(", ", Curve(result, 12).Select(p => $"{p.Ms:0}: {p.Count}"))}");
        }

        return text.ToString();
    }

    private static double LiveMemberPeriods(GossipScenarioResult result)
    {
        var scenario = result.Scenario;
        var crashed = Enumerable.Range(0, scenario.Crashes).Sum(i => (scenario.Duration - scenario.FaultsFrom - TimeSpan.FromSeconds(i)).TotalSeconds);
        return ((scenario.Members * scenario.Duration.TotalSeconds) - crashed) / scenario.Options.ProbeInterval.TotalSeconds;
    }

    public static string Mode(GossipScenarioResult result) => result.Lifeguard ? "SWIM + Lifeguard" : "plain SWIM";

    public static IEnumerable<(string Label, Func<GossipScenarioResult, string> Value)> Rows(Gossip.SwimOptions o) =>
    [
        ("99.99% informed after", r => r.Dissemination() is { } t ? $"{t.TotalSeconds:0.00} s" : "never"),
        ("… in gossip rounds / protocol periods", r => r.Dissemination() is { } t
            ? string.Create(CultureInfo.InvariantCulture, $"{t / o.GossipInterval:0.0} / {t / o.ProbeInterval:0.00}")
            : "-"),
        ("crash detected, p50 / p99 (all survivors)", r => string.Create(CultureInfo.InvariantCulture,
            $"{Sec(GossipScenarioResult.Percentile(r.Detection, 50))} / {Sec(GossipScenarioResult.Percentile(r.Detection, 99))} s")),
        ("crash to first suspicion, p50", r => Sec(GossipScenarioResult.Percentile(r.FirstSuspicion, 50)) + " s"),
        ("survivor–crash pairs never declared dead", r => Count(r.Undetected)),
        ("false suspicions (healthy members)", r => Count(r.FalseSuspicions)),
        ("suspicions of stalled or slow members", r => Count(r.StallSuspicions)),
        ("false deaths declared (members)", r => $"{Count(r.FalseDeaths)} ({Count(r.FalselyDeadMembers)})"),
        ("messages per member per period", r => r.MessagesPerMemberPerPeriod.ToString("0.00", CultureInfo.InvariantCulture)),
        ("updates per message", r => r.UpdatesPerMessage.ToString("0.00", CultureInfo.InvariantCulture)),
        ("highest local health multiplier", r => Count(r.MaxLocalHealth)),
        ("wall time", r => $"{r.WallTime.TotalSeconds:0.0} s"),
    ];

    public static string? Ratios(IReadOnlyList<GossipScenarioResult> results)
    {
        var lifeguard = results.FirstOrDefault(r => r.Lifeguard);
        var plain = results.FirstOrDefault(r => !r.Lifeguard);
        if (lifeguard is null || plain is null)
        {
            return null;
        }

        var suspicions = lifeguard.FalseSuspicions == 0
            ? $"{plain.FalseSuspicions} vs 0 (ratio unbounded{(plain.FalseSuspicions == 0 ? ": neither had any" : string.Empty)})"
            : string.Create(CultureInfo.InvariantCulture, $"{(double)plain.FalseSuspicions / lifeguard.FalseSuspicions:0.0}×");
        var detection = GossipScenarioResult.Percentile(plain.Detection, 50).TotalSeconds;
        var detectionRatio = detection == 0 ? "-" : (GossipScenarioResult.Percentile(lifeguard.Detection, 50).TotalSeconds / detection).ToString("0.00", CultureInfo.InvariantCulture);
        return $"Plain SWIM / Lifeguard false suspicions: {suspicions}; false deaths {plain.FalseDeaths} vs {lifeguard.FalseDeaths}; " +
            $"Lifeguard / plain median detection time: {detectionRatio}.";
    }

    /// <summary>Up to <paramref name="points"/> (ms, informed) points, evenly spaced in informed count.</summary>
    public static IEnumerable<(double Ms, int Count)> Curve(GossipScenarioResult result, int points)
    {
        var informed = result.Informed;
        for (var i = 1; i <= points; i++)
        {
            var index = Math.Max(0, (int)Math.Ceiling((double)informed.Count * i / points) - 1);
            yield return (informed[index].TotalMilliseconds, index + 1);
        }
    }

    /// <summary>Members informed over time, one step line per mode; hand-written SVG, no dependencies.</summary>
    public static string Svg(IReadOnlyList<GossipScenarioResult> results)
    {
        const double width = 640, height = 400, left = 70, right = 20, top = 40, bottom = 50;
        var n = results[0].Audience;
        var end = results.Max(r => r.Informed.Count == 0 ? 0 : r.Informed[^1].TotalMilliseconds);
        end = Math.Max(100, Math.Ceiling(end * 1.1 / 100) * 100);
        double X(double ms) => left + ((width - left - right) * ms / end);
        double Y(double count) => height - bottom - ((height - top - bottom) * count / n);
        var svg = new StringBuilder();
        svg.AppendLine(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">");
        svg.AppendLine("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
        svg.AppendLine(CultureInfo.InvariantCulture,
            $"<text x=\"{left}\" y=\"22\" font-size=\"14\">Members informed of one update, {n} members, loss {results[0].Scenario.Loss:0.###}, seed {results[0].Scenario.Seed}</text>");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{Y(0)}\" x2=\"{width - right}\" y2=\"{Y(0)}\" stroke=\"black\"/>");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{Y(0)}\" x2=\"{left}\" y2=\"{top}\" stroke=\"black\"/>");
        for (var i = 0; i <= 5; i++)
        {
            var ms = end * i / 5;
            var count = n * i / 5.0;
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{X(ms):0.#}\" y=\"{height - bottom + 18}\" text-anchor=\"middle\">{ms:0}</text>");
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{left - 6}\" y=\"{Y(count) + 4:0.#}\" text-anchor=\"end\">{count:0}</text>");
            svg.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{Y(count):0.#}\" x2=\"{width - right}\" y2=\"{Y(count):0.#}\" stroke=\"#ddd\"/>");
        }

        svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{(left + width - right) / 2}\" y=\"{height - 12}\" text-anchor=\"middle\">ms since the update</text>");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"16\" y=\"{(top + height - bottom) / 2}\" transform=\"rotate(-90 16 {(top + height - bottom) / 2})\" text-anchor=\"middle\">members informed</text>");
        var colors = new[] { "#1f77b4", "#d62728" };
        for (var r = 0; r < results.Count; r++)
        {
            var points = new StringBuilder();
            var informed = results[r].Informed;
            for (var i = 0; i < informed.Count; i++)
            {
                var ms = informed[i].TotalMilliseconds;
                points.Append(CultureInfo.InvariantCulture, $"{X(ms):0.##},{Y(i):0.##} {X(ms):0.##},{Y(i + 1):0.##} ");
            }

            points.Append(CultureInfo.InvariantCulture, $"{X(end):0.##},{Y(informed.Count):0.##}");
            svg.AppendLine(CultureInfo.InvariantCulture,
                $"<polyline fill=\"none\" stroke=\"{colors[r % colors.Length]}\" stroke-width=\"1.5\" {(r > 0 ? "stroke-dasharray=\"5,3\" " : string.Empty)}points=\"{points}\"/>");
            svg.AppendLine(CultureInfo.InvariantCulture,
                $"<text x=\"{width - right - 6}\" y=\"{Y(n * 0.3) + (r * 16):0.#}\" text-anchor=\"end\" fill=\"{colors[r % colors.Length]}\">{Mode(results[r])}</text>");
        }

        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static string Ms(TimeSpan value) => value.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture);

    private static string Sec(TimeSpan value) => value.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture);

    private static string Count(long value) => value.ToString(CultureInfo.InvariantCulture);
}
