using System.CommandLine;
using System.Globalization;
using Orleans.Patterns.Client.Cluster;
using Orleans.Patterns.Client.Workload;
using Orleans.Patterns.Client.Workload.Resilience;
using Orleans.Patterns.Client.Workload.Sharding;
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
            Description = "ring (consistent hash), hash (Orleans' hash-based), random, all three of those in one run, " +
                          "or sharded (the shard map, called with retries, shard epochs and a circuit per silo).",
            DefaultValueFactory = _ => "ring",
        };
        placement.AcceptOnlyFromAmong("ring", "hash", "random", "all", "sharded");
        var distribution = new Option<string>("--distribution")
        {
            Description = "Which users the operations after the first pass call: uniform (in turn) or zipf (a few hot users, see --skew).",
            DefaultValueFactory = _ => "uniform",
        };
        distribution.AcceptOnlyFromAmong("uniform", "zipf");
        var skew = new Option<double>("--skew") { Description = "Zipf exponent with --distribution zipf; above 0 (1 is classic Zipf).", DefaultValueFactory = _ => 1.0 };
        var writeRatio = new Option<double>("--write-ratio") { Description = "Share of operations that write (durably).", DefaultValueFactory = _ => 0.2 };
        var prefix = new Option<string?>("--user-prefix") { Description = "User id prefix (default: new per run, so every user starts fresh)." };
        var seed = new Option<int>("--seed") { Description = "Seed of the read/write mix and of the Zipf draws.", DefaultValueFactory = _ => 42 };
        var vnodes = InspectCommands.VirtualNodesOption();
        var output = new Option<string?>("--out") { Description = "Also write the figures as a markdown table to this file." };
        var rounds = new Option<int?>("--rounds") { Description = "Measured rounds per placement, order rotated each round (default 3 with --placement all, else 1)." };

        var command = new Command("workload", "Drive user grains and report throughput, latency and where users live.")
        {
            users, ops, concurrency, placement, distribution, skew, writeRatio, prefix, seed, vnodes, output, rounds,
        };
        connection.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var compareAll = parse.GetValue(placement) == "all";
            UserPlacement[] chosen = compareAll
                ? [UserPlacement.Ring, UserPlacement.Hash, UserPlacement.Random]
                : [Enum.Parse<UserPlacement>(parse.GetValue(placement)!, ignoreCase: true)];
            var roundCount = parse.GetValue(rounds) ?? (compareAll ? 3 : 1);
            if (roundCount is < 1 or > 20)
            {
                throw new UsageException($"--rounds {roundCount} must be between 1 and 20.");
            }

            if (parse.GetResult(skew) is { Implicit: false } && parse.GetValue(distribution) != "zipf")
            {
                throw new UsageException(string.Create(CultureInfo.InvariantCulture,
                    $"--skew {parse.GetValue(skew)} applies only with --distribution zipf."));
            }

            var userPrefix = parse.GetValue(prefix) ?? $"u{DateTime.UtcNow:HHmmss}-";
            var template = new WorkloadSpec(parse.GetValue(users), parse.GetValue(ops), parse.GetValue(concurrency), chosen[0],
                parse.GetValue(writeRatio), userPrefix, parse.GetValue(seed),
                Enum.Parse<UserDistribution>(parse.GetValue(distribution)!, ignoreCase: true), parse.GetValue(skew));
            template.Validate();
            await using var cluster = await connection.ConnectAsync(parse, cancellationToken);
            if (compareAll)
            {
                // One unmeasured round of every placement at full size first: silos and client keep getting
                // faster for a while (tiered JIT, connection and thread-pool growth), and without this the
                // placement measured first pays for it.
                view.Step("warm-up round of every placement (not measured)");
                foreach (var p in chosen)
                {
                    var warmUp = new WorkloadRunner(cluster.Client, template with { Placement = p, UserPrefix = userPrefix + "warmup-" });
                    await view.WithProgressAsync($"warm-up {p.ToString().ToLowerInvariant()}", template.Operations, () => warmUp.Completed, () => warmUp.RunAsync(cancellationToken));
                }
            }

            var results = new List<WorkloadResult>();
            for (var round = 0; round < roundCount; round++)
            {
                // Each round rotates the order and uses users never seen before, so every first call places.
                for (var i = 0; i < chosen.Length; i++)
                {
                    var p = chosen[(i + round) % chosen.Length];
                    var spec = template with { Placement = p, UserPrefix = roundCount == 1 ? userPrefix : $"{userPrefix}r{round}-" };
                    var (result, _) = await RunAsync(view, cluster, spec, parse.GetValue(vnodes), cancellationToken);
                    results.Add(result);
                }
            }

            var comparison = PlacementComparison.From(results);
            if (chosen.Length > 1 || roundCount > 1)
            {
                view.Console.Write(comparison.ToTable());
            }

            if (parse.GetValue(output) is { } path)
            {
                await File.WriteAllTextAsync(path, comparison.ToMarkdown(template, roundCount), cancellationToken);
                view.Note($"figures written to {Path.GetFullPath(path)}");
            }

            return results.Any(r => r.Total.Failed > 0) ? ClientApp.ExitCheckFailed : ClientApp.ExitOk;
        });
        return command;
    }

    /// <summary>
    /// Runs one workload, shows it, and checks ring-placed users against the client's own ring. A sharded workload calls
    /// through <see cref="ResilientUsers"/>, shows each silo's load while it runs, and carries a <see cref="ShardingSummary"/>.
    /// </summary>
    public static async Task<(WorkloadResult Result, Dictionary<string, GrainLocation> Locations)> RunAsync(
        ConsoleView view, ClusterConnection cluster, WorkloadSpec spec, int virtualNodes, CancellationToken cancellationToken)
    {
        spec.Validate();
        var label = $"{spec.Placement.ToString().ToLowerInvariant()}: {spec.Operations} ops";
        if (spec.Placement == UserPlacement.Sharded)
        {
            return await RunShardedAsync(view, cluster, spec, label, cancellationToken);
        }

        var runner = new WorkloadRunner(cluster.Client, spec);
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

    private static string LiveStatus(ShardLoadSamples samples, ResilienceTotals totals) =>
        $"{samples.Status() ?? "waiting for the silos' load reports"} · {totals.Retries} retries, {totals.StaleEpochs} stale epochs, " +
        $"{totals.CircuitsOpened} circuits opened, {totals.Rejected} rejected";

    private static async Task<(WorkloadResult Result, Dictionary<string, GrainLocation> Locations)> RunShardedAsync(
        ConsoleView view, ClusterConnection cluster, WorkloadSpec spec, string label, CancellationToken cancellationToken)
    {
        var users = await ResilientUsers.ConnectAsync(cluster, cancellationToken);
        await using var pipeline = users.Pipeline;
        if (users.Pipeline.Maps.Map is { } start)
        {
            view.Step($"shard map epoch {start.Epoch}: {start.ShardCount} shards over {start.Members.Count} silos");
        }
        else
        {
            view.Bad("no silo answered with a shard map; calls go without an epoch, through one circuit");
        }

        var runner = new WorkloadRunner(cluster.Client, spec, users);
        var monitor = new ShardLoadMonitor(cluster.Client);
        using var stopMonitor = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var monitoring = monitor.RunAsync(stopMonitor.Token);
        WorkloadResult result;
        try
        {
            result = await view.WithProgressAsync(label, spec.Operations, () => runner.Completed, () => runner.RunAsync(cancellationToken),
                () => LiveStatus(monitor.Samples, users.Totals));
        }
        finally
        {
            await stopMonitor.CancelAsync();
            await monitoring;
        }

        result = result with { Sharding = monitor.Samples.Summarize(users.Totals, users.Pipeline.Maps.Epoch) };
        var userIds = Enumerable.Range(0, spec.Users).Select(i => spec.UserId(i)).ToList();
        Dictionary<string, GrainLocation> locations;
        try
        {
            locations = await UserLocator.LocateAsync(cluster.Client, userIds, spec.Placement, cancellationToken);
        }
        catch (OrleansException e)
        {
            // E.g. silos without the sharded user grain: the run's failures say so already; show its figures anyway.
            view.Bad($"could not ask the users where they live: {ClusterConnection.FirstLine(e.Message)}");
            locations = new Dictionary<string, GrainLocation>(StringComparer.Ordinal);
        }

        view.Workload(result, locations.Count == 0 ? null : UserLocator.CountBySilo(locations.Values));
        view.Sharding(result.Sharding);
        if (users.Pipeline.Maps.Map is { } map)
        {
            var misplaced = locations.Count(l => l.Value.SiloName != map.OwnerOf(l.Key));
            if (misplaced == 0)
            {
                view.Good($"all {locations.Count} users live on the silo the shard map (epoch {map.Epoch}) assigns");
            }
            else
            {
                view.Bad($"{misplaced} of {locations.Count} users live elsewhere than the client's shard map (epoch {map.Epoch}) assigns " +
                         "(hand-offs under way, or the map changed after the client's last refresh)");
            }
        }

        return (result, locations);
    }
}
