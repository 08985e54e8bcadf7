using System.CommandLine;
using System.Globalization;
using System.Text;
using Orleans.Patterns.Client.Cluster;
using Orleans.Patterns.Client.Workload;
using Orleans.Patterns.History;
using Spectre.Console;

namespace Orleans.Patterns.Client.Commands;

/// <summary>
/// <c>bench raft</c>: committed writes per second and their latency through the Raft replicas; <c>bench etcd</c>:
/// the same load against an etcd cluster, the baseline the Raft figures are judged against; <c>bench failover</c>:
/// how long writes stop when the leader's silo crashes.
/// </summary>
internal static partial class BenchCommands
{
    public static Command Create(ConsoleView view)
    {
        var command = new Command("bench", "Measure the patterns under load.");
        command.Subcommands.Add(Raft(view));
        command.Subcommands.Add(Etcd(view));
        command.Subcommands.Add(Kv(view));
        command.Subcommands.Add(Failover(view));
        command.Subcommands.Add(DetectCommand.Create(view));
        command.Subcommands.Add(Gossip(view));
        return command;
    }

    private static Command Failover(ConsoleView view)
    {
        var trials = new Option<int>("--trials") { Description = "Leader crashes, one per trial.", DefaultValueFactory = _ => 10 };
        var clients = new Option<int>("--clients") { Description = "Write sessions running through each crash.", DefaultValueFactory = _ => 4 };
        var probeAfter = new Option<int>("--probe-after")
        {
            Description = "Milliseconds a session's call may run before it asks the other replicas who leads; 0 waits for the call's own 5 s timeout.",
            DefaultValueFactory = _ => 100,
        };
        var output = new Option<string?>("--out") { Description = "Also write the trials, the summary and the command line as markdown to this file." };
        var clusterFile = ClusterCommands.ClusterFileOption();
        var command = new Command("failover",
            "Kill -9 the Raft leader's silo while sessions write; time the gap until a write commits again and until a survivor leads; restart it; repeat.")
        {
            trials, clients, probeAfter, output, clusterFile,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var probe = parse.GetValue(probeAfter);
            var spec = new FailoverBenchSpec(parse.GetValue(trials), parse.GetValue(clients), probe == 0 ? null : TimeSpan.FromMilliseconds(probe));
            spec.Validate();
            var file = await ClusterFile.LoadAsync(parse.GetValue(clusterFile) ?? ClusterFile.CurrentPath, cancellationToken);
            await using var cluster = await ClusterConnection.ConnectAsync(ClusterTarget.From(file), TimeSpan.FromSeconds(10), cancellationToken);
            var replicas = await RaftCommands.ActiveReplicasAsync(cluster);
            if (replicas.Count < 3)
            {
                throw new UsageException($"bench failover needs at least 3 active silos (a quorum must survive a crash); {replicas.Count} active.");
            }

            view.Step($"replicas {string.Join(", ", replicas)}; {spec.Trials} trials, {spec.Clients} sessions, probe after {(spec.ProbeAfter is { } p ? $"{p.TotalMilliseconds:0} ms" : "off")}");
            var results = await new FailoverBench(cluster, file, replicas, spec, view.Step).RunAsync(cancellationToken);
            var summary = FailoverSummary.Of(results);
            var table = new Table().AddColumns("", "median ms", "p90 ms", "max ms", "trials");
            table.AddRow("gap (kill to next committed write)", F0(summary.Gap.Median), F0(summary.Gap.P90), F0(summary.Gap.Max), summary.Gap.Count.ToString(CultureInfo.InvariantCulture));
            table.AddRow("kill to a survivor leading", F0(summary.Election.Median), F0(summary.Election.P90), F0(summary.Election.Max), summary.Election.Count.ToString(CultureInfo.InvariantCulture));
            view.Console.Write(table);

            if (parse.GetValue(output) is { } path)
            {
                var commandLine = "dotnet run -c Release --project src/Client -- " + string.Join(' ', parse.Tokens.Select(t => t.Value));
                await File.WriteAllTextAsync(path, FailoverMarkdown(results, summary, commandLine), cancellationToken);
                view.Note($"figures written to {Path.GetFullPath(path)}");
            }

            var missing = results.Count(r => r.Gap is null);
            if (missing > 0)
            {
                view.Bad($"{missing} trial(s) saw no write commit within 15 s of the crash");
                return ClientApp.ExitCheckFailed;
            }

            return ClientApp.ExitOk;
        });
        return command;
    }

    internal static string FailoverMarkdown(IReadOnlyList<FailoverTrial> trials, FailoverSummary summary, string commandLine)
    {
        var text = BenchMarkdown.Start(commandLine);
        text.AppendLine("| | median ms | p90 ms | max ms | trials |");
        text.AppendLine("|---|---|---|---|---|");
        text.AppendLine(CultureInfo.InvariantCulture, $"| gap: kill to the next committed write | {F0(summary.Gap.Median)} | {F0(summary.Gap.P90)} | {F0(summary.Gap.Max)} | {summary.Gap.Count} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| kill to a survivor leading | {F0(summary.Election.Median)} | {F0(summary.Election.P90)} | {F0(summary.Election.Max)} | {summary.Election.Count} |");
        text.AppendLine();
        text.AppendLine("| trial | killed (leader) | gap ms | new leader ms | successor | writes acknowledged | writes failed | restart s | catch-up s |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var t in trials)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {t.Number} | {t.Killed} | {Opt(t.Gap)} | {Opt(t.NewLeader)} | {t.Successor ?? "-"} | {t.Committed} | {t.Failed} | {t.Restart.TotalSeconds:0.0} | {t.CatchUp.TotalSeconds:0.0} |");
        }

        return text.ToString();

        static string Opt(TimeSpan? value) => value is { } v ? F0(v.TotalMilliseconds) : "none";
    }

    private static Command Raft(ConsoleView view)
    {
        var connection = new ConnectionOptions();
        var load = new LoadOptions("Concurrent sessions, each with its own client id and one write in flight.");
        var historyFile = new Option<string?>("--history") { Description = "Record every put (call and return times, outcome) as JSON lines to this file." };
        var maxBatch = new Option<int>("--max-batch")
        {
            Description = "Most puts of different sessions carried to the leader in one call (1: each put its own call).",
            DefaultValueFactory = _ => 256,
        };
        var maxInFlight = new Option<int>("--batches-in-flight")
        {
            Description = "Most calls to the leader in flight at once; further puts wait and leave together with the next.",
            DefaultValueFactory = _ => 1,
        };
        var linger = new Option<double>("--linger-ms")
        {
            Description = "Longest a freed call slot waits for the writers of the batch that just settled before the next batch leaves (0: never waits).",
            DefaultValueFactory = _ => 1,
        };
        var command = new Command("raft", "Puts through Raft sessions: committed writes/s, p50/p95/p99 latency, failures.")
        {
            historyFile, maxBatch, maxInFlight, linger,
        };
        load.AddTo(command);
        connection.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var spec = load.Spec(parse);
            await using var cluster = await connection.ConnectAsync(parse, cancellationToken);
            var replicas = await RaftCommands.ActiveReplicasAsync(cluster);
            var history = parse.GetValue(historyFile) is null ? null : new HistoryRecorder();
            if (parse.GetValue(maxBatch) < 1)
            {
                throw new UsageException($"--max-batch {parse.GetValue(maxBatch)} must be at least 1.");
            }

            if (parse.GetValue(maxInFlight) < 1)
            {
                throw new UsageException($"--batches-in-flight {parse.GetValue(maxInFlight)} must be at least 1.");
            }

            if (parse.GetValue(linger) is var lingerMs && (lingerMs < 0 || lingerMs > 1000 || double.IsNaN(lingerMs)))
            {
                throw new UsageException($"--linger-ms {lingerMs} must be between 0 and 1000.");
            }

            var bench = new RaftBench(cluster.Client, replicas, spec, history)
            {
                MaxBatch = parse.GetValue(maxBatch),
                MaxInFlight = parse.GetValue(maxInFlight),
                Linger = TimeSpan.FromMilliseconds(parse.GetValue(linger)),
            };

            view.Step($"replicas {string.Join(", ", replicas)}: one unmeasured put per session to find the leader");
            try
            {
                await bench.WarmUpAsync(cancellationToken);
            }
            catch (TimeoutException e)
            {
                throw new ClusterUnavailableException($"No Raft leader to write to: {ClusterConnection.FirstLine(e.Message)}", e);
            }

            var result = await view.WithProgressAsync($"raft puts: {spec.Operations} by {spec.Clients} clients", spec.Operations,
                () => bench.Completed, () => bench.RunAsync(cancellationToken));
            var statuses = await RaftCommands.QueryAsync(cluster.Client, replicas);
            Show(view, "raft", "leader", result);
            view.Note(string.Create(CultureInfo.InvariantCulture, $"mean puts per call to the leader: {bench.MeanBatch:0.0}"));

            if (parse.GetValue(historyFile) is { } historyPath)
            {
                await using (var writer = new StreamWriter(historyPath, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)))
                {
                    history!.WriteTo(writer);
                }

                view.Note($"history ({history!.Count} operations) written to {Path.GetFullPath(historyPath)}");
            }

            await load.WriteAsync(view, parse, ToMarkdown(result, CommandLine(parse), statuses), cancellationToken);
            return result.Writes.Failed > 0 ? ClientApp.ExitCheckFailed : ClientApp.ExitOk;
        });
        return command;
    }

    private static Command Etcd(ConsoleView view)
    {
        var load = new LoadOptions("Concurrent callers, each with one put in flight (spread round-robin over the endpoints).");
        var endpoints = new Option<string>("--endpoints")
        {
            Description = "Comma-separated etcd client URLs, e.g. http://127.0.0.1:2379,http://127.0.0.1:22379.",
            DefaultValueFactory = _ => "http://127.0.0.1:2379",
        };
        var command = new Command("etcd", "The same puts against etcd's v3 KV.Put (the baseline for bench raft): writes/s, p50/p95/p99, failures.")
        {
            endpoints,
        };
        load.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var spec = load.Spec(parse);
            var urls = EtcdBench.ParseEndpoints(parse.GetValue(endpoints));
            using var bench = new EtcdBench(urls, spec);

            view.Step($"etcd {bench.Endpoints}: one unmeasured put per caller to open the connections");
            try
            {
                await bench.WarmUpAsync(cancellationToken);
            }
            catch (Grpc.Core.RpcException e)
            {
                throw new ClusterUnavailableException($"Cannot put to etcd at {bench.Endpoints}: {e.Status.StatusCode} {e.Status.Detail}", e);
            }

            var result = await view.WithProgressAsync($"etcd puts: {spec.Operations} by {spec.Clients} clients", spec.Operations,
                () => bench.Completed, () => bench.RunAsync(cancellationToken));
            Show(view, "etcd", "endpoints", result);
            await load.WriteAsync(view, parse, ToMarkdown(result, CommandLine(parse), appendix: null), cancellationToken);
            return result.Writes.Failed > 0 ? ClientApp.ExitCheckFailed : ClientApp.ExitOk;
        });
        return command;
    }

    private static string CommandLine(ParseResult parse) =>
        "dotnet run -c Release --project src/Client -- " + string.Join(' ', parse.Tokens.Select(t => t.Value));

    private static void Show(ConsoleView view, string system, string targetColumn, PutBenchResult result)
    {
        var spec = result.Spec;
        var w = result.Writes;
        var table = new Table { Title = new TableTitle($"{system}: {spec.Clients} clients, {spec.Operations} puts of {spec.ValueSize} B over {spec.Keys} keys") }
            .AddColumns("committed", "failed", "writes/s", "p50 ms", "p95 ms", "p99 ms", "max ms", targetColumn);
        table.AddRow(w.Succeeded.ToString(CultureInfo.InvariantCulture), w.Failed.ToString(CultureInfo.InvariantCulture), F0(w.OpsPerSecond),
            F2(w.PercentileMs(50)), F2(w.PercentileMs(95)), F2(w.PercentileMs(99)), F2(w.PercentileMs(100)),
            Markup.Escape(result.Target));
        view.Console.Write(table);
        if (result.FirstError is not null)
        {
            view.Bad($"first failure: {result.FirstError}");
        }
    }

    internal static string ToMarkdown(PutBenchResult result, string commandLine, IReadOnlyDictionary<string, object> statuses)
    {
        var replicas = new StringBuilder();
        replicas.AppendLine("| replica | role | term | commit | snapshot | disk bytes |");
        replicas.AppendLine("|---|---|---|---|---|---|");
        foreach (var (name, reply) in statuses)
        {
            replicas.AppendLine(reply is Raft.RaftReplicaStatus s
                ? string.Create(CultureInfo.InvariantCulture, $"| {name} | {s.Role} | {s.Term} | {s.CommitIndex} | {s.SnapshotIndex} | {s.DiskBytes} |")
                : $"| {name} | unreachable | | | | |");
        }

        return ToMarkdown(result, commandLine, replicas.ToString());
    }

    /// <summary>One table row per run, the same columns for Raft and etcd, so results files line up.</summary>
    internal static string ToMarkdown(PutBenchResult result, string commandLine, string? appendix)
    {
        var spec = result.Spec;
        var w = result.Writes;
        var text = BenchMarkdown.Start(commandLine);
        text.AppendLine("| clients | puts | value | committed | failed | writes/s | p50 ms | p95 ms | p99 ms | max ms |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"| {spec.Clients} | {spec.Operations} | {spec.ValueSize} B | {w.Succeeded} | {w.Failed} | {F0(w.OpsPerSecond)} | {F2(w.PercentileMs(50))} | {F2(w.PercentileMs(95))} | {F2(w.PercentileMs(99))} | {F2(w.PercentileMs(100))} |");
        if (appendix is not null)
        {
            text.AppendLine();
            text.Append(appendix);
        }

        return text.ToString();
    }

    private static string F0(double value) => value.ToString("0", CultureInfo.InvariantCulture);

    private static string F2(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>The options both benches share, so the two are always run with the same load shape.</summary>
    private sealed class LoadOptions(string clientsDescription)
    {
        private readonly Option<int> _clients = new("--clients") { Description = clientsDescription, DefaultValueFactory = _ => 16 };
        private readonly Option<long> _ops = new("--ops") { Description = "Total puts.", DefaultValueFactory = _ => 5000 };
        private readonly Option<int> _valueSize = new("--value-size") { Description = "Bytes per value.", DefaultValueFactory = _ => 128 };
        private readonly Option<int> _keys = new("--keys") { Description = "Size of the key space (put i writes key i mod keys).", DefaultValueFactory = _ => 1000 };
        private readonly Option<string?> _output = new("--out") { Description = "Also write the figures and the command line as a markdown table to this file." };

        public void AddTo(Command command)
        {
            command.Options.Add(_clients);
            command.Options.Add(_ops);
            command.Options.Add(_valueSize);
            command.Options.Add(_keys);
            command.Options.Add(_output);
        }

        /// <summary>The validated spec; invalid values are usage errors, raised before anything is contacted.</summary>
        public PutBenchSpec Spec(ParseResult parse)
        {
            var spec = new PutBenchSpec(parse.GetValue(_clients), parse.GetValue(_ops), parse.GetValue(_valueSize), parse.GetValue(_keys));
            spec.Validate();
            return spec;
        }

        public async Task WriteAsync(ConsoleView view, ParseResult parse, string markdown, CancellationToken cancellationToken)
        {
            if (parse.GetValue(_output) is { } path)
            {
                await File.WriteAllTextAsync(path, markdown, cancellationToken);
                view.Note($"figures written to {Path.GetFullPath(path)}");
            }
        }
    }
}
