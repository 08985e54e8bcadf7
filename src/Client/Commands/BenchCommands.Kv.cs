using System.CommandLine;
using System.Globalization;
using Orleans.Patterns.Client.Cluster;
using Orleans.Patterns.Client.Workload;
using Spectre.Console;

namespace Orleans.Patterns.Client.Commands;

internal static partial class BenchCommands
{
    /// <summary>
    /// <c>bench kv</c>: the coordination service through its etcd v3 gRPC endpoints, and in the same run, with the same
    /// harness and gRPC client, an etcd cluster: puts/s and p50/p99, then linearizable reads, at each client count.
    /// </summary>
    private static Command Kv(ConsoleView view)
    {
        var clients = new Option<string>("--clients")
        {
            Description = "Comma-separated client counts, each a run of its own (each client has one request in flight).",
            DefaultValueFactory = _ => "1,16,100",
        };
        var ops = new Option<long>("--ops") { Description = "Puts per run, and as many reads.", DefaultValueFactory = _ => 3000 };
        var valueSize = new Option<int>("--value-size") { Description = "Bytes per value.", DefaultValueFactory = _ => 128 };
        var keys = new Option<int>("--keys") { Description = "Size of the key space (request i uses key i mod keys).", DefaultValueFactory = _ => 1000 };
        var endpoints = new Option<string?>("--endpoints")
        {
            Description = "The silos' etcd endpoints (http://host:port, comma-separated); default: every silo of the local cluster file.",
        };
        var etcd = new Option<string?>("--etcd")
        {
            Description = "An etcd cluster's endpoints to measure in the same run as the baseline, e.g. http://127.0.0.1:23790,http://127.0.0.1:23791.",
        };
        var output = new Option<string?>("--out") { Description = "Also write the figures, the ratios and the command line as markdown to this file." };
        var warmUp = new Option<double>("--warmup")
        {
            Description = "Seconds of unmeasured puts and reads by every caller before each system's run at each client count (0: one put each, to connect).",
            DefaultValueFactory = _ => 10,
        };
        var spread = new Option<string>("--spread")
        {
            Description = "How each client picks endpoints: 'client' (client i keeps endpoint i mod E) or 'request' (each request goes to the next endpoint, as etcd's client balances).",
            DefaultValueFactory = _ => "client",
        };
        spread.AcceptOnlyFromAmong("client", "request");
        var rounds = new Option<int>("--rounds")
        {
            Description = "Runs of each system at each client count (1-20). With --etcd, the order alternates each round (ours first, then etcd first) and the ratios are summarised as median and range: on a machine whose speed drifts, one pair can mislead.",
            DefaultValueFactory = _ => 1,
        };
        var clusterFile = ClusterCommands.ClusterFileOption();
        var command = new Command("kv", "Puts and linearizable reads through the silos' etcd API, against etcd in the same run: ops/s, p50/p99, ratios.")
        {
            clients, ops, valueSize, keys, endpoints, etcd, output, warmUp, spread, rounds, clusterFile,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var counts = ParseCounts(parse.GetValue(clients));
            var warmSeconds = parse.GetValue(warmUp);
            if (warmSeconds is < 0 or > 600 or double.NaN)
            {
                throw new UsageException($"--warmup {warmSeconds.ToString(CultureInfo.InvariantCulture)} must be between 0 and 600 seconds.");
            }

            var roundCount = parse.GetValue(rounds);
            if (roundCount is < 1 or > 20)
            {
                throw new UsageException($"--rounds {roundCount.ToString(CultureInfo.InvariantCulture)} must be between 1 and 20.");
            }

            var specs = counts.Select(c => new PutBenchSpec(c, parse.GetValue(ops), parse.GetValue(valueSize), parse.GetValue(keys))).ToList();
            specs.ForEach(s => s.Validate());
            var ours = parse.GetValue(endpoints) is { } given
                ? EtcdBench.ParseEndpoints(given)
                : await LocalEtcdEndpointsAsync(parse.GetValue(clusterFile), cancellationToken);
            var baseline = parse.GetValue(etcd) is { } other ? EtcdBench.ParseEndpoints(other) : null;

            var warm = TimeSpan.FromSeconds(warmSeconds);
            var perRequest = parse.GetValue(spread) == "request";
            var rows = new List<KvBenchRow>();
            foreach (var spec in specs)
            {
                for (var round = 1; round <= roundCount; round++)
                {
                    // Even rounds measure etcd first, so a machine that slows down or speeds up during a pair favours neither.
                    KvBenchRun? theirs = null;
                    if (baseline is not null && round % 2 == 0)
                    {
                        theirs = await RunKvAsync(view, "etcd", baseline, spec, warm, perRequest, cancellationToken);
                    }

                    var mine = await RunKvAsync(view, "orleans", ours, spec, warm, perRequest, cancellationToken);
                    if (baseline is not null && round % 2 == 1)
                    {
                        theirs = await RunKvAsync(view, "etcd", baseline, spec, warm, perRequest, cancellationToken);
                    }

                    rows.Add(new KvBenchRow(spec, mine, theirs, round));
                }
            }

            var markdown = KvMarkdown(rows, CommandLine(parse), perRequest);
            view.Console.Write(new Markup(Markup.Escape(markdown)));
            view.Console.WriteLine();
            if (parse.GetValue(output) is { } path)
            {
                await File.WriteAllTextAsync(path, markdown, cancellationToken);
                view.Note($"figures written to {Path.GetFullPath(path)}");
            }

            return rows.Any(r => r.Ours.Puts.Writes.Failed + r.Ours.Reads.Writes.Failed > 0) ? ClientApp.ExitCheckFailed : ClientApp.ExitOk;
        });
        return command;
    }

    private static IReadOnlyList<int> ParseCounts(string? text)
    {
        var counts = new List<int>();
        foreach (var part in (text ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            counts.Add(int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var count)
                ? count
                : throw new UsageException($"--clients {text}: '{part}' is not a whole number of clients."));
        }

        return counts.Count > 0 ? counts : throw new UsageException("--clients must list at least one client count, e.g. --clients 1,16,100.");
    }

    private static async Task<IReadOnlyList<Uri>> LocalEtcdEndpointsAsync(string? clusterFile, CancellationToken cancellationToken)
    {
        var file = await ClusterFile.LoadAsync(clusterFile ?? ClusterFile.CurrentPath, cancellationToken);
        var ports = file.Silos.Where(s => s.EtcdPort != 0).Select(s => new Uri($"http://127.0.0.1:{s.EtcdPort}")).ToList();
        return ports.Count > 0
            ? ports
            : throw new UsageException("The cluster file lists no silo with an etcd endpoint; pass --endpoints, or start the cluster with this version's `cluster up`.");
    }

    private static async Task<KvBenchRun> RunKvAsync(
        ConsoleView view, string system, IReadOnlyList<Uri> endpoints, PutBenchSpec spec, TimeSpan warmUp, bool spreadPerRequest, CancellationToken cancellationToken)
    {
        using var bench = new EtcdBench(endpoints, spec, spreadPerRequest);
        try
        {
            view.Step($"{system}: {spec.Clients} callers warming up for {warmUp.TotalSeconds:0.#} s (not measured)");
            await bench.WarmUpAsync(warmUp, cancellationToken);
        }
        catch (Grpc.Core.RpcException e)
        {
            throw new ClusterUnavailableException($"Cannot put to {system} at {bench.Endpoints}: {e.Status.StatusCode} {e.Status.Detail}", e);
        }

        // What the server processes spend per operation, where they run on this machine (nothing is sampled otherwise).
        var servers = ServerProcesses.Find(endpoints);
        var leaderBefore = await bench.LeadershipAsync(cancellationToken);
        var (puts, putUsage) = await MeasureAsync(servers, () => view.WithProgressAsync(
            $"{system} puts: {spec.Operations} by {spec.Clients} clients", spec.Operations, () => bench.Completed, () => bench.RunAsync(cancellationToken)));
        var (reads, readUsage) = await MeasureAsync(servers, () => view.WithProgressAsync(
            $"{system} linearizable reads: {spec.Operations} by {spec.Clients} clients", spec.Operations, () => bench.Completed, () => bench.RunReadsAsync(cancellationToken)));
        var leaderAfter = await bench.LeadershipAsync(cancellationToken);
        return new KvBenchRun(system, bench.Endpoints, puts, reads, putUsage, readUsage) { LeaderBefore = leaderBefore, LeaderAfter = leaderAfter };
    }

    private static async Task<(PutBenchResult Result, ServerUsage? Usage)> MeasureAsync(ServerProcesses? servers, Func<Task<PutBenchResult>> phase)
    {
        if (servers is null)
        {
            return (await phase(), null);
        }

        return await servers.MeasureAsync(phase, r => r.Writes.Succeeded);
    }

    internal static string KvMarkdown(IReadOnlyList<KvBenchRow> rows, string commandLine, bool spreadPerRequest = false)
    {
        var text = BenchMarkdown.Start(commandLine);
        var multiRound = rows.Any(r => r.Round > 1);
        var roundHeader = multiRound ? " round |" : "";
        var roundRule = multiRound ? "---|" : "";
        text.AppendLine("Puts (acknowledged = committed on a quorum's disks and applied) and linearizable reads (etcd: a quorum read; ours:");
        text.AppendLine("on the leader, from its lease unless raft:lease_reads is false, else after a heartbeat round), C clients with one request");
        text.AppendLine(spreadPerRequest
            ? "in flight each, each client's requests spread round-robin over the endpoints (--spread request)."
            : "in flight each, clients spread round-robin over the endpoints, each keeping its own.");
        text.AppendLine();
        text.AppendLine($"| clients |{roundHeader} system | puts/s | put p50 ms | put p99 ms | failed | reads/s | read p50 ms | read p99 ms | failed |");
        text.AppendLine($"|---|{roundRule}---|---|---|---|---|---|---|---|---|");
        foreach (var row in rows)
        {
            foreach (var run in new[] { row.Ours, row.Etcd }.OfType<KvBenchRun>())
            {
                var p = run.Puts.Writes;
                var r = run.Reads.Writes;
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {Key(row, multiRound)} | {run.System} | {F0(p.OpsPerSecond)} | {F2(p.PercentileMs(50))} | {F2(p.PercentileMs(99))} | {p.Failed} | {F0(r.OpsPerSecond)} | {F2(r.PercentileMs(50))} | {F2(r.PercentileMs(99))} | {r.Failed} |");
            }
        }

        if (rows.Any(r => r.Ours.PutUsage is not null || r.Etcd?.PutUsage is not null))
        {
            text.AppendLine();
            text.AppendLine("What the server processes spent (those listening on the endpoints, this machine; CPU is user + system time):");
            text.AppendLine();
            text.AppendLine($"| clients |{roundHeader} system | processes | put CPU µs/op | put context switches/op | read CPU µs/op | read context switches/op |");
            text.AppendLine($"|---|{roundRule}---|---|---|---|---|---|");
            foreach (var row in rows)
            {
                foreach (var run in new[] { row.Ours, row.Etcd }.OfType<KvBenchRun>().Where(r => r.PutUsage is not null))
                {
                    var p = run.PutUsage!;
                    var r = run.ReadUsage!;
                    text.AppendLine(CultureInfo.InvariantCulture,
                        $"| {Key(row, multiRound)} | {run.System} | {p.Processes} | {F0(p.CpuMicrosPerOp)} | {Switches(p)} | {F0(r.CpuMicrosPerOp)} | {Switches(r)} |");
                }
            }
        }

        if (rows.Any(r => r.Ours.LeaderBefore is not null || r.Etcd?.LeaderBefore is not null))
        {
            text.AppendLine();
            text.AppendLine("Raft leadership as the endpoints reported it (Maintenance.Status) before the measured puts and after the reads: a");
            text.AppendLine("higher term after means an election during the run; a first endpoint that does not lead forwards every request.");
            text.AppendLine();
            text.AppendLine($"| clients |{roundHeader} system | term | leader (member id) | first endpoint leads |");
            text.AppendLine($"|---|{roundRule}---|---|---|---|");
            foreach (var row in rows)
            {
                foreach (var run in new[] { row.Ours, row.Etcd }.OfType<KvBenchRun>())
                {
                    text.AppendLine(CultureInfo.InvariantCulture,
                        $"| {Key(row, multiRound)} | {run.System} | {Span(run, l => l.Term.ToString(CultureInfo.InvariantCulture))} | {Span(run, l => l.Leader == 0 ? "none" : l.Leader.ToString("x", CultureInfo.InvariantCulture))} | {Span(run, l => l.FirstEndpointLeads ? "yes" : "no")} |");
                }
            }
        }

        if (rows.Any(r => r.Etcd is not null))
        {
            text.AppendLine();
            text.AppendLine("Ratios, ours / etcd (puts/s: higher is better; latencies: lower is better):");
            text.AppendLine();
            text.AppendLine($"| clients |{roundHeader} puts/s | put p99 | read p50 | put CPU/op |");
            text.AppendLine($"|---|{roundRule}---|---|---|---|");
            foreach (var row in rows.Where(r => r.Etcd is not null))
            {
                var ratios = KvRatios.Of(row);
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {Key(row, multiRound)} | {RatioText(ratios.Puts)} | {RatioText(ratios.PutP99)} | {RatioText(ratios.ReadP50)} | {(ratios.PutCpu is { } cpu ? RatioText(cpu) : "-")} |");
            }
        }

        if (multiRound && rows.Any(r => r.Etcd is not null))
        {
            text.AppendLine();
            text.AppendLine("Ratios across the rounds, median (lowest-highest):");
            text.AppendLine();
            text.AppendLine("| clients | rounds | puts/s | put p99 | read p50 | put CPU/op |");
            text.AppendLine("|---|---|---|---|---|---|");
            foreach (var group in rows.Where(r => r.Etcd is not null).GroupBy(r => r.Spec.Clients))
            {
                var ratios = group.Select(KvRatios.Of).ToList();
                var cpu = ratios.Where(r => r.PutCpu is not null).Select(r => r.PutCpu!.Value).ToList();
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {group.Key} | {ratios.Count} | {MedianAndRange(ratios.Select(r => r.Puts))} | {MedianAndRange(ratios.Select(r => r.PutP99))} | {MedianAndRange(ratios.Select(r => r.ReadP50))} | {(cpu.Count > 0 ? MedianAndRange(cpu) : "-")} |");
            }
        }

        return text.ToString();
    }

    // One figure when it held through the run, "before → after" when it changed, "?" where no endpoint answered.
    private static string Span(KvBenchRun run, Func<Leadership, string> figure)
    {
        var before = run.LeaderBefore is { } b ? figure(b) : "?";
        var after = run.LeaderAfter is { } a ? figure(a) : "?";
        return before == after ? before : $"{before} → {after}";
    }

    private static string Switches(ServerUsage usage) =>
        usage.ContextSwitchesPerOp is { } perOp ? perOp.ToString("0.0", CultureInfo.InvariantCulture) : "-";

    private static string RatioText(double ratio) => double.IsFinite(ratio) ? F2(ratio) : "-";

    private static string Key(KvBenchRow row, bool multiRound) =>
        multiRound ? string.Create(CultureInfo.InvariantCulture, $"{row.Spec.Clients} | {row.Round}") : row.Spec.Clients.ToString(CultureInfo.InvariantCulture);

    /// <summary>The median of <paramref name="values"/> and their range, as <c>1.23 (1.01-1.40)</c>; a dash for none or for ratios that could not be taken.</summary>
    internal static string MedianAndRange(IEnumerable<double> values)
    {
        var sorted = values.Where(double.IsFinite).Order().ToList();
        if (sorted.Count == 0)
        {
            return "-";
        }

        return string.Create(CultureInfo.InvariantCulture, $"{F2(SortedValues.Median(sorted))} ({F2(sorted[0])}-{F2(sorted[^1])})");
    }
}

