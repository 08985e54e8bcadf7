using System.Diagnostics;
using Orleans.Patterns.Client.Cluster;
using Orleans.Patterns.Client.Workload;
using Orleans.Patterns.Client.Workload.Resilience;
using Orleans.Patterns.Client.Workload.Sharding;
using Orleans.Patterns.Raft;
using Orleans.Patterns.Sharding;
using Orleans.Patterns.Users;

namespace Orleans.Patterns.Client.Commands;

/// <summary>What the demo's sharding act showed, for the summary and the verdict.</summary>
/// <param name="Result">The sharded workload's figures.</param>
/// <param name="Joiner">The silo that joined.</param>
/// <param name="Leaver">The silo that left.</param>
/// <param name="JoinMoves">Shards the join moved, and the S/(N+1) optimum.</param>
/// <param name="LeaveMoves">Shards the leave moved, and the leaver's shard count.</param>
/// <param name="UsersMigrated">User grains migrated live to the joiner.</param>
/// <param name="Problems">What went wrong, one line each; empty when the act passed.</param>
internal sealed record ShardingActResult(
    WorkloadResult Result, string Joiner, string Leaver, (int Moved, double Optimum) JoinMoves, (int Moved, int Owned) LeaveMoves,
    long UsersMigrated, IReadOnlyList<string> Problems);

internal static partial class DemoCommand
{
    private static readonly TimeSpan ShardingDeadline = TimeSpan.FromSeconds(60);

