namespace Orleans.Patterns.Raft;

/// <summary>
/// Finds the Raft leader among the replicas and calls it: follows <see cref="NotLeaderException"/> hints, asks the
/// other replicas who leads when a call hangs (a crashed leader's silo breaks no connection the caller holds), and
/// retries through leader changes until <see cref="Deadline"/>. Callers make retries safe themselves (a session's
/// client id and sequence number, or a read).
/// </summary>
public sealed class RaftLeaderRouter(IGrainFactory grains, Func<IReadOnlyList<string>> replicas)
{
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(50);
    private string? _leader;
    private int _next;

    public RaftLeaderRouter(IGrainFactory grains, IReadOnlyList<string> replicas)
        : this(grains, () => replicas)
    {
    }

    /// <summary>How long one operation keeps retrying before it gives up.</summary>
    public TimeSpan Deadline { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a call may run before the router starts asking the other replicas whether one of them leads now;
    /// null waits for the call itself. A call to a leader whose silo crashed neither answers nor fails until the
    /// call's response timeout (or until membership declares the silo dead). Asking instead moves on as soon as a new
    /// leader exists, an election timeout after the crash, while a leader that is merely slow keeps its calls, because
    /// no one else claims to lead.
    /// </summary>
    public TimeSpan? ProbeAfter { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Pause between two rounds of asking, while the call is still running.</summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromMilliseconds(25);

    /// <summary>The replica last found leading, if any.</summary>
    public string? Leader => _leader;

    /// <summary>The replicas as known now.</summary>
    public IReadOnlyList<string> Replicas => replicas();

    /// <summary>Calls the leader's replica with <paramref name="call"/>, retrying elsewhere as described above.</summary>
    public async Task<T> CallLeaderAsync<T>(Func<IRaftReplicaGrain, Task<T>> call, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + Deadline;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var known = replicas();
            if (known.Count == 0)
            {
                throw new InvalidOperationException("No Raft replicas to talk to.");
            }

            var target = _leader is { } leader && known.Contains(leader) ? leader : known[(int)((uint)_next++ % (uint)known.Count)];
            var attempt = call(grains.GetGrain<IRaftReplicaGrain>(target));
            if (ProbeAfter is { } probeAfter && await OtherLeaderAsync(attempt, target, known, probeAfter, cancellationToken) is { } moved)
            {
                // Abandoned, not cancelled: a write may still commit, so callers retry with the same session sequence.
                Observe(attempt);
                last = new TimeoutException($"{target} did not answer and {moved} leads now.");
                _leader = moved;
                continue;
            }

            try
            {
                var result = await attempt;
                _leader = target;
                return result;
            }
            catch (NotLeaderException e)
            {
                last = e;
                _leader = e.LeaderHint is { } hint && known.Contains(hint) && hint != target ? hint : null;
                if (_leader is not null)
                {
                    continue; // go straight to the hinted leader
                }
            }
            catch (Exception e) when (e is OutcomeUnknownException or TimeoutException or OrleansException ||
                                      (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // Leadership moved, the replica's silo is gone (a call the runtime cancels as its silo stops surfaces
                // as a TaskCanceledException), or the call timed out: ask around again.
                last = e;
                _leader = null;
            }

            await Task.Delay(RetryPause, cancellationToken);
        }

        throw new TimeoutException($"No Raft leader answered within {Deadline.TotalSeconds:0.#} s; last error: {last?.Message}", last);
    }

    /// <summary>Marks a call nobody awaits any more as observed, so its eventual failure is not reported as unobserved.</summary>
    internal static void Observe(Task task) =>
        task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    /// <summary>
    /// Waits for <paramref name="attempt"/>; once it has run <paramref name="probeAfter"/>, asks the other replicas
    /// every <see cref="ProbeInterval"/> whether one of them leads. Returns that replica (the highest term's if
    /// several claim it), or null when the attempt finished first.
    /// </summary>
    private async Task<string?> OtherLeaderAsync(Task attempt, string target, IReadOnlyList<string> known, TimeSpan probeAfter, CancellationToken cancellationToken)
    {
        // WaitAsync's timer is dropped as soon as the attempt completes, so the common fast call leaves no timer behind.
        await attempt.WaitAsync(probeAfter, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (attempt.IsCompleted)
        {
            return null;
        }

        cancellationToken.ThrowIfCancellationRequested();

        var others = known.Where(r => r != target).ToList();
        while (!attempt.IsCompleted)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var statuses = await Task.WhenAll(others.Select(r => TryGetStatusAsync(r, cancellationToken)));
            if (statuses.Where(s => s is { Role: "Leader" }).MaxBy(s => s!.Term) is { } leader && !attempt.IsCompleted)
            {
                return leader.Node;
            }

            await Task.WhenAny(attempt, Task.Delay(ProbeInterval, cancellationToken));
        }

        return null;
    }

    /// <summary>A replica's status, or null if it does not answer within a probe interval (its silo may be the dead one).</summary>
    private async Task<RaftReplicaStatus?> TryGetStatusAsync(string replica, CancellationToken cancellationToken)
    {
        var call = grains.GetGrain<IRaftReplicaGrain>(replica).GetStatus();
        try
        {
            return await call.WaitAsync(ProbeInterval * 4, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or OrleansException)
        {
            Observe(call);
            return null;
        }
    }
}
