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
        var clusterFile = ClusterCommands.ClusterFileOption();
        var command = new Command("kv", "Puts and linearizable reads through the silos' etcd API, against etcd in the same run: ops/s, p50/p99, ratios.")
        {
            clients, ops, valueSize, keys, endpoints, etcd, output, warmUp, spread, clusterFile,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var counts = ParseCounts(parse.GetValue(clients));
            var warmSeconds = parse.GetValue(warmUp);
            if (warmSeconds is < 0 or > 600 or double.NaN)
            {
                throw new UsageException($"--warmup {warmSeconds.ToString(CultureInfo.InvariantCulture)} must be between 0 and 600 seconds.");
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
                var mine = await RunKvAsync(view, "orleans", ours, spec, warm, perRequest, cancellationToken);
                var theirs = baseline is null ? null : await RunKvAsync(view, "etcd", baseline, spec, warm, perRequest, cancellationToken);
                rows.Add(new KvBenchRow(spec, mine, theirs));
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
        var (puts, putUsage) = await MeasureAsync(servers, () => view.WithProgressAsync(
            $"{system} puts: {spec.Operations} by {spec.Clients} clients", spec.Operations, () => bench.Completed, () => bench.RunAsync(cancellationToken)));
        var (reads, readUsage) = await MeasureAsync(servers, () => view.WithProgressAsync(
            $"{system} linearizable reads: {spec.Operations} by {spec.Clients} clients", spec.Operations, () => bench.Completed, () => bench.RunReadsAsync(cancellationToken)));
        return new KvBenchRun(system, bench.Endpoints, puts, reads, putUsage, readUsage);
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
        text.AppendLine("Puts (acknowledged = committed on a quorum's disks and applied) and linearizable reads (etcd: a quorum read; ours:");
        text.AppendLine("on the leader, from its lease unless raft:lease_reads is false, else after a heartbeat round), C clients with one request");
        text.AppendLine(spreadPerRequest
            ? "in flight each, each client's requests spread round-robin over the endpoints (--spread request)."
            : "in flight each, clients spread round-robin over the endpoints, each keeping its own.");
        text.AppendLine();
        text.AppendLine("| clients | system | puts/s | put p50 ms | put p99 ms | failed | reads/s | read p50 ms | read p99 ms | failed |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var row in rows)
        {
            foreach (var run in new[] { row.Ours, row.Etcd }.OfType<KvBenchRun>())
            {
                var p = run.Puts.Writes;
                var r = run.Reads.Writes;
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {row.Spec.Clients} | {run.System} | {F0(p.OpsPerSecond)} | {F2(p.PercentileMs(50))} | {F2(p.PercentileMs(99))} | {p.Failed} | {F0(r.OpsPerSecond)} | {F2(r.PercentileMs(50))} | {F2(r.PercentileMs(99))} | {r.Failed} |");
            }
        }

        if (rows.Any(r => r.Ours.PutUsage is not null || r.Etcd?.PutUsage is not null))
        {
            text.AppendLine();
            text.AppendLine("What the server processes spent (those listening on the endpoints, this machine; CPU is user + system time):");
            text.AppendLine();
            text.AppendLine("| clients | system | processes | put CPU µs/op | put context switches/op | read CPU µs/op | read context switches/op |");
            text.AppendLine("|---|---|---|---|---|---|---|");
            foreach (var row in rows)
            {
                foreach (var run in new[] { row.Ours, row.Etcd }.OfType<KvBenchRun>().Where(r => r.PutUsage is not null))
                {
                    var p = run.PutUsage!;
                    var r = run.ReadUsage!;
                    text.AppendLine(CultureInfo.InvariantCulture,
                        $"| {row.Spec.Clients} | {run.System} | {p.Processes} | {F0(p.CpuMicrosPerOp)} | {Switches(p)} | {F0(r.CpuMicrosPerOp)} | {Switches(r)} |");
                }
            }
        }

        if (rows.Any(r => r.Etcd is not null))
        {
            text.AppendLine();
            text.AppendLine("Ratios, ours / etcd (puts/s: higher is better; latencies: lower is better):");
            text.AppendLine();
            text.AppendLine("| clients | puts/s | put p99 | read p50 | put CPU/op |");
            text.AppendLine("|---|---|---|---|---|");
            foreach (var row in rows.Where(r => r.Etcd is not null))
            {
                var ours = row.Ours;
                var etcd = row.Etcd!;
                var cpu = ours.PutUsage is { } o && etcd.PutUsage is { } e ? Ratio(o.CpuMicrosPerOp, e.CpuMicrosPerOp) : "-";
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {row.Spec.Clients} | {Ratio(ours.Puts.Writes.OpsPerSecond, etcd.Puts.Writes.OpsPerSecond)} | {Ratio(ours.Puts.Writes.PercentileMs(99), etcd.Puts.Writes.PercentileMs(99))} | {Ratio(ours.Reads.Writes.PercentileMs(50), etcd.Reads.Writes.PercentileMs(50))} | {cpu} |");
            }
        }

        return text.ToString();
    }

    private static string Switches(ServerUsage usage) =>
        usage.ContextSwitchesPerOp is { } perOp ? perOp.ToString("0.0", CultureInfo.InvariantCulture) : "-";

    private static string Ratio(double ours, double theirs) => theirs > 0 ? (ours / theirs).ToString("0.00", CultureInfo.InvariantCulture) : "-";
}

/// <summary>One system's puts and reads at one client count.</summary>
/// <param name="System">"orleans" or "etcd".</param>
/// <param name="Endpoints">The endpoints the callers used.</param>
/// <param name="Puts">The measured puts.</param>
/// <param name="Reads">The measured linearizable reads.</param>
/// <param name="PutUsage">What the server processes spent on the puts, where they could be sampled (see <see cref="ServerProcesses"/>).</param>
/// <param name="ReadUsage">The same for the reads.</param>
internal sealed record KvBenchRun(string System, string Endpoints, PutBenchResult Puts, PutBenchResult Reads, ServerUsage? PutUsage = null, ServerUsage? ReadUsage = null);

/// <summary>One client count: ours, and etcd's when a baseline was given.</summary>
internal sealed record KvBenchRow(PutBenchSpec Spec, KvBenchRun Ours, KvBenchRun? Etcd);