    // A few hand-off rounds (sharding:hand_off_interval is 250 ms by default): a user in flight lands, and is moved again.
    private static readonly TimeSpan HandOffSettle = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A sharded Zipf workload runs while a new silo joins and another leaves: the map changes by one epoch each time
    /// (committed through Raft), only the shards that must move do, users migrate live, and no operation fails.
    /// </summary>
    private static async Task<ShardingActResult> RunShardingActAsync(
        ConsoleView view, LocalCluster cluster, ClusterConnection connection, WorkloadSpec template, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        var running = cluster.Silos.Where(s => !s.HasExited).Select(s => s.Endpoints.Name).Order(StringComparer.Ordinal).ToList();
        var start = await WaitForAgreedMapAsync(connection, running, cancellationToken);
        view.Step($"shard map epoch {start.Epoch}, committed through the Raft log: {start.ShardCount} shards, {Owners(start)}");

        var users = await ResilientUsers.ConnectAsync(connection, cancellationToken);
        await using var pipeline = users.Pipeline;
        var spec = template with
        {
            Placement = UserPlacement.Sharded, Operations = 10_000_000, UserPrefix = "shard-user-",
            Distribution = UserDistribution.Zipf, Skew = 1.1,
        };
        var runner = new WorkloadRunner(connection.Client, spec, users);
        var monitor = new ShardLoadMonitor(connection.Client);
        using var stopMonitor = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var monitoring = monitor.RunAsync(stopMonitor.Token);
        var movedBefore = await UsersMovedAsync(connection, cancellationToken);
        view.Step($"workload started: {spec.Users} users, Zipf skew {spec.Skew}, {spec.Concurrency} callers, every call through the resilience pipeline");
        var work = runner.RunAsync(cancellationToken);
        await UntilAsync(() => runner.Completed >= 2 * spec.Users, work, cancellationToken);

        // Join.
        var joiner = await cluster.AddSiloAsync(cancellationToken);
        var joinerName = joiner.Endpoints.Name;
        var clock = Stopwatch.StartNew();
        view.Step($"{joinerName} started (pid {joiner.ProcessId}) after {runner.Completed} operations");
        running.Add(joinerName);
        var afterJoin = await WaitForAgreedMapAsync(connection, running, cancellationToken);
        var joinMoves = afterJoin.MovesFrom(start);
        var optimum = (double)start.ShardCount / running.Count;
        // Epochs may also count hot-shard splits the Zipf load causes meanwhile; owner moves count only the join.
        Check(view, problems, joinMoves.All(m => m.To == joinerName) && joinMoves.Count <= 1.05 * optimum,
            $"epoch {afterJoin.Epoch} {clock.Elapsed.TotalSeconds:0.0} s after the start: {joinMoves.Count} shards moved, all to {joinerName} ({joinMoves.Count / optimum:0.00}x the S/(N+1) optimum of {optimum:0}); {Owners(afterJoin)}",
            $"the join moved {joinMoves.Count} shards ({joinMoves.Count / optimum:0.00}x the optimum), {joinMoves.Count(m => m.To != joinerName)} of them between old silos");
        var joinHandOff = await WaitForHandOffsAsync(connection, running, afterJoin.Epoch, cancellationToken);
        var migrated = await UsersMovedAsync(connection, cancellationToken) - movedBefore;
        Check(view, problems, joinHandOff is not null,
            $"hand-offs of epoch {afterJoin.Epoch} done {joinHandOff?.TotalMilliseconds:0} ms after all silos had it: {migrated} active users of moved shards migrated live to {joinerName}, state in memory",
            $"hand-offs of epoch {afterJoin.Epoch} not done within {ShardingDeadline.TotalSeconds:0} s");

        // The leave must not cost the Raft log its quorum: wait until the voters are the running silos.
        var voters = await WaitForVotersAsync(connection, running, cancellationToken);
        Check(view, problems, voters is not null,
            $"Raft voters are now {string.Join(", ", voters ?? [])}: {joinerName} was added as a learner and promoted",
            $"Raft voters did not become [{string.Join(", ", running)}] within {ShardingDeadline.TotalSeconds:0} s");
        await UntilAsync(() => runner.Completed >= 4 * spec.Users, work, cancellationToken);

        // Leave: a running secondary other than the joiner (the primary hosts the membership table).
        var leaverName = running.FirstOrDefault(n => n != cluster.Primary.Endpoints.Name && n != joinerName) ?? joinerName;
        var owned = afterJoin.ShardCountOf(leaverName);
        view.Step($"stopping {leaverName} ({owned} shards) after {runner.Completed} operations");
        clock.Restart();
        await cluster.GetSilo(leaverName).StopAsync(cancellationToken);
        running.Remove(leaverName);
        var afterLeave = await WaitForAgreedMapAsync(connection, running, cancellationToken);
        var leaveMoves = afterLeave.MovesFrom(afterJoin);
        Check(view, problems, leaveMoves.Count == owned && leaveMoves.All(m => m.From == leaverName),
            $"epoch {afterLeave.Epoch} {clock.Elapsed.TotalSeconds:0.0} s after the stop: exactly {leaverName}'s {owned} shards moved, nothing else; {Owners(afterLeave)}",
            $"the leave moved {leaveMoves.Count} shards, {leaveMoves.Count(m => m.From != leaverName)} of them not {leaverName}'s");
        var leaveHandOff = await WaitForHandOffsAsync(connection, running, afterLeave.Epoch, cancellationToken);
        Check(view, problems, leaveHandOff is not null,
            $"hand-offs of epoch {afterLeave.Epoch} done; {leaverName}'s users come back on their new owners from storage at their next call",
            $"hand-offs of epoch {afterLeave.Epoch} not done within {ShardingDeadline.TotalSeconds:0} s");

        await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
        runner.Stop();
        var result = await work;
        await stopMonitor.CancelAsync();
        await monitoring;
        result = result with { Sharding = monitor.Samples.Summarize(users.Totals, users.Pipeline.Maps.Epoch) };
        view.Workload(result, null);
        view.Sharding(result.Sharding);

        var userIds = Enumerable.Range(0, spec.Users).Select(i => spec.UserId(i)).ToList();
        // A split or merge the load's last window caused may be committed just as the load stops and still be handing
        // users over: check once the hand-offs of the map checked against are done (not only those of the leave). A user
        // migrated on an older map's word can still be on its way when the silos report none misplaced (in flight it is
        // in neither silo's registry), and lands where the next round moves it again: the property is that users end
        // up where the map says, so a misplaced user is looked at again after the next rounds (up to four times).
        ShardMap final;
        Dictionary<string, GrainLocation> locations;
        var misplaced = 0;
        for (var attempt = 0; ; attempt++)
        {
            final = await WaitForAgreedMapAsync(connection, running, cancellationToken);
            await WaitForHandOffsAsync(connection, running, final.Epoch, cancellationToken);
            locations = await UserLocator.LocateAsync(connection.Client, userIds, UserPlacement.Sharded, cancellationToken);
            misplaced = locations.Count(l => l.Value.SiloName != final.OwnerOf(l.Key));
            if (misplaced == 0 || attempt == 3)
            {
                break;
            }

            view.Step($"{misplaced} of {locations.Count} users not yet where the map of epoch {final.Epoch} puts them; looking again after the next hand-off rounds");
            await Task.Delay(HandOffSettle, cancellationToken);
        }

        if (final.Splits.Count > 0)
        {
            view.Note($"hot shards split by the Zipf load: {string.Join(", ", final.Splits.Select(x => $"#{x.Shard} ({final.OwnerOfShard(x.Shard)}, child half on {x.ChildOwner})"))}; they merge back when they cool");
        }

        Check(view, problems, misplaced == 0,
            $"all {locations.Count} users live on the silo the map of epoch {final.Epoch} assigns (their half, for split shards)",
            $"{misplaced} of {locations.Count} users live elsewhere than the map of epoch {final.Epoch} assigns");
        var r = result.Sharding!.Resilience;
        Check(view, problems, result.Total.Failed == 0,
            $"{result.Total.Succeeded} operations, none failed; the pipeline retried {r.Retries} (stale epochs {r.StaleEpochs}), circuits opened {r.CircuitsOpened}",
            $"{result.Total.Failed} of {result.Total.Succeeded + result.Total.Failed} operations failed; first: {result.FirstError}");
        return new ShardingActResult(result, joinerName, leaverName, (joinMoves.Count, optimum), (leaveMoves.Count, owned), migrated, problems);
    }

    private static string Owners(ShardMap map) => string.Join(", ", map.Members.Select(m => $"{m} {map.ShardCountOf(m)}"));

    private static void Check(ConsoleView view, List<string> problems, bool ok, string good, string bad)
    {
        Report(view, ok, good, bad);
        if (!ok)
        {
            problems.Add(bad);
        }
    }

    /// <summary>Waits for a workload milestone, or for the workload to end first.</summary>
    private static async Task UntilAsync(Func<bool> reached, Task work, CancellationToken cancellationToken)
    {
        while (!reached() && !work.IsCompleted)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }
    }

