using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Orleans.Patterns.Client.Cluster;
using Orleans.Patterns.Client.Commands;
using Orleans.Patterns.Raft;

namespace Orleans.Patterns.Client.Workload;

/// <summary>What <c>bench failover</c> does.</summary>
/// <param name="Trials">Leader crashes, one per trial.</param>
/// <param name="Clients">Write sessions running through each crash.</param>
/// <param name="ProbeAfter">The sessions' <see cref="RaftKvClient.ProbeAfter"/>; null: wait for each call's own timeout.</param>
internal sealed record FailoverBenchSpec(int Trials, int Clients, TimeSpan? ProbeAfter)
{
    public void Validate()
    {
        if (Trials is < 1 or > 1000)
        {
            throw new UsageException($"--trials {Trials} must be between 1 and 1000.");
        }

        if (Clients is < 1 or > 1024)
        {
            throw new UsageException($"--clients {Clients} must be between 1 and 1024.");
        }

        if (ProbeAfter is { } probe && (probe < TimeSpan.Zero || probe > TimeSpan.FromSeconds(10)))
        {
            throw new UsageException($"--probe-after {probe.TotalMilliseconds:0} must be between 0 and 10000 ms (0: off).");
        }
    }
}

/// <summary>One crash: who led, how long writes stopped, how long the election took, what the restart cost.</summary>
/// <param name="Number">Trial number, from 1.</param>
/// <param name="Killed">The leader whose silo was killed.</param>
/// <param name="Pid">That silo's process id.</param>
/// <param name="Gap">From the SIGKILL to the first write acknowledged by another replica; null if none within the limit.</param>
/// <param name="NewLeader">From the SIGKILL to a surviving replica reporting itself leader (status polled every 5 ms).</param>
/// <param name="Successor">The replica that took over.</param>
/// <param name="Committed">Writes acknowledged during the trial, before and after the crash.</param>
/// <param name="Failed">Writes whose session gave up (10 s without an answer).</param>
/// <param name="Restart">From starting the silo again to membership listing it active.</param>
/// <param name="CatchUp">From then until its replica applied what the leader had committed.</param>
internal sealed record FailoverTrial(
    int Number, string Killed, int Pid, TimeSpan? Gap, TimeSpan? NewLeader, string? Successor,
    long Committed, long Failed, TimeSpan Restart, TimeSpan CatchUp);

/// <summary>
/// Per trial: make sure the leader is not the silo the cluster cannot lose (localhost clustering's primary), run
/// write sessions, SIGKILL the leader's silo, time the gap until a write commits again and until a survivor leads,
/// restart the silo and wait until its replica has applied everything committed, then the next trial.
/// </summary>
internal sealed class FailoverBench(ClusterConnection connection, ClusterFile file, IReadOnlyList<string> replicas, FailoverBenchSpec spec, Action<string> narrate)
{
    private static readonly TimeSpan SteadyState = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan GapLimit = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan AfterFirstCommit = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan CatchUpLimit = TimeSpan.FromSeconds(30);

    private IGrainFactory Grains => connection.Client;

    public async Task<IReadOnlyList<FailoverTrial>> RunAsync(CancellationToken cancellationToken)
    {
        var trials = new List<FailoverTrial>();
        for (var i = 1; i <= spec.Trials; i++)
        {
            var trial = await TrialAsync(i, cancellationToken);
            narrate($"trial {i}: killed {trial.Killed} (leader, pid {trial.Pid}); writes again after {Ms(trial.Gap)}, {trial.Successor ?? "?"} led after {Ms(trial.NewLeader)}; restarted in {trial.Restart.TotalSeconds:0.0} s, caught up in {trial.CatchUp.TotalSeconds:0.0} s");
            trials.Add(trial);
        }

        return trials;
    }

