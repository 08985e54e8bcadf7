using System.CommandLine;
using System.Globalization;
using Orleans.Patterns.Client.Cluster;
using Orleans.Patterns.Client.Workload;
using Spectre.Console;

namespace Orleans.Patterns.Client.Commands;

/// <summary><c>bench detect</c>: how fast the gossip members and watchdogs notice a hung or killed silo, against Orleans' own membership.</summary>
internal static class DetectCommand
{
    public static Command Create(ConsoleView view)
    {
        var trials = new Option<int>("--trials") { Description = "Rounds; each round breaks one silo per fault.", DefaultValueFactory = _ => 10 };
        var faults = new Option<string>("--fault") { Description = "hang (SIGSTOP), kill (SIGKILL) or both.", DefaultValueFactory = _ => "both" };
        var orleans = new Option<bool>("--orleans-baseline")
        {
            Description = "After a kill, also time Orleans' own membership dropping the silo (adds 10-30 s per kill).",
            DefaultValueFactory = _ => true,
        };
        var output = new Option<string?>("--out") { Description = "Also write the trials, the summary and the command line as markdown to this file." };
        var clusterFile = ClusterCommands.ClusterFileOption();
        var command = new Command("detect",
            "Hang or kill a silo (never the primary); time until the survivors' watchdogs convict it and every gossip view lists it dead; bring it back; repeat.")
        {
            trials, faults, orleans, output, clusterFile,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var rounds = parse.GetValue(trials);
            if (rounds is < 1 or > 1000)
            {
                throw new UsageException($"--trials {rounds} must be between 1 and 1000.");
            }

            IReadOnlyList<DetectFault> kinds = parse.GetValue(faults) switch
            {
                "hang" => [DetectFault.Hang],
                "kill" => [DetectFault.Kill],
                "both" => [DetectFault.Hang, DetectFault.Kill],
                var other => throw new UsageException($"--fault {other} must be hang, kill or both."),
            };
            var file = await ClusterFile.LoadAsync(parse.GetValue(clusterFile) ?? ClusterFile.CurrentPath, cancellationToken);
            // Only through the first silo's gateway, a silo the bench never breaks: a client routes each grain's calls
            // through one gateway, and a hung gateway keeps its connection open, so it would stall the bench's own polls.
            var target = ClusterTarget.From(file) with { GatewayPorts = [file.Primary.GatewayPort], Redis = null };
            await using var cluster = await ClusterConnection.ConnectAsync(target, TimeSpan.FromSeconds(10), cancellationToken);
            view.Step($"{file.Silos.Count} silos; {rounds} rounds of {string.Join(" + ", kinds).ToLowerInvariant()}");
            var results = await new DetectBench(cluster, file, view.Step).RunAsync(kinds, rounds, parse.GetValue(orleans), cancellationToken);

            var table = new Table().AddColumns("fault", "measure", "p50 ms", "p99 ms", "max ms", "trials");
            var rows = Rows(results).ToList();
            foreach (var row in rows)
            {
                table.AddRow(row.Fault, row.Measure, F0(row.Figures.Median), F0(row.Figures.Percentile), F0(row.Figures.Max), row.Figures.Count.ToString(CultureInfo.InvariantCulture));
            }

            view.Console.Write(table);
            if (parse.GetValue(output) is { } path)
            {
                var commandLine = "dotnet run -c Release --project src/Client -- " + string.Join(' ', parse.Tokens.Select(t => t.Value));
                await File.WriteAllTextAsync(path, Markdown(results, rows, commandLine), cancellationToken);
                view.Note($"figures written to {Path.GetFullPath(path)}");
            }

            var undetected = results.Count(r => r.Dead is null);
            if (undetected > 0)
            {
                view.Bad($"{undetected} trial(s): the silo was not dead in every view within 30 s");
                return ClientApp.ExitCheckFailed;
            }

            return ClientApp.ExitOk;
        });
        return command;
    }

    private static IEnumerable<(string Fault, string Measure, NearestRank Figures)> Rows(IReadOnlyList<DetectTrial> results)
    {
        foreach (var group in results.GroupBy(r => r.Fault))
        {
            var fault = group.Key.ToString().ToLowerInvariant();
            yield return (fault, "first watchdog conviction", NearestRank.Of(group.Select(t => t.Convicted), 0.99));
            yield return (fault, "first gossip suspicion", NearestRank.Of(group.Select(t => t.Suspected), 0.99));
            yield return (fault, "dead in every gossip view", NearestRank.Of(group.Select(t => t.Dead), 0.99));
            if (group.Any(t => t.OrleansDead is not null))
            {
                yield return (fault, "Orleans membership drops it", NearestRank.Of(group.Select(t => t.OrleansDead), 0.99));
            }

            yield return (fault, "back: alive in every view", NearestRank.Of(group.Select(t => t.Back), 0.99));
        }
    }

    private static string Markdown(IReadOnlyList<DetectTrial> results, IReadOnlyList<(string Fault, string Measure, NearestRank Figures)> rows, string commandLine)
    {
        var text = BenchMarkdown.Start(commandLine);
        text.AppendLine("| fault | from the fault to | p50 ms | p99 ms | max ms | trials |");
        text.AppendLine("|---|---|---|---|---|---|");
        foreach (var (fault, measure, f) in rows)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {fault} | {measure} | {F0(f.Median)} | {F0(f.Percentile)} | {F0(f.Max)} | {f.Count} |");
        }

        text.AppendLine();
        text.AppendLine("| trial | fault | silo | convicted ms | suspected ms | dead everywhere ms | Orleans ms | back ms |");
        text.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var t in results)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {t.Number} | {t.Fault.ToString().ToLowerInvariant()} | {t.Victim} | {Ms(t.Convicted)} | {Ms(t.Suspected)} | {Ms(t.Dead)} | {Ms(t.OrleansDead)} | {Ms(t.Back)} |");
        }

        return text.ToString();
    }

    private static string Ms(TimeSpan? value) => value is { } v ? v.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) : "-";

    private static string F0(double value) => double.IsNaN(value) ? "-" : value.ToString("0", CultureInfo.InvariantCulture);
}