    /// <summary>Polls every running silo until all hold one map whose members are exactly <paramref name="silos"/>.</summary>
    private static async Task<ShardMap> WaitForAgreedMapAsync(ClusterConnection connection, IReadOnlyList<string> silos, CancellationToken cancellationToken)
    {
        var expected = silos.Order(StringComparer.Ordinal).ToList();
        var deadline = Stopwatch.StartNew();
        var last = "";
        while (deadline.Elapsed < ShardingDeadline)
        {
            var replies = await ShardHosts.AskAllAsync(connection.Client, withMaps: true, cancellationToken);
            last = string.Join(", ", replies.Select(r => $"{r.Silo}: {r.Map?.Epoch.ToString() ?? r.Error ?? "no map"}"));
            var maps = replies.Where(r => expected.Contains(r.Silo)).Select(r => r.Map).ToList();
            if (maps.Count == expected.Count && maps.All(m => m is not null) && maps.Select(m => m!.Epoch).Distinct().Count() == 1)
            {
                var map = ShardMapCodec.Decode(maps[0]!.Encoded);
                if (map.Members.SequenceEqual(expected))
                {
                    return map;
                }
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }

        throw new InvariantViolatedException($"silos did not agree on a shard map of [{string.Join(", ", expected)}] within {ShardingDeadline.TotalSeconds:0} s; last: {last}");
    }

    /// <summary>
    /// Waits until every running silo routes by one epoch, <paramref name="epoch"/> or a later one (a hot-shard split
    /// may follow meanwhile), and hosts no user it does not own; the time it took, or null.
    /// </summary>
    private static async Task<TimeSpan?> WaitForHandOffsAsync(ClusterConnection connection, IReadOnlyList<string> silos, long epoch, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < ShardingDeadline)
        {
            var replies = await ShardHosts.AskAllAsync(connection.Client, withMaps: false, cancellationToken);
            var reports = replies.Where(r => silos.Contains(r.Silo)).Select(r => r.Report).ToList();
            if (reports.Count == silos.Count && reports.All(r => r is { MisplacedUsers: 0, HandOffsPending: 0 } && r.Epoch >= epoch)
                && reports.Select(r => r!.Epoch).Distinct().Count() == 1)
            {
                return clock.Elapsed;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }

        return null;
    }

    /// <summary>Waits until the Raft leader's voters are exactly <paramref name="silos"/>; the voters, or null.</summary>
    private static async Task<IReadOnlyList<string>?> WaitForVotersAsync(ClusterConnection connection, IReadOnlyList<string> silos, CancellationToken cancellationToken)
    {
        var expected = silos.Order(StringComparer.Ordinal).ToList();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < ShardingDeadline)
        {
            var replies = await RaftCommands.QueryAsync(connection.Client, silos);
            if (replies.Values.OfType<RaftReplicaStatus>().Where(s => s.Role == "Leader").MaxBy(s => s.Term) is { } leader
                && leader.Voters.Order(StringComparer.Ordinal).SequenceEqual(expected) && leader.Learners.Count == 0)
            {
                return leader.Voters;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        }

        return null;
    }

    private static async Task<long> UsersMovedAsync(ClusterConnection connection, CancellationToken cancellationToken)
    {
        var replies = await ShardHosts.AskAllAsync(connection.Client, withMaps: false, cancellationToken);
        return replies.Sum(r => r.Report?.UsersMoved ?? 0);
    }
}
