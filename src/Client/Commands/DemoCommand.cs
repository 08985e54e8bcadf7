using System.CommandLine;
using System.Diagnostics;
using Orleans.Patterns.Client.Cluster;
using Orleans.Patterns.Client.Workload;
using Orleans.Patterns.Gossip;
using Orleans.Patterns.Users;
using Spectre.Console;

namespace Orleans.Patterns.Client.Commands;

/// <summary>
/// The main job: a local cluster, a workload, one silo stopped, proof that only that silo's users moved (to
/// where the ring says) with their state intact, the workload again, a summary, and everything stopped.
/// </summary>
internal static partial class DemoCommand
{
    public static Command Create(ConsoleView view)
    {
        var silos = new Option<int>("--silos") { Description = "Local silos to start (2-16).", DefaultValueFactory = _ => 3 };
        var users = new Option<int>("--users") { Description = "Distinct users.", DefaultValueFactory = _ => 1000 };
        var ops = new Option<long>("--ops") { Description = "Operations per workload run.", DefaultValueFactory = _ => 10_000 };
        var concurrency = new Option<int>("--concurrency") { Description = "Concurrent callers.", DefaultValueFactory = _ => 32 };
        var command = new Command("demo", "Start 3 silos, run a workload, stop one silo, show which users moved, run again; then a sharded workload while a silo joins and one leaves; stop.")
        {
            silos, users, ops, concurrency,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var siloCount = parse.GetValue(silos);
            if (siloCount is < 2 or > 16)
            {
                throw new UsageException($"--silos {siloCount} must be between 2 and 16 (the demo stops one).");
            }

            var spec = new WorkloadSpec(parse.GetValue(users), parse.GetValue(ops), parse.GetValue(concurrency),
                UserPlacement.Ring, WriteRatio: 0.2, UserPrefix: "user-", Seed: 42);
            spec.Validate();
            return await RunAsync(view, siloCount, spec, cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(ConsoleView view, int siloCount, WorkloadSpec spec, CancellationToken cancellationToken)
    {
        var vnodes = Ring.HashRing.DefaultVirtualNodes;
        view.Heading($"1. start {siloCount} local silos (localhost clustering, consistent-hash placement)");
        // A short removal grace: the sharding act's leave must find the stopped silo's replica already removed, or
        // the Raft log would lose its quorum; production keeps the 30 s default.
        await using var cluster = await LocalCluster.StartAsync(
            new LocalClusterOptions(siloCount, RunDirectories.Create("demo"), SiloSettings: ["--raft:removal_grace_period", "2s"]), view.Step, cancellationToken);
        await using var connection = await cluster.ConnectAndWaitAsync(cancellationToken);
        view.Silos(cluster);
        view.Good($"{siloCount} silos active");

        view.Heading($"2. workload: {spec.Users} users, {spec.Operations} operations");
        var (first, before) = await WorkloadCommand.RunAsync(view, connection, spec, vnodes, cancellationToken);

        var victim = cluster.Silos[^1];
        var victimName = victim.Endpoints.Name;
        var onVictim = before.Where(l => l.Value.SiloName == victimName).Select(l => l.Key).ToList();
        var stateBefore = await SnapshotsAsync(connection, onVictim, cancellationToken);
        view.Heading($"3. stop {victimName} ({onVictim.Count} users live there); silo-1 is the primary and stays");
        var stoppedAt = Stopwatch.GetTimestamp();
        await victim.StopAsync(cancellationToken);
        view.Step($"{victimName} exited with code {victim.ExitCode}; waiting for membership to show {siloCount - 1} active silos");
        var survivors = await connection.WaitForActiveSilosAsync(siloCount - 1, TimeSpan.FromSeconds(60), cancellationToken);
        await cluster.WaitForPlacementViewsAsync(cancellationToken);
        view.Good($"active: {string.Join(", ", survivors.Select(s => s.Name))}");
        var gossipDead = await WaitForGossipDeathAsync(connection, [.. survivors.Select(s => s.Name)], victimName, cancellationToken);
        Report(view, gossipDead is not null,
            $"gossip: {victimName} dead in every surviving silo's view {Stopwatch.GetElapsedTime(stoppedAt).TotalSeconds:0.0} s after the stop (`members --matrix` shows it)",
            $"gossip: {victimName} still not dead in every surviving view after 30 s");

        view.Heading("4. where do users live now?");
        var after = await UserLocator.LocateAsync(connection.Client, [.. before.Keys], UserPlacement.Ring, cancellationToken);
        var ring = new ClientRing(survivors, vnodes);
        var check = Movement.Compare(before, after, victimName, ring);
        var stateAfter = await SnapshotsAsync(connection, onVictim, cancellationToken);
        var stateLost = onVictim.Count(u => stateAfter[u].Writes != stateBefore[u].Writes || !SameCounters(stateAfter[u], stateBefore[u]));
        ShowMovement(view, check, spec.Users, siloCount);
        Report(view, check.UnexpectedMoves == 0, $"{check.Stayed} users on the other silos stayed exactly where they were", $"{check.UnexpectedMoves} users moved although their silo kept running");
        Report(view, check.OffRing == 0, $"every user is on the silo the ring over the {survivors.Count} survivors picks", $"{check.OffRing} users are not where the ring puts them");
        Report(view, stateLost == 0, $"all {onVictim.Count} moved users kept their state (writes and counters match)", $"{stateLost} moved users lost acknowledged writes");

        view.Heading($"5. the workload again on {survivors.Count} silos");
        var (second, _) = await WorkloadCommand.RunAsync(view, connection, spec, vnodes, cancellationToken);

        view.Heading("6. sharding: a silo joins and one leaves while a Zipf workload runs");
        var sharding = await RunShardingActAsync(view, cluster, connection, spec, cancellationToken);

        view.Heading("7. coordination: etcd semantics on the Raft log (watch, lock with fencing tokens, election)");
        var coordination = await RunCoordinationActAsync(view, connection, cancellationToken);

        view.Heading("summary");
        var summary = new Table().AddColumns("", "before the stop", "after the stop");
        summary.AddRow("silos", siloCount.ToString(), survivors.Count.ToString());
        summary.AddRow("ops ok / failed", $"{first.Total.Succeeded} / {first.Total.Failed}", $"{second.Total.Succeeded} / {second.Total.Failed}");
        summary.AddRow("first-call ops/s, p99 ms", $"{first.FirstCall.OpsPerSecond:0}, {first.FirstCall.PercentileMs(99):0.00}", $"{second.FirstCall.OpsPerSecond:0}, {second.FirstCall.PercentileMs(99):0.00}");
        summary.AddRow("warm ops/s, p99 ms", $"{first.Warm?.OpsPerSecond:0}, {first.Warm?.PercentileMs(99):0.00}", $"{second.Warm?.OpsPerSecond:0}, {second.Warm?.PercentileMs(99):0.00}");
        summary.AddRow("users moved", "", $"{check.Moved} of {spec.Users} ({100.0 * check.Moved / spec.Users:0.0}%; all from {victimName}; ideal 1/{siloCount} = {100.0 / siloCount:0.0}%)");
        summary.AddRow("sharded ops ok / failed", "", $"{sharding.Result.Total.Succeeded} / {sharding.Result.Total.Failed} (retried {sharding.Result.Sharding?.Resilience.Retries})");
        summary.AddRow("shards moved", "", $"join of {sharding.Joiner}: {sharding.JoinMoves.Moved} ({sharding.JoinMoves.Moved / sharding.JoinMoves.Optimum:0.00}x optimum), {sharding.UsersMigrated} users migrated live; leave of {sharding.Leaver}: {sharding.LeaveMoves.Moved} (its {sharding.LeaveMoves.Owned})");
        view.Console.Write(summary);
        view.Note($"silo logs and grain state: {cluster.File.RunDirectory}");

        var failures = first.Total.Failed + second.Total.Failed;
        var passed = check.UnexpectedMoves == 0 && check.OffRing == 0 && stateLost == 0 && failures == 0 && gossipDead is not null && sharding.Problems.Count == 0
                     && coordination.Count == 0;
        view.Step("stopping the cluster");
        if (!passed)
        {
            throw new InvariantViolatedException(
                $"unexpected moves {check.UnexpectedMoves}, off-ring users {check.OffRing}, users with lost state {stateLost}, failed operations {failures}, gossip agreed on the stop: {gossipDead is not null}, sharding: {(sharding.Problems.Count == 0 ? "ok" : string.Join("; ", sharding.Problems))}, coordination: {(coordination.Count == 0 ? "ok" : string.Join("; ", coordination))}");
        }

        view.Good("demo complete");
        return ClientApp.ExitOk;
    }

    private static void ShowMovement(ConsoleView view, Movement check, int users, int siloCount)
    {
        var table = new Table { Title = new TableTitle("users that moved") }.AddColumns("from", "to", "users");
        foreach (var ((from, to), count) in check.Flows.OrderBy(f => f.Key.From).ThenBy(f => f.Key.To))
        {
            table.AddRow(from, to, count.ToString());
        }

        view.Console.Write(table);
        foreach (var example in check.Examples)
        {
            view.Note($"  {example}");
        }

        view.Note($"{check.Moved} of {users} users moved ({100.0 * check.Moved / users:0.0}%); hash-mod-N placement would remap about {100.0 * (siloCount - 1) / siloCount:0}% of keys on a membership change");
    }

    /// <summary>Polls the survivors' gossip views until each lists <paramref name="victim"/> dead; the time it took, or null after 30 s.</summary>
    private static async Task<TimeSpan?> WaitForGossipDeathAsync(ClusterConnection connection, IReadOnlyList<string> survivors, string victim, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            var views = await Task.WhenAll(survivors.Select(s => connection.Client.GetGrain<IGossipGrain>(s).GetView()));
            if (views.All(v => v.Members.Any(m => m.Name == victim && m.Status == "Dead")))
            {
                return clock.Elapsed;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }

        return null;
    }

    private static void Report(ConsoleView view, bool ok, string good, string bad)
    {
        if (ok)
        {
            view.Good(good);
        }
        else
        {
            view.Bad(bad);
        }
    }

    private static bool SameCounters(UserSnapshot a, UserSnapshot b) =>
        a.Counters.Count == b.Counters.Count && a.Counters.All(c => b.Counters.TryGetValue(c.Key, out var v) && v == c.Value);

    private static async Task<Dictionary<string, UserSnapshot>> SnapshotsAsync(ClusterConnection connection, List<string> userIds, CancellationToken cancellationToken)
    {
        var snapshots = new UserSnapshot[userIds.Count];
        await Parallel.ForAsync(0, userIds.Count, new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken },
            async (i, _) => snapshots[i] = await connection.Client.GetUser(userIds[i]).GetSnapshot());
        return snapshots.ToDictionary(s => s.UserId, StringComparer.Ordinal);
    }
}