    private async Task<FailoverTrial> TrialAsync(int number, CancellationToken cancellationToken)
    {
        // Reloaded every trial: the previous restart recorded a new pid.
        var current = await ClusterFile.LoadAsync(file.RunPath, cancellationToken);
        var leader = await EnsureKillableLeaderAsync(current, number, cancellationToken);
        var victim = SiloControl.Resolve(current, leader, "bench failover");

        // Sessions write until told to stop; each acknowledged write records when and from which replica it came.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var acknowledged = new ConcurrentQueue<(long At, string? By)>();
        long failed = 0;
        var sessions = Enumerable.Range(0, spec.Clients).Select(c => Task.Run(async () =>
        {
            var session = new RaftKvClient(Grains, replicas, RaftCommands.NewClientId($"failover-{number}-{c}")) { ProbeAfter = spec.ProbeAfter };
            for (var op = 0; !stop.IsCancellationRequested; op++)
            {
                try
                {
                    await session.PutAsync($"failover-{c}", op.ToString(CultureInfo.InvariantCulture), stop.Token);
                    acknowledged.Enqueue((Stopwatch.GetTimestamp(), session.Leader));
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    break;
                }
                catch (TimeoutException)
                {
                    Interlocked.Increment(ref failed);
                }
            }
        }, CancellationToken.None)).ToList();

        await Task.Delay(SteadyState, cancellationToken);
        // Leadership may have moved during the steady state (a restarted replica's election); kill the leader of now.
        var leading = await RaftCommands.FindLeaderAsync(Grains, replicas, cancellationToken);
        if (leading.Node != leader)
        {
            await stop.CancelAsync();
            await Task.WhenAll(sessions);
            narrate($"trial {number}: leadership moved from {leader} to {leading.Node} before the kill; trial started again");
            return await TrialAsync(number, cancellationToken);
        }

        var killedAt = Stopwatch.GetTimestamp();
        if (!SiloControl.Kill(victim))
        {
            await stop.CancelAsync();
            await Task.WhenAll(sessions);
            throw new ClusterUnavailableException($"{victim.Name} (pid {victim.ProcessId}) was not running when its turn to be killed came.");
        }

        // Wall-clock time in the silo logs' format, to line the trial up with the survivors' role changes.
        narrate($"trial {number}: SIGKILL {victim.Name} (pid {victim.ProcessId}) at {DateTime.Now:HH:mm:ss.fff}");
        var election = WatchForNewLeaderAsync(leader, killedAt, cancellationToken);
        var gap = await WaitForCommitAsync(acknowledged, leader, killedAt, cancellationToken);
        await Task.Delay(AfterFirstCommit, cancellationToken);
        await stop.CancelAsync();
        await Task.WhenAll(sessions);
        var (newLeader, successor) = await election;

        var restart = await SiloControl.RestartAsync(current, victim, graceful: false, connection, TimeSpan.FromSeconds(90), cancellationToken);
        var catchUp = await WaitForCatchUpAsync(leader, cancellationToken);
        return new FailoverTrial(number, leader, victim.ProcessId ?? 0, gap, newLeader, successor,
            acknowledged.Count, Interlocked.Read(ref failed), restart.Elapsed, catchUp);
    }

    /// <summary>
    /// The current leader, moved off the primary under localhost clustering (killing the primary ends the cluster).
    /// Moves go to the other silos in turn, so restarted replicas take their turn as leader too.
    /// </summary>
    private async Task<string> EnsureKillableLeaderAsync(ClusterFile current, int number, CancellationToken cancellationToken)
    {
        var leader = await RaftCommands.FindLeaderAsync(Grains, replicas, cancellationToken);
        if (!current.LocalhostClustering || leader.Node != current.Primary.Name)
        {
            return leader.Node;
        }

        var candidates = replicas.Where(r => r != current.Primary.Name).ToList();
        if (candidates.Count == 0)
        {
            throw new UsageException("bench failover needs a replica besides the primary's to kill; start the cluster with --silos 3.");
        }

        var target = candidates[number % candidates.Count];
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                await Grains.GetGrain<IRaftReplicaGrain>(leader.Node).TransferLeadership(target);
            }
            catch (Exception e) when (e is NotLeaderException or InvalidOperationException)
            {
                // Not caught up yet, or leadership moved meanwhile: look again.
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
            leader = await RaftCommands.FindLeaderAsync(Grains, replicas, cancellationToken);
            if (leader.Node != current.Primary.Name)
            {
                return leader.Node;
            }
        }

