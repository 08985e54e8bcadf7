using System.CommandLine;
using System.Globalization;
using System.Text;
using Orleans.Patterns.Client.Cluster;
using Orleans.Patterns.Client.Workload;
using Orleans.Patterns.Users;
using Spectre.Console;

namespace Orleans.Patterns.Client.Commands;

/// <summary><c>workload</c>: user-grain calls with a live progress bar, latency percentiles and placement per silo.</summary>
internal static class WorkloadCommand
{
    public static Command Create(ConsoleView view)
    {
        var connection = new ConnectionOptions();
        var users = new Option<int>("--users") { Description = "Distinct users.", DefaultValueFactory = _ => 1000 };
        var ops = new Option<long>("--ops") { Description = "Total operations; the first --users of them are each user's first call.", DefaultValueFactory = _ => 20_000 };
        var concurrency = new Option<int>("--concurrency") { Description = "Concurrent callers.", DefaultValueFactory = _ => 32 };
        var placement = new Option<string>("--placement")
        {
            Description = "ring (consistent hash), hash (Orleans' hash-based), random, or all three in one run.",
            DefaultValueFactory = _ => "ring",
        };
        placement.AcceptOnlyFromAmong("ring", "hash", "random", "all");
        var writeRatio = new Option<double>("--write-ratio") { Description = "Share of operations that write (durably).", DefaultValueFactory = _ => 0.2 };
        var prefix = new Option<string?>("--user-prefix") { Description = "User id prefix (default: new per run, so every user starts fresh)." };
        var seed = new Option<int>("--seed") { Description = "Seed of the read/write mix.", DefaultValueFactory = _ => 42 };
        var vnodes = InspectCommands.VirtualNodesOption();
        var output = new Option<string?>("--out") { Description = "Also write the figures as a markdown table to this file." };

        var command = new Command("workload", "Drive user grains and report throughput, latency and where users live.")
        {
            users, ops, concurrency, placement, writeRatio, prefix, seed, vnodes, output,
        };
        connection.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var chosen = parse.GetValue(placement) == "all"
                ? new[] { UserPlacement.Ring, UserPlacement.Hash, UserPlacement.Random }
                : [Enum.Parse<UserPlacement>(parse.GetValue(placement)!, ignoreCase: true)];
            var userPrefix = parse.GetValue(prefix) ?? $"u{DateTime.UtcNow:HHmmss}-";
            await using var cluster = await connection.ConnectAsync(parse, cancellationToken);
            var results = new List<WorkloadResult>();
            foreach (var p in chosen)
            {
                var spec = new WorkloadSpec(parse.GetValue(users), parse.GetValue(ops), parse.GetValue(concurrency), p,
                    parse.GetValue(writeRatio), userPrefix, parse.GetValue(seed));
                var (result, _) = await RunAsync(view, cluster, spec, parse.GetValue(vnodes), cancellationToken);
                results.Add(result);
            }

            if (results.Count > 1)
            {
                Compare(view, results);
            }

            if (parse.GetValue(output) is { } path)
            {
                await File.WriteAllTextAsync(path, Markdown(results), cancellationToken);
                view.Note($"figures written to {Path.GetFullPath(path)}");
            }

            return results.Any(r => r.Total.Failed > 0) ? ClientApp.ExitCheckFailed : ClientApp.ExitOk;
        });
        return command;
    }

    /// <summary>Runs one workload, shows it, and checks ring-placed users against the client's own ring.</summary>
    public static async Task<(WorkloadResult Result, Dictionary<string, GrainLocation> Locations)> RunAsync(
        ConsoleView view, ClusterConnection cluster, WorkloadSpec spec, int virtualNodes, CancellationToken cancellationToken)
    {
        spec.Validate();
        var runner = new WorkloadRunner(cluster.Client, spec);
        var label = $"{spec.Placement.ToString().ToLowerInvariant()}: {spec.Operations} ops";
        var result = await view.WithProgressAsync(label, spec.Operations, () => runner.Completed, () => runner.RunAsync(cancellationToken));
        var userIds = Enumerable.Range(0, spec.Users).Select(i => spec.UserId(i)).ToList();
        var locations = await UserLocator.LocateAsync(cluster.Client, userIds, spec.Placement, cancellationToken);
        view.Workload(result, UserLocator.CountBySilo(locations.Values));
        if (spec.Placement == UserPlacement.Ring)
        {
            var ring = new ClientRing(await cluster.GetActiveSilosAsync(), virtualNodes);
            var misplaced = locations.Count(l => !l.Value.Silo.Equals(ring.OwnerOf(l.Key)));
            if (misplaced == 0)
            {
                view.Good($"all {locations.Count} users live on the silo the client's ring picks for them");
            }
            else
            {
                view.Bad($"{misplaced} of {locations.Count} users live elsewhere than the client's ring predicts " +
                         "(membership changed during the run, or --virtual-nodes differs from the silos')");
            }
        }

        return (result, locations);
    }

    private static void Compare(ConsoleView view, List<WorkloadResult> results)
    {
        var baseline = results.FirstOrDefault(r => r.Spec.Placement == UserPlacement.Hash) ?? results[0];
        var table = new Table
        {
            Title = new TableTitle($"placement comparison (ops/s ratio against {baseline.Spec.Placement.ToString().ToLowerInvariant()}, same run)"),
        }.AddColumns("placement", "first-call ops/s", "ratio", "warm ops/s", "ratio", "first-call p99 ms", "warm p99 ms");
        foreach (var r in results)
        {
            table.AddRow(
                r.Spec.Placement.ToString().ToLowerInvariant(),
                r.FirstCall.OpsPerSecond.ToString("0"), Ratio(r.FirstCall, baseline.FirstCall),
                r.Warm?.OpsPerSecond.ToString("0") ?? "-", r.Warm is null ? "-" : Ratio(r.Warm, baseline.Warm!),
                r.FirstCall.PercentileMs(99).ToString("0.00"), r.Warm?.PercentileMs(99).ToString("0.00") ?? "-");
        }

        view.Console.Write(table);
    }

    private static string Ratio(PhaseResult phase, PhaseResult baseline) =>
        baseline.OpsPerSecond > 0 ? (phase.OpsPerSecond / baseline.OpsPerSecond).ToString("0.00", CultureInfo.InvariantCulture) : "-";

    private static string Markdown(List<WorkloadResult> results)
    {
        var baseline = results.FirstOrDefault(r => r.Spec.Placement == UserPlacement.Hash) ?? results[0];
        var spec = results[0].Spec;
        var text = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"Workload: {spec.Users} users, {spec.Operations} ops, concurrency {spec.Concurrency}, write ratio {spec.WriteRatio}, {DateTime.UtcNow:u}")
            .AppendLine()
            .AppendLine("| placement | first-call ops/s | ratio vs hash | warm ops/s | ratio vs hash | first-call p50/p99 ms | warm p50/p99 ms | failed |")
            .AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Spec.Placement.ToString().ToLowerInvariant()} | {r.FirstCall.OpsPerSecond:0} | {Ratio(r.FirstCall, baseline.FirstCall)} | " +
                $"{r.Warm?.OpsPerSecond.ToString("0", CultureInfo.InvariantCulture) ?? "-"} | {(r.Warm is null ? "-" : Ratio(r.Warm, baseline.Warm!))} | " +
                $"{r.FirstCall.PercentileMs(50):0.00}/{r.FirstCall.PercentileMs(99):0.00} | " +
                $"{(r.Warm is null ? "-" : $"{r.Warm.PercentileMs(50):0.00}/{r.Warm.PercentileMs(99):0.00}")} | {r.Total.Failed} |");
        }

        return text.ToString();
    }
}
