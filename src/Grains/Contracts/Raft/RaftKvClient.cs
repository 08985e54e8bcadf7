namespace Orleans.Patterns.Raft;

/// <summary>
/// A session with the replicated key/value store: finds the leader (following <see cref="NotLeaderException"/>
/// hints), retries through leader changes, and numbers its writes so a retried write applies once. One write is in
/// flight per session at a time, which is what makes that numbering sound (thesis §6.3); run several sessions, each
/// with its own client id, for concurrency.
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
            try
            {
                var result = await call(target);
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
}
