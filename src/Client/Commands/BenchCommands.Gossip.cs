using System.CommandLine;
using Orleans.Patterns.Client.Workload;
using Orleans.Patterns.Gossip.Simulation;
using Spectre.Console;

namespace Orleans.Patterns.Client.Commands;

/// <summary><c>bench gossip</c>: SWIM with Lifeguard in the deterministic simulator, no cluster needed.</summary>
internal static partial class BenchCommands
{
    private static Command Gossip(ConsoleView view)
    {
        var members = new Option<int>("--members") { Description = "Simulated members (2 to 100000).", DefaultValueFactory = _ => 1000 };
        var loss = new Option<double>("--loss") { Description = "Probability that a message is lost, in [0, 1).", DefaultValueFactory = _ => 0 };
        var stallFraction = new Option<double>("--stall-fraction")
        {
            Description = "Fraction of members that each stall once for 2–5 s (neither send nor read, then process the backlog).",
            DefaultValueFactory = _ => 0.1,
        };
        var slowFraction = new Option<double>("--slow-fraction")
        {
            Description = "Fraction of members that read every message late (--slow-lag) from 10 s to 10 s before the end, timers on time: CPU starvation, as in Lifeguard's experiments.",
            DefaultValueFactory = _ => 0,
        };
        var slowLag = new Option<int>("--slow-lag") { Description = "Milliseconds a slow member reads its messages late.", DefaultValueFactory = _ => 1000 };
        var crashes = new Option<int>("--crashes") { Description = "Members that crash, a second apart, from 10 s.", DefaultValueFactory = _ => 5 };
        var seed = new Option<int>("--seed") { Description = "Seed of the run; the same seed replays it exactly.", DefaultValueFactory = _ => 1 };
        var duration = new Option<int>("--duration") { Description = "Simulated seconds.", DefaultValueFactory = _ => 60 };
        var compare = new Option<bool>("--compare") { Description = "Also run plain SWIM (no Lifeguard) on the same seed and faults, and print the ratios." };
        var output = new Option<string?>("--out") { Description = "Also write the figures and the command line as markdown to this file." };
        var svg = new Option<string?>("--svg") { Description = "Write the convergence plot (members informed over time) as SVG to this file." };
        var command = new Command("gossip",
            "Simulate a SWIM group with Lifeguard: time to spread an update to 99.99%, crash detection p50/p99, false suspicions and deaths under stalls, messages per member per period.")
        {
            members, loss, stallFraction, slowFraction, slowLag, crashes, seed, duration, compare, output, svg,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var scenario = new GossipScenario
            {
                Members = parse.GetValue(members),
                Loss = parse.GetValue(loss),
                StallFraction = parse.GetValue(stallFraction),
                SlowFraction = parse.GetValue(slowFraction),
                SlowLag = TimeSpan.FromMilliseconds(parse.GetValue(slowLag)),
                Crashes = parse.GetValue(crashes),
                Seed = parse.GetValue(seed),
                Duration = TimeSpan.FromSeconds(parse.GetValue(duration)),
            };
            Check(scenario.Members is >= 2 and <= 100_000, $"--members {scenario.Members} must be between 2 and 100000.");
            Check(scenario.Loss is >= 0 and < 1, $"--loss {scenario.Loss} must be at least 0 and below 1.");
            Check(scenario.StallFraction is >= 0 and <= 1, $"--stall-fraction {scenario.StallFraction} must be between 0 and 1.");
            Check(scenario.SlowFraction >= 0 && scenario.SlowFraction + scenario.StallFraction <= 1,
                $"--slow-fraction {scenario.SlowFraction} must be between 0 and 1 minus --stall-fraction.");
            Check(scenario.SlowLag >= TimeSpan.Zero, $"--slow-lag {scenario.SlowLag.TotalMilliseconds} must not be negative.");
            Check(scenario.Crashes >= 0 && scenario.Crashes <= scenario.Members / 2, $"--crashes {scenario.Crashes} must be between 0 and half the members.");
            Check(scenario.Duration >= TimeSpan.FromSeconds(20) && scenario.Duration <= TimeSpan.FromHours(1),
                $"--duration {scenario.Duration.TotalSeconds} must be between 20 and 3600 seconds (the faults start at 10 s).");
            scenario.Validate();

            var results = new List<GossipScenarioResult>();
            foreach (var lifeguard in parse.GetValue(compare) ? new[] { true, false } : [true])
            {
                view.Step($"simulating {scenario.Members} members for {scenario.Duration.TotalSeconds:0} s, {(lifeguard ? "SWIM + Lifeguard" : "plain SWIM")}, seed {scenario.Seed}");
                results.Add(await Task.Run(() => GossipExperiment.Run(scenario, lifeguard), cancellationToken));
            }

            var table = new Table { Title = new TableTitle($"gossip: {scenario.Members} members, loss {scenario.Loss}, stall fraction {scenario.StallFraction}, seed {scenario.Seed}") }
                .AddColumn("");
            foreach (var result in results)
            {
                table.AddColumn(GossipReport.Mode(result));
            }

            foreach (var (label, value) in GossipReport.Rows(scenario.Options))
            {
                table.AddRow([Markup.Escape(label), .. results.Select(r => Markup.Escape(value(r)))]);
            }

            view.Console.Write(table);
            if (GossipReport.Ratios(results) is { } ratios)
            {
                view.Note(ratios);
            }

            if (parse.GetValue(output) is { } path)
            {
                await File.WriteAllTextAsync(path, GossipReport.Markdown(results, CommandLine(parse)), cancellationToken);
                view.Note($"figures written to {Path.GetFullPath(path)}");
            }

            if (parse.GetValue(svg) is { } svgPath)
            {
                await File.WriteAllTextAsync(svgPath, GossipReport.Svg(results), cancellationToken);
                view.Note($"convergence plot written to {Path.GetFullPath(svgPath)}");
            }

            return ClientApp.ExitOk;
        });
        return command;

        static void Check(bool valid, string message)
        {
            if (!valid)
            {
                throw new UsageException(message);
            }
        }
    }
}
