using System.CommandLine;
using System.Globalization;
using Orleans.Patterns.Client.Cluster;
using Orleans.Patterns.Gossip;
using Spectre.Console;

namespace Orleans.Patterns.Client.Commands;

/// <summary>
/// <c>members</c> and <c>health</c>: each silo's gossip view of the cluster, and each silo's heartbeat watchdog. The
/// silos asked are those Orleans lists as active; a silo whose gossip member does not answer is shown as such.
/// </summary>
internal static class GossipCommands
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(3);

    public static Command Members(ConsoleView view)
    {
        var connection = new ConnectionOptions();
        var of = new Option<string>("--view") { Description = "Show this silo's view in full (status, incarnation, address, tags, last change)." };
        var matrix = new Option<bool>("--matrix") { Description = "Each silo's view of each silo, side by side, so disagreement shows (the default without --view)." };
        var command = new Command("members", "Gossip membership views: what each silo's SWIM member believes about every silo.") { of, matrix };
        connection.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var cluster = await connection.ConnectAsync(parse, cancellationToken);
            var silos = await RaftCommands.ActiveReplicasAsync(cluster);
            if (parse.GetValue(of) is { } one)
            {
                if (parse.GetValue(matrix))
                {
                    throw new UsageException("--view and --matrix show different things; pass one of them.");
                }

                if (!silos.Contains(one, StringComparer.Ordinal))
                {
                    throw new UsageException($"--view {one} is not an active silo; active: {string.Join(", ", silos)}.");
                }

                var reply = await SiloQueries.AskEachAsync([one], s => cluster.Client.GetGrain<IGossipGrain>(s).GetView(), CallTimeout);
                if (reply[one] is not GossipView v)
                {
                    throw new ClusterUnavailableException($"The gossip member of {one} did not answer: {reply[one]}");
                }

                var table = new Table().AddColumns("member", "status", "incarnation", "address", "since change", "tags");
                foreach (var m in v.Members)
                {
                    table.AddRow(Markup.Escape(m.Name), Status(m.Status), m.Incarnation.ToString(CultureInfo.InvariantCulture), Markup.Escape(m.Address),
                        Ago(m.SinceChange), Markup.Escape(string.Join(" ", m.Tags.Select(t => $"{t.Key}={t.Value}"))));
                }

                view.Console.Write(table);
                view.Note($"{v.Silo}'s view; its own incarnation {v.Incarnation}, local health {v.LocalHealth} (0 is healthy)");
                return ClientApp.ExitOk;
            }

            var views = await SiloQueries.AskEachAsync(silos, s => cluster.Client.GetGrain<IGossipGrain>(s).GetView(), CallTimeout);
            var members = views.Values.OfType<GossipView>().SelectMany(v => v.Members.Select(m => m.Name)).Concat(silos)
                .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var grid = new Table().AddColumn("view of ↓ / by →");
            foreach (var silo in views.Keys)
            {
                grid.AddColumn(Markup.Escape(silo));
            }

            foreach (var member in members)
            {
                var row = new List<string> { Markup.Escape(member) };
                foreach (var (_, reply) in views)
                {
                    row.Add(reply is GossipView v
                        ? v.Members.FirstOrDefault(m => m.Name == member) is { } m ? $"{Status(m.Status)} {m.Incarnation % 10000:0000}" : "[grey]unknown[/]"
                        : "[red]no answer[/]");
                }

                grid.AddRow([.. row]);
            }

            view.Console.Write(grid);
            var disagree = members.Where(member => views.Values.OfType<GossipView>()
                .Select(v => v.Members.FirstOrDefault(m => m.Name == member)?.Status ?? "unknown").Distinct().Count() > 1).ToList();
            view.Note(disagree.Count == 0
                ? "every view agrees (incarnations shown by their last four digits)"
                : $"views disagree about {string.Join(", ", disagree)} (gossip is converging, or a silo is cut off)");
            return ClientApp.ExitOk;
        });
        return command;
    }

    public static Command Health(ConsoleView view)
    {
        var connection = new ConnectionOptions();
        var watch = new Option<bool>("--watch") { Description = "Refresh every second until Ctrl+C." };
        var command = new Command("health", "Each silo's heartbeat watchdog: phi of every peer it watches, convictions, recent verdicts.") { watch };
        connection.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var cluster = await connection.ConnectAsync(parse, cancellationToken);
            do
            {
                var silos = await RaftCommands.ActiveReplicasAsync(cluster);
                var replies = await SiloQueries.AskEachAsync(silos, s => cluster.Client.GetGrain<IHeartbeatWatchdogGrain>(s).GetHealth(), CallTimeout);
                var table = new Table().AddColumns("watchdog", "peer", "phi", "since heartbeat", "state");
                foreach (var (silo, reply) in replies)
                {
                    if (reply is not WatchdogHealth h)
                    {
                        table.AddRow(Markup.Escape(silo), "", "", "", $"[red]no answer[/] {Markup.Escape(reply as string ?? "")}");
                        continue;
                    }

                    foreach (var p in h.Peers)
                    {
                        var value = Math.Max(0, p.Phi); // no negative zero
                        var phi = value >= h.Threshold ? $"[red]{value:0.00}[/]" : value >= h.Threshold / 2 ? $"[yellow]{value:0.00}[/]" : $"{value:0.00}";
                        table.AddRow(Markup.Escape(silo), Markup.Escape(p.Peer), phi, p.SinceHeartbeat is { } s ? Ago(s) : "-",
                            p.Convicted ? "[red]convicted[/]" : "[green]ok[/]");
                    }
                }

                if (parse.GetValue(watch))
                {
                    view.Console.Clear();
                }

                view.Console.Write(table);
                var verdicts = replies.Values.OfType<WatchdogHealth>()
                    .SelectMany(h => h.RecentVerdicts.Select(v => (h.Silo, v)))
                    .OrderBy(x => x.v.Ago).Take(8).ToList();
                foreach (var (silo, v) in verdicts)
                {
                    view.Note($"{Ago(v.Ago)} ago: {silo} {v.Verdict.ToLowerInvariant()} {v.Peer} (phi {v.Phi:0.0})");
                }

                view.Note($"threshold phi {replies.Values.OfType<WatchdogHealth>().FirstOrDefault()?.Threshold ?? 8:0.#}; a convicted peer is reported to its watcher's gossip member as suspect");
                if (parse.GetValue(watch))
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                }
            }
            while (parse.GetValue(watch) && !cancellationToken.IsCancellationRequested);

            return ClientApp.ExitOk;
        });
        return command;
    }

    private static string Status(string status) => status switch
    {
        "Alive" => "[green]Alive[/]",
        "Suspect" => "[yellow]Suspect[/]",
        "Dead" => "[red]Dead[/]",
        _ => Markup.Escape(status),
    };

    private static string Ago(TimeSpan span) => span.TotalSeconds < 1
        ? $"{span.TotalMilliseconds:0} ms"
        : span.TotalMinutes < 2 ? $"{span.TotalSeconds:0.0} s" : $"{span.TotalMinutes:0} min";
}
