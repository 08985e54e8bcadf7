using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Orleans.Patterns.Client.Workload;
using Orleans.Patterns.History;
using Spectre.Console;

namespace Orleans.Patterns.Client.Commands;

/// <summary><c>bench raft</c>: committed writes per second and their latency through the Raft replicas.</summary>
internal static class BenchCommands
{
    public static Command Create(ConsoleView view)
    {
        var command = new Command("bench", "Measure the patterns under load.");
        command.Subcommands.Add(Raft(view));
        return command;
    }

    private static Command Raft(ConsoleView view)
    {
        var connection = new ConnectionOptions();
        var clients = new Option<int>("--clients") { Description = "Concurrent sessions, each with its own client id and one write in flight.", DefaultValueFactory = _ => 16 };
        var ops = new Option<long>("--ops") { Description = "Total puts.", DefaultValueFactory = _ => 5000 };
        var valueSize = new Option<int>("--value-size") { Description = "Bytes per value.", DefaultValueFactory = _ => 128 };
        var keys = new Option<int>("--keys") { Description = "Size of the key space (put i writes key i mod keys).", DefaultValueFactory = _ => 1000 };
        var output = new Option<string?>("--out") { Description = "Also write the figures and the command line as a markdown table to this file." };
        var historyFile = new Option<string?>("--history") { Description = "Record every put (call and return times, outcome) as JSON lines to this file." };
        var command = new Command("raft", "Puts through Raft sessions: committed writes/s, p50/p95/p99 latency, failures.")
        {
            clients, ops, valueSize, keys, output, historyFile,
        };
        connection.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var spec = new RaftBenchSpec(parse.GetValue(clients), parse.GetValue(ops), parse.GetValue(valueSize), parse.GetValue(keys));
            spec.Validate();
            await using var cluster = await connection.ConnectAsync(parse, cancellationToken);
            var replicas = await RaftCommands.ActiveReplicasAsync(cluster);
            var history = parse.GetValue(historyFile) is null ? null : new HistoryRecorder();
            var bench = new RaftBench(cluster.Client, replicas, spec, history);

            view.Step($"replicas {string.Join(", ", replicas)}: one unmeasured put per session to find the leader");
            try
            {
                await bench.WarmUpAsync(cancellationToken);
            }
            catch (TimeoutException e)
            {
                throw new ClusterUnavailableException($"No Raft leader to write to: {Cluster.ClusterConnection.FirstLine(e.Message)}", e);
            }

            var result = await view.WithProgressAsync($"raft puts: {spec.Operations} by {spec.Clients} clients", spec.Operations,
                () => bench.Completed, () => bench.RunAsync(cancellationToken));
            var statuses = await RaftCommands.QueryAsync(cluster.Client, replicas);
            Show(view, result);

            if (parse.GetValue(historyFile) is { } historyPath)
            {
                await using (var writer = new StreamWriter(historyPath, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)))
                {
                    history!.WriteTo(writer);
                }

                view.Note($"history ({history!.Count} operations) written to {Path.GetFullPath(historyPath)}");
            }

            if (parse.GetValue(output) is { } path)
            {
                var commandLine = "dotnet run -c Release --project src/Client -- " + string.Join(' ', parse.Tokens.Select(t => t.Value));
                await File.WriteAllTextAsync(path, ToMarkdown(result, commandLine, statuses), cancellationToken);
                view.Note($"figures written to {Path.GetFullPath(path)}");
            }

            return result.Writes.Failed > 0 ? ClientApp.ExitCheckFailed : ClientApp.ExitOk;
        });
        return command;
    }

    private static void Show(ConsoleView view, RaftBenchResult result)
    {
        var spec = result.Spec;
        var w = result.Writes;
        var table = new Table { Title = new TableTitle($"raft: {spec.Clients} clients, {spec.Operations} puts of {spec.ValueSize} B over {spec.Keys} keys") }
            .AddColumns("committed", "failed", "writes/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "leader");
        table.AddRow(w.Succeeded.ToString(CultureInfo.InvariantCulture), w.Failed.ToString(CultureInfo.InvariantCulture), F0(w.OpsPerSecond),
            F2(w.PercentileMs(50)), F2(w.PercentileMs(95)), F2(w.PercentileMs(99)), F2(w.PercentileMs(100)),
            Markup.Escape(result.LeaderBefore == result.LeaderAfter ? result.LeaderAfter ?? "-" : $"{result.LeaderBefore} -> {result.LeaderAfter}"));
        view.Console.Write(table);
        if (result.FirstError is not null)
        {
            view.Bad($"first failure: {result.FirstError}");
        }
    }

    internal static string ToMarkdown(RaftBenchResult result, string commandLine, IReadOnlyDictionary<string, object> statuses)
    {
        var spec = result.Spec;
        var w = result.Writes;
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"`{commandLine}`");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}");
        text.AppendLine();
        text.AppendLine("| clients | puts | value | committed | failed | writes/s | p50 ms | p95 ms | p99 ms | max ms |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"| {spec.Clients} | {spec.Operations} | {spec.ValueSize} B | {w.Succeeded} | {w.Failed} | {F0(w.OpsPerSecond)} | {F2(w.PercentileMs(50))} | {F2(w.PercentileMs(95))} | {F2(w.PercentileMs(99))} | {F2(w.PercentileMs(100))} |");
        text.AppendLine();
        text.AppendLine("| replica | role | term | commit | snapshot | disk bytes |");
        text.AppendLine("|---|---|---|---|---|---|");
        foreach (var (name, reply) in statuses)
        {
            text.AppendLine(reply is Raft.RaftReplicaStatus s
                ? string.Create(CultureInfo.InvariantCulture, $"| {name} | {s.Role} | {s.Term} | {s.CommitIndex} | {s.SnapshotIndex} | {s.DiskBytes} |")
                : $"| {name} | unreachable | | | | |");
        }

        return text.ToString();
    }

    private static string F0(double value) => value.ToString("0", CultureInfo.InvariantCulture);

    private static string F2(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);
}