/// <summary>One system's puts and reads at one client count.</summary>
/// <param name="System">"orleans" or "etcd".</param>
/// <param name="Endpoints">The endpoints the callers used.</param>
/// <param name="Puts">The measured puts.</param>
/// <param name="Reads">The measured linearizable reads.</param>
/// <param name="PutUsage">What the server processes spent on the puts, where they could be sampled (see <see cref="ServerProcesses"/>).</param>
/// <param name="ReadUsage">The same for the reads.</param>
internal sealed record KvBenchRun(string System, string Endpoints, PutBenchResult Puts, PutBenchResult Reads, ServerUsage? PutUsage = null, ServerUsage? ReadUsage = null)
{
    /// <summary>Who led before the measured puts (null: not asked, or no endpoint answered).</summary>
    public Leadership? LeaderBefore { get; init; }

    /// <summary>Who led after the measured reads.</summary>
    public Leadership? LeaderAfter { get; init; }
}

/// <summary>One client count: ours, and etcd's when a baseline was given.</summary>
/// <param name="Spec">The client count and workload.</param>
/// <param name="Ours">The silos' run.</param>
/// <param name="Etcd">etcd's run, when a baseline was given.</param>
/// <param name="Round">Which round of <c>--rounds</c> (1 for a single round).</param>
internal sealed record KvBenchRow(PutBenchSpec Spec, KvBenchRun Ours, KvBenchRun? Etcd, int Round = 1);

/// <summary>One row's ratios, ours / etcd; NaN where etcd's figure is zero (no ratio to take).</summary>
internal readonly record struct KvRatios(double Puts, double PutP99, double ReadP50, double? PutCpu)
{
    public static KvRatios Of(KvBenchRow row)
    {
        var ours = row.Ours;
        var etcd = row.Etcd ?? throw new ArgumentException("The row has no etcd run to compare with.", nameof(row));
        return new KvRatios(
            Divide(ours.Puts.Writes.OpsPerSecond, etcd.Puts.Writes.OpsPerSecond),
            Divide(ours.Puts.Writes.PercentileMs(99), etcd.Puts.Writes.PercentileMs(99)),
            Divide(ours.Reads.Writes.PercentileMs(50), etcd.Reads.Writes.PercentileMs(50)),
            ours.PutUsage is { } o && etcd.PutUsage is { } e ? Divide(o.CpuMicrosPerOp, e.CpuMicrosPerOp) : null);
    }

    private static double Divide(double ours, double theirs) => theirs > 0 ? ours / theirs : double.NaN;
}
