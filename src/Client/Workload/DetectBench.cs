using System.Diagnostics;
using Orleans.Patterns.Client.Cluster;
using Orleans.Patterns.Placement;
using Orleans.Patterns.Gossip;

namespace Orleans.Patterns.Client.Workload;

/// <summary>How a trial breaks its silo.</summary>
internal enum DetectFault
{
    /// <summary>SIGSTOP: the process lives and holds its sockets but answers nothing (a GC or CPU stall, a hung host).</summary>
    Hang,

    /// <summary>SIGKILL: the process is gone.</summary>
    Kill,
}

/// <summary>One broken silo: when the survivors' detectors noticed, and how long Orleans' own membership took.</summary>
/// <param name="Number">Trial number, from 1.</param>
/// <param name="Fault">What was done to the silo.</param>
/// <param name="Victim">The silo.</param>
/// <param name="Convicted">Fault to the first surviving watchdog convicting it.</param>
/// <param name="Suspected">Fault to the first surviving gossip view listing it as suspect (or dead).</param>
/// <param name="Dead">Fault to every surviving gossip view listing it as dead; null if not within the limit.</param>
/// <param name="OrleansDead">Fault to Orleans' membership no longer listing it active (kills only; a hang ends first).</param>
/// <param name="Back">From resuming or restarting it to every view listing it alive at a higher incarnation.</param>
internal sealed record DetectTrial(
    int Number, DetectFault Fault, string Victim, TimeSpan? Convicted, TimeSpan? Suspected, TimeSpan? Dead, TimeSpan? OrleansDead, TimeSpan? Back);