        throw new ClusterUnavailableException($"Leadership did not move off {current.Primary.Name} to {target} within 10 s.");
    }

    /// <summary>The time from the kill to the first write acknowledged after it by a replica other than the killed one.</summary>
    private static async Task<TimeSpan?> WaitForCommitAsync(ConcurrentQueue<(long At, string? By)> acknowledged, string killed, long killedAt, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < GapLimit)
        {
            var first = acknowledged.Where(a => a.At > killedAt && a.By != killed).Select(a => a.At).DefaultIfEmpty().Min();
            if (first > 0)
            {
                return Stopwatch.GetElapsedTime(killedAt, first);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(5), cancellationToken);
        }

        return null;
    }

    /// <summary>
    /// Asks the survivors for their status every 10 ms, without waiting for earlier asks, until one says it leads. Not
    /// waiting matters: right after the crash some calls are lost with the dead silo's gateway connection and hang, and
    /// a poll that waited for them would measure the hang, not the election.
    /// </summary>
    private async Task<(TimeSpan?, string?)> WatchForNewLeaderAsync(string killed, long killedAt, CancellationToken cancellationToken)
    {
        var survivors = replicas.Where(r => r != killed).ToList();
        var found = new TaskCompletionSource<(TimeSpan?, string?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        while (!found.Task.IsCompleted && Stopwatch.GetElapsedTime(killedAt) < GapLimit)
        {
            foreach (var replica in survivors)
            {
                _ = AskAsync(replica);
            }

            await Task.WhenAny(found.Task, Task.Delay(TimeSpan.FromMilliseconds(10), cancellationToken));
        }

        return found.Task.IsCompleted ? await found.Task : (null, null);

        async Task AskAsync(string replica)
        {
            try
            {
                var status = await Grains.GetGrain<IRaftReplicaGrain>(replica).GetStatus().WaitAsync(GapLimit, cancellationToken);
                if (status.Role == "Leader")
                {
                    found.TrySetResult((Stopwatch.GetElapsedTime(killedAt), status.Node));
                }
            }
            catch (Exception e) when (e is OrleansException or TimeoutException or OperationCanceledException)
            {
                // A lost or refused ask; a later one answers.
            }
        }
    }

    /// <summary>Waits until the restarted replica has applied what the leader had committed when the wait began.</summary>
    private async Task<TimeSpan> WaitForCatchUpAsync(string restarted, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var leader = await RaftCommands.FindLeaderAsync(Grains, replicas, cancellationToken);
        while (clock.Elapsed < CatchUpLimit)
        {
            try
            {
                var status = await Grains.GetGrain<IRaftReplicaGrain>(restarted).GetStatus().WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
                if (status.AppliedIndex >= leader.CommitIndex)
                {
                    return clock.Elapsed;
                }
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
                // The restarted silo's replica is still activating.
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }

        throw new ClusterUnavailableException($"{restarted} did not catch up with commit index {leader.CommitIndex} within {CatchUpLimit.TotalSeconds:0} s.");
    }

    internal static string Ms(TimeSpan? value) => value is { } v ? $"{v.TotalMilliseconds:0} ms" : "none";
}

/// <summary>Median, p90 (nearest rank) and maximum of the trials' gaps and elections, in milliseconds.</summary>
internal sealed record FailoverSummary(FailoverSummary.Figures Gap, FailoverSummary.Figures Election)
{
    public static FailoverSummary Of(IReadOnlyList<FailoverTrial> trials) =>
        new(Figures.Of(trials.Select(t => t.Gap)), Figures.Of(trials.Select(t => t.NewLeader)));

    internal sealed record Figures(double Median, double P90, double Max, int Count)
    {
        public static Figures Of(IEnumerable<TimeSpan?> values)
        {
            var (median, p90, max, count) = NearestRank.Of(values, 0.9);
            return new Figures(median, p90, max, count);
        }
    }
}
