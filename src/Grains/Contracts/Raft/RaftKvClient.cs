namespace Orleans.Patterns.Raft;

/// <summary>
/// A session with the replicated key/value store: finds the leader (following <see cref="NotLeaderException"/>
/// hints), retries through leader changes, and numbers its writes so a retried write applies once. One write is in
/// flight per session at a time, which is what makes that numbering sound (thesis §6.3); run several sessions, each
/// with its own client id, for concurrency. A call abandoned because another replica leads (<see cref="ProbeAfter"/>)
/// may still reach the store later; it carries a sequence number the store has already answered or will answer
/// once, so it never applies twice or after a later write of the session.
/// </summary>
public sealed class RaftKvClient(IGrainFactory grains, IReadOnlyList<string> replicas, string clientId)
{
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(50);
    private readonly SemaphoreSlim _oneWriteAtATime = new(1, 1);
    private string? _leader;
    private int _next;
    private long _sequence;

    /// <summary>How long one operation keeps retrying before it gives up.</summary>
    public TimeSpan Deadline { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a call may run before the session starts asking the other replicas whether one of them leads now;
    /// null waits for the call itself. A call to a leader whose silo crashed neither answers nor fails until the
    /// call's 5 s response timeout (or until membership declares the silo dead): the crash breaks no connection the
    /// caller holds. Asking instead lets the session move on as soon as a new leader exists, which is an election
    /// timeout after the crash, while a leader that is merely slow keeps its calls, because no one else claims to lead.
    /// </summary>
    public TimeSpan? ProbeAfter { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Pause between two rounds of asking, while the call is still running.</summary>
    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromMilliseconds(25);

    /// <summary>The replica this session last found leading, if any.</summary>
    public string? Leader => _leader;

    public Task<KvWriteResult> PutAsync(string key, string value, CancellationToken cancellationToken = default) =>
        WriteAsync(KvWriteKind.Put, key, value, null, cancellationToken);

    public Task<KvWriteResult> DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        WriteAsync(KvWriteKind.Delete, key, null, null, cancellationToken);

    public Task<KvWriteResult> CompareAndSwapAsync(string key, string? expected, string value, CancellationToken cancellationToken = default) =>
        WriteAsync(KvWriteKind.Cas, key, value, expected, cancellationToken);

    public Task<KvReadResult> GetAsync(string key, CancellationToken cancellationToken = default) =>
        RetryAsync(replica => grains.GetGrain<IRaftReplicaGrain>(replica).Read(key), cancellationToken);

    private async Task<KvWriteResult> WriteAsync(KvWriteKind kind, string key, string? value, string? expected, CancellationToken cancellationToken)
    {
        await _oneWriteAtATime.WaitAsync(cancellationToken);
        try
        {
            // The same sequence number on every retry: the store answers a duplicate with the first outcome.
            var write = new KvWrite(clientId, ++_sequence, kind, key, value, expected);
            return await RetryAsync(replica => grains.GetGrain<IRaftReplicaGrain>(replica).Write(write), cancellationToken);
        }
        finally
        {
            _oneWriteAtATime.Release();
        }
    }

    private async Task<T> RetryAsync<T>(Func<string, Task<T>> call, CancellationToken cancellationToken)
    {
        if (replicas.Count == 0)
        {
            throw new InvalidOperationException("No Raft replicas to talk to.");
        }

        var deadline = DateTime.UtcNow + Deadline;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var target = _leader ?? replicas[_next++ % replicas.Count];
            var attempt = call(target);
            if (ProbeAfter is { } probeAfter && await OtherLeaderAsync(attempt, target, probeAfter, cancellationToken) is { } moved)
            {
                // Abandoned, not cancelled: the write may still commit, and the retry carries the same sequence number,
                // so the store answers it with the first outcome instead of applying it twice.
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
                _leader = e.LeaderHint is { } hint && replicas.Contains(hint) && hint != target ? hint : null;
                if (_leader is not null)
                {
                    continue; // go straight to the hinted leader
                }
            }
            catch (Exception e) when (e is OutcomeUnknownException or TimeoutException or OrleansException)
            {
                // Leadership moved, the replica's silo is gone, or the call timed out: ask around again.
                last = e;
                _leader = null;
            }

            await Task.Delay(RetryPause, cancellationToken);
        }

        throw new TimeoutException($"No Raft leader answered within {Deadline.TotalSeconds:0.#} s; last error: {last?.Message}", last);
    }

    /// <summary>
    /// Waits for <paramref name="attempt"/>; once it has run <paramref name="probeAfter"/>, asks the other replicas
    /// every <see cref="ProbeInterval"/> whether one of them leads. Returns that replica (the highest term's if
    /// several claim it), or null when the attempt finished first.
    /// </summary>
    private async Task<string?> OtherLeaderAsync(Task attempt, string target, TimeSpan probeAfter, CancellationToken cancellationToken)
    {
        // WaitAsync's timer is dropped as soon as the attempt completes, so the common fast write leaves no timer behind.
        await attempt.WaitAsync(probeAfter, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (attempt.IsCompleted)
        {
            return null;
        }

        cancellationToken.ThrowIfCancellationRequested();

        var others = replicas.Where(r => r != target).ToList();
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

    /// <summary>Marks a call nobody awaits any more as observed, so its eventual failure is not reported as unobserved.</summary>
    private static void Observe(Task task) =>
        task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}
