using Orleans.Patterns.Client.Cluster;
using Orleans.Patterns.Client.Workload;
using Spectre.Console;

namespace Orleans.Patterns.Client;

/// <summary>Everything the console prints: a readable narrative, tables for results.</summary>
internal sealed partial class ConsoleView(IAnsiConsole console)
{
    public IAnsiConsole Console => console;

    public void Heading(string text) => console.Write(new Rule($"[bold]{Markup.Escape(text)}[/]") { Justification = Justify.Left });

    public void Step(string text) => console.MarkupLine($"[grey]{DateTime.Now:HH:mm:ss}[/] {Markup.Escape(text)}");

    public void Good(string text) => console.MarkupLine($"[green]✔[/] {Markup.Escape(text)}");

    public void Bad(string text) => console.MarkupLine($"[red]✘[/] {Markup.Escape(text)}");

    public void Note(string text) => console.MarkupLine($"[grey]{Markup.Escape(text)}[/]");

    public void Silos(LocalCluster cluster)
    {
        var table = new Table().AddColumns("silo", "pid", "silo/gateway port", "dashboard", "etcd endpoint");
        foreach (var silo in cluster.Silos)
        {
            var e = silo.Endpoints;
            table.AddRow(e.Name, silo.ProcessId.ToString(), $"{e.SiloPort}/{e.GatewayPort}", Markup.Escape(e.DashboardUrl), e.EtcdEndpoint);
        }

        console.Write(table);
        var etcd = string.Join(',', cluster.Silos.Select(s => s.Endpoints).Where(e => e.EtcdPort != 0).Select(e => e.EtcdEndpoint));
        if (etcd.Length > 0)
        {
            Note($"etcd v3 API: ETCDCTL_API=3 etcdctl --endpoints={etcd} member list");
        }

        Note($"run directory (silo logs silo-N.log, grain state): {cluster.File.RunDirectory}");
    }

    public void Workload(WorkloadResult result, SortedDictionary<string, int>? usersPerSilo)
    {
        var spec = result.Spec;
        var table = new Table { Title = new TableTitle($"workload: {spec.Users} users, {spec.Operations} ops, concurrency {spec.Concurrency}, placement {spec.Placement.ToString().ToLowerInvariant()}") }
            .AddColumns("phase", "ok", "failed", "ops/s", "p50 ms", "p95 ms", "p99 ms");
        foreach (var phase in new[] { result.FirstCall, result.Warm, result.Total }.OfType<PhaseResult>())
        {
            table.AddRow(phase.Phase, phase.Succeeded.ToString(), phase.Failed.ToString(), phase.OpsPerSecond.ToString("0"),
                phase.PercentileMs(50).ToString("0.00"), phase.PercentileMs(95).ToString("0.00"), phase.PercentileMs(99).ToString("0.00"));
        }

        console.Write(table);
        if (result.FirstError is not null)
        {
            Bad($"first failure: {result.FirstError}");
        }

        if (usersPerSilo is not null)
        {
            UsersPerSilo(usersPerSilo);
        }
    }

    public void UsersPerSilo(SortedDictionary<string, int> usersPerSilo)
    {
        var total = Math.Max(1, usersPerSilo.Values.Sum());
        var chart = new BreakdownChart().Width(60);
        var colors = new[] { Color.SteelBlue, Color.Orange1, Color.SeaGreen2, Color.MediumPurple, Color.Gold1, Color.IndianRed };
        var i = 0;
        foreach (var (silo, count) in usersPerSilo)
        {
            chart.AddItem($"{silo} {count} ({100.0 * count / total:0.0}%)", count, colors[i++ % colors.Length]);
        }

        console.MarkupLine("user grains per silo:");
        console.Write(chart);
    }

    /// <summary>
    /// Runs <paramref name="work"/> with a live progress bar (a line every few seconds when output is not a terminal).
    /// A <paramref name="status"/> line (e.g. load per silo) is shown beside the label, or printed each second without a terminal.
    /// </summary>
    public async Task<T> WithProgressAsync<T>(string label, long total, Func<long> completed, Func<Task<T>> work, Func<string?>? status = null)
    {
        if (!console.Profile.Capabilities.Interactive)
        {
            var task = work();
            var every = status is null ? TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(1);
            while (await Task.WhenAny(task, Task.Delay(every)) != task)
            {
                Step(status?.Invoke() is { } line ? $"{label}: {completed()}/{total} · {line}" : $"{label}: {completed()}/{total}");
            }

            return await task;
        }

        return await console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var bar = ctx.AddTask(label, maxValue: total);
                var task = work();
                while (await Task.WhenAny(task, Task.Delay(TimeSpan.FromMilliseconds(100))) != task)
                {
                    bar.Value = completed();
                    if (status?.Invoke() is { } line)
                    {
                        bar.Description = $"{Markup.Escape(label)} [grey]{Markup.Escape(line)}[/]";
                    }
                }

                bar.Value = total;
                return await task;
            });
    }
}
