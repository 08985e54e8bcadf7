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
    private readonly RaftLeaderRouter _router = new(grains, replicas);
    private readonly SemaphoreSlim _oneWriteAtATime = new(1, 1);
    private long _sequence;

    /// <summary>How long one operation keeps retrying before it gives up.</summary>
    public TimeSpan Deadline { get => _router.Deadline; init => _router.Deadline = value; }

    /// <summary>See <see cref="RaftLeaderRouter.ProbeAfter"/>.</summary>
    public TimeSpan? ProbeAfter { get => _router.ProbeAfter; init => _router.ProbeAfter = value; }

    /// <summary>Pause between two rounds of asking, while the call is still running.</summary>
    public TimeSpan ProbeInterval { get => _router.ProbeInterval; init => _router.ProbeInterval = value; }

    /// <summary>The replica this session last found leading, if any.</summary>
    public string? Leader => _router.Leader;

    public Task<KvWriteResult> PutAsync(string key, string value, CancellationToken cancellationToken = default) =>
        WriteAsync(KvWriteKind.Put, key, value, null, cancellationToken);

    public Task<KvWriteResult> DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        WriteAsync(KvWriteKind.Delete, key, null, null, cancellationToken);

    public Task<KvWriteResult> CompareAndSwapAsync(string key, string? expected, string value, CancellationToken cancellationToken = default) =>
        WriteAsync(KvWriteKind.Cas, key, value, expected, cancellationToken);

    public Task<KvReadResult> GetAsync(string key, CancellationToken cancellationToken = default) =>
        _router.CallLeaderAsync(replica => replica.Read(key), cancellationToken);

    private async Task<KvWriteResult> WriteAsync(KvWriteKind kind, string key, string? value, string? expected, CancellationToken cancellationToken)
    {
        await _oneWriteAtATime.WaitAsync(cancellationToken);
        try
        {
            // The same sequence number on every retry: the store answers a duplicate with the first outcome.
            var write = new KvWrite(clientId, ++_sequence, kind, key, value, expected);
            return await _router.CallLeaderAsync(replica => replica.Write(write), cancellationToken);
        }
        finally
        {
            _oneWriteAtATime.Release();
        }
    }
}
