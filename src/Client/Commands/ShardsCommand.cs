using System.CommandLine;
using System.Globalization;
using Orleans.Patterns.Client.Workload.Sharding;
using Orleans.Patterns.Sharding;
using Spectre.Console;

namespace Orleans.Patterns.Client.Commands;

/// <summary>
/// <c>shards</c>: each silo's shard host: the epoch it routes by, the shards it owns, its users and load, its hand-offs.
/// The silos asked are those Orleans lists as active; a silo whose shard host does not answer is shown as such.
/// </summary>
internal static class ShardsCommand
{
    public static Command Create(ConsoleView view)
    {
        var connection = new ConnectionOptions();
        var watch = new Option<bool>("--watch") { Description = "Refresh every second until Ctrl+C." };
        var top = new Option<int>("--top") { Description = "How many of the busiest shards to list.", DefaultValueFactory = _ => 5 };
        var command = new Command("shards", "The shard map and each silo's shards, users, load and hand-offs.") { watch, top };
        connection.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var topCount = parse.GetValue(top);
            if (topCount is < 0 or > 100)
            {
                throw new UsageException($"--top {topCount} must be between 0 and 100.");
            }

            await using var cluster = await connection.ConnectAsync(parse, cancellationToken);
            do
            {
                var replies = await ShardHosts.AskAllAsync(cluster.Client, withMaps: true, cancellationToken);
                if (parse.GetValue(watch))
                {
                    view.Console.Clear();
                }

                Show(view, replies, topCount);
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

    /// <summary>Prints the replies of one round; public to the tests, which feed it replies without a cluster.</summary>
    internal static void Show(ConsoleView view, IReadOnlyList<ShardHostReply> replies, int topCount)
    {
        var reports = replies.Where(r => r.Answered).Select(r => r.Report!).ToList();
        var newestView = replies.Select(r => r.Map).OfType<ShardMapView>().MaxBy(m => m.Epoch);
        ShardMap? map = null;
        string? mapError = null;
        if (newestView is not null)
        {
            try
            {
                map = ShardMapCodec.Decode(newestView.Encoded);
            }
            catch (FormatException e)
            {
                mapError = e.Message;
            }
        }

        var epochs = reports.Select(r => r.Epoch).Distinct().Order().ToList();
        var heading = map is null
            ? "no shard map yet"
            : $"shard map epoch {map.Epoch} (source {newestView!.Source}): {map.ShardCount} shards over {map.Members.Count} silos";
        view.Heading(heading);
        if (mapError is not null)
        {
            view.Bad($"the newest map (epoch {newestView!.Epoch}) does not decode: {mapError}");
        }

        if (epochs.Count > 1)
        {
            view.Bad("silos disagree on the epoch: " + string.Join(", ", reports.Select(r => $"{r.Silo} {r.Epoch}")) +
                     " (a new map is spreading, or a silo is cut off)");
        }

        var mean = reports.Count == 0 ? 0 : reports.Average(r => r.OpsPerSecond);
        var table = new Table().AddColumns("silo", "epoch", "shards map/own", "users", "misplaced", "ops/s", "load/avg",
            "hand-offs pending/done", "users moved", "split");
        foreach (var reply in replies)
        {
            var mapShards = map is null ? "-" : N(map.ShardCountOf(reply.Silo));
            if (reply.Report is not { } r)
            {
                table.AddRow(Markup.Escape(reply.Silo), "[red]no answer[/]", $"{mapShards}/?", "", "", "", "", "", "", "");
                continue;
            }

            var epoch = $"{N(r.Epoch)} {Markup.Escape(r.Source)}";
            table.AddRow(Markup.Escape(r.Silo), map is not null && r.Epoch < map.Epoch ? $"[yellow]{epoch}[/]" : epoch,
                $"{mapShards}/{N(r.OwnedShards)}", N(r.ActiveUsers),
                r.MisplacedUsers > 0 ? $"[yellow]{N(r.MisplacedUsers)}[/]" : N(r.MisplacedUsers),
                r.OpsPerSecond.ToString("0", CultureInfo.InvariantCulture),
                mean > 0 ? (r.OpsPerSecond / mean).ToString("0.00", CultureInfo.InvariantCulture) : "-",
                $"{N(r.HandOffsPending)}/{N(r.HandOffsDone)}", N(r.UsersMoved), N(r.SplitShards));
        }

        view.Console.Write(table);
        foreach (var silent in replies.Where(r => !r.Answered))
        {
            view.Bad($"{silent.Silo}: no answer ({silent.Error})");
        }

        var ops = reports.Select(r => r.OpsPerSecond).ToList();
        view.Note(string.Create(CultureInfo.InvariantCulture,
            $"{reports.Sum(r => r.ActiveUsers)} active users, {reports.Sum(r => r.MisplacedUsers)} misplaced, {ops.Sum():0} ops/s, max/avg {ShardLoadSamples.MaxOverAverage(ops):0.00}; " +
            $"{reports.Sum(r => r.HandOffsPending)} hand-offs pending, {reports.Sum(r => r.HandOffsDone)} done, {reports.Sum(r => r.UsersMoved)} users moved, {reports.Sum(r => r.SplitShards)} split shards"));
        var hot = reports.SelectMany(r => r.HotShards.Select(s => (r.Silo, Load: s)))
            .OrderByDescending(x => x.Load.OpsPerSecond).ThenBy(x => x.Load.Shard).Take(topCount).ToList();
        if (hot.Count > 0)
        {
            view.Note("busiest shards: " + string.Join(", ", hot.Select(h => string.Create(CultureInfo.InvariantCulture,
                $"#{h.Load.Shard} on {h.Silo} {h.Load.OpsPerSecond:0}/s ({h.Load.ActiveUsers} users)"))));
        }

        if (replies.Count > 0 && reports.Count == 0)
        {
            view.Bad("no silo's shard host answered (do the silos run sharding?)");
        }
    }

    private static string N(long value) => value.ToString(CultureInfo.InvariantCulture);
}