/// <summary>
/// Per trial: hang (SIGSTOP) or kill (SIGKILL) a silo other than the first, poll every survivor's gossip view and
/// watchdog every 20 ms until the silo is dead in all views, then (kills only) until Orleans' membership drops it; then
/// resume (SIGCONT) or restart it and wait until every view lists it alive again at a higher incarnation.
/// </summary>
internal sealed class DetectBench(ClusterConnection connection, ClusterFile file, Action<string> narrate)
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan DeadLimit = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan OrleansLimit = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(2);

    public async Task<IReadOnlyList<DetectTrial>> RunAsync(IReadOnlyList<DetectFault> faults, int trials, bool orleansBaseline, CancellationToken cancellationToken)
    {
        var results = new List<DetectTrial>();
        for (var i = 1; i <= trials; i++)
        {
            foreach (var fault in faults)
            {
                var trial = await TrialAsync(results.Count + 1, fault, orleansBaseline, cancellationToken);
                narrate($"trial {trial.Number}: {fault.ToString().ToLowerInvariant()} {trial.Victim}: convicted {FailoverBench.Ms(trial.Convicted)}, suspected {FailoverBench.Ms(trial.Suspected)}, dead in every view {FailoverBench.Ms(trial.Dead)}"
                    + (trial.OrleansDead is { } o ? $", Orleans {FailoverBench.Ms(o)}" : "") + $"; back in {FailoverBench.Ms(trial.Back)}");
                results.Add(trial);
                await Task.Delay(Settle, cancellationToken);
            }
        }

        return results;
    }

    private async Task<DetectTrial> TrialAsync(int number, DetectFault fault, bool orleansBaseline, CancellationToken cancellationToken)
    {
        var current = await ClusterFile.LoadAsync(file.RunPath, cancellationToken);
        // Never the first silo: the bench's client talks through its gateway (and under localhost clustering it holds
        // the membership table).
        var candidates = current.Silos.Skip(1).ToList();
        if (candidates.Count == 0 || current.Silos.Count < 3)
        {
            throw new UsageException("bench detect needs at least 3 silos, one of them not the primary.");
        }

        var victim = SiloControl.Resolve(current, candidates[(number - 1) % candidates.Count].Name, "bench detect");
        var survivors = current.Silos.Select(s => s.Name).Where(n => n != victim.Name).ToList();
        var before = await IncarnationAsync(survivors, victim.Name);
        var pid = victim.ProcessId ?? throw new UsageException($"{victim.Name} has no recorded process id.");

        var faultAt = Stopwatch.GetTimestamp();
        if (!SiloProcesses.Signal(pid, fault == DetectFault.Hang ? SiloProcesses.SigStop : SiloProcesses.SigKill))
        {
            throw new ClusterUnavailableException($"{victim.Name} (pid {pid}) could not be signalled.");
        }

        TimeSpan? convicted = null, suspected = null, dead = null;
        try
        {
            while (Stopwatch.GetElapsedTime(faultAt) < DeadLimit && dead is null)
            {
                var views = await Task.WhenAll(survivors.Select(s => TryAsync(connection.Client.GetGrain<IGossipGrain>(s).GetView())));
                var health = convicted is null ? await Task.WhenAll(survivors.Select(s => TryAsync(connection.Client.GetGrain<IHeartbeatWatchdogGrain>(s).GetHealth()))) : [];
                var now = Stopwatch.GetElapsedTime(faultAt);
                var states = views.Select(v => v?.Members.FirstOrDefault(m => m.Name == victim.Name && m.Incarnation >= before)?.Status).ToList();
                if (convicted is null && health.Any(h => h?.Peers.Any(p => p.Peer == victim.Name && p.Convicted) == true))
                {
                    convicted = now;
                }

                if (suspected is null && states.Any(s => s is "Suspect" or "Dead"))
                {
                    suspected = now;
                }

                if (states.All(s => s == "Dead"))
                {
                    dead = now;
                }
                else
                {
                    await Task.Delay(Poll, cancellationToken);
                }
            }

            TimeSpan? orleansDead = null;
            if (fault == DetectFault.Kill && orleansBaseline)
            {
                while (Stopwatch.GetElapsedTime(faultAt) < OrleansLimit)
                {
                    var active = await connection.Client.GetActiveSiloNamesAsync();
                    if (!active.Contains(victim.Name, StringComparer.Ordinal))
                    {
                        orleansDead = Stopwatch.GetElapsedTime(faultAt);
                        break;
                    }

                    await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
                }
            }

            var backFrom = Stopwatch.GetTimestamp();
            if (fault == DetectFault.Hang)
            {
                SiloProcesses.Signal(pid, SiloProcesses.SigCont);
            }
            else
            {
                await SiloControl.RestartAsync(current, victim, graceful: false, connection, TimeSpan.FromSeconds(90), cancellationToken);
                backFrom = Stopwatch.GetTimestamp();
            }

            var everyone = current.Silos.Select(s => s.Name).ToList();
            TimeSpan? back = null;
            while (Stopwatch.GetElapsedTime(backFrom) < DeadLimit)
            {
                var views = await Task.WhenAll(everyone.Select(s => TryAsync(connection.Client.GetGrain<IGossipGrain>(s).GetView())));
                if (views.All(v => v?.Members.Any(m => m.Name == victim.Name && m.Status == "Alive" && m.Incarnation > before) == true))
                {
                    back = Stopwatch.GetElapsedTime(backFrom);
                    break;
                }

                await Task.Delay(Poll, cancellationToken);
            }

            return new DetectTrial(number, fault, victim.Name, convicted, suspected, dead, orleansDead, back);
        }
        finally
        {
            if (fault == DetectFault.Hang)
            {
                SiloProcesses.Signal(pid, SiloProcesses.SigCont); // never leave a stopped silo behind, whatever happened
            }
        }
    }

    private async Task<int> IncarnationAsync(IReadOnlyList<string> survivors, string victim)
    {
        var views = await Task.WhenAll(survivors.Select(s => TryAsync(connection.Client.GetGrain<IGossipGrain>(s).GetView())));
        return views.Select(v => v?.Members.FirstOrDefault(m => m.Name == victim)?.Incarnation ?? 0).DefaultIfEmpty().Max();
    }

    private static async Task<T?> TryAsync<T>(Task<T> call)
        where T : class
    {
        try
        {
            return await call.WaitAsync(CallTimeout);
        }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            return null;
        }
    }
}
