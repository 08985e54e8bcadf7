namespace Orleans.Patterns.Raft;

/// <summary>
/// A session with the replicated key/value store: finds the leader (following <see cref="NotLeaderException"/>
/// hints), retries through leader changes, and numbers its writes so a retried write applies once. One write is in
/// flight per session at a time, which is what makes that numbering sound (thesis §6.3); run several sessions, each
/// with its own client id, for concurrency, over one <see cref="RaftKvChannel"/> so their concurrent writes travel to
/// the leader in batches. A call abandoned because another replica leads (<see cref="ProbeAfter"/>) may still reach
/// the store later; it carries a sequence number the store has already answered or will answer once, so it never
/// applies twice or after a later write of the session.
/// </summary>
public sealed class RaftKvClient(RaftKvChannel channel, string clientId)
{
    private readonly SemaphoreSlim _oneWriteAtATime = new(1, 1);
    private long _sequence;

    /// <summary>A session over a channel of its own.</summary>
    public RaftKvClient(IGrainFactory grains, IReadOnlyList<string> replicas, string clientId)
        : this(new RaftKvChannel(grains, replicas), clientId)
    {
    }

    /// <summary>How long one operation keeps retrying before it gives up (the channel's, shared by its sessions).</summary>
    public TimeSpan Deadline { get => channel.Router.Deadline; init => channel.Router.Deadline = value; }

    /// <summary>See <see cref="RaftLeaderRouter.ProbeAfter"/> (the channel's).</summary>
    public TimeSpan? ProbeAfter { get => channel.Router.ProbeAfter; init => channel.Router.ProbeAfter = value; }

    /// <summary>Pause between two rounds of asking, while the call is still running (the channel's).</summary>
    public TimeSpan ProbeInterval { get => channel.Router.ProbeInterval; init => channel.Router.ProbeInterval = value; }

    /// <summary>The replica this session's channel last found leading, if any.</summary>
    public string? Leader => channel.Router.Leader;

    public Task<KvWriteResult> PutAsync(string key, string value, CancellationToken cancellationToken = default) =>
        WriteAsync(KvWriteKind.Put, key, value, null, cancellationToken);

    public Task<KvWriteResult> DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        WriteAsync(KvWriteKind.Delete, key, null, null, cancellationToken);

    public Task<KvWriteResult> CompareAndSwapAsync(string key, string? expected, string value, CancellationToken cancellationToken = default) =>
        WriteAsync(KvWriteKind.Cas, key, value, expected, cancellationToken);

    public Task<KvReadResult> GetAsync(string key, CancellationToken cancellationToken = default) =>
        channel.Router.CallLeaderAsync(replica => replica.Read(key), cancellationToken);

    private async Task<KvWriteResult> WriteAsync(KvWriteKind kind, string key, string? value, string? expected, CancellationToken cancellationToken)
    {
        await _oneWriteAtATime.WaitAsync(cancellationToken);

        // The same sequence number on every retry: the store answers a duplicate with the first outcome. The session
        // takes its next write only once this one is settled, even if this caller stops waiting before that.
        var write = new KvWrite(clientId, ++_sequence, kind, key, value, expected);
        return await channel.Writes.WriteAsync(write, () => _oneWriteAtATime.Release(), cancellationToken);
    }
}

/// <summary>
/// The path to the Raft leader that many <see cref="RaftKvClient"/> sessions share: one router (the leader found
/// once for all) and one <see cref="RaftWriteBatcher{TWrite, TResult}"/>, so their concurrent writes are coalesced
/// into batches.
/// </summary>
public sealed class RaftKvChannel
{
    public RaftKvChannel(IGrainFactory grains, IReadOnlyList<string> replicas)
    {
        Router = new RaftLeaderRouter(grains, replicas);
        Writes = new RaftWriteBatcher<KvWrite, KvWriteResult>(
            Router,
            async (replica, writes) => (await replica.WriteBatch(new KvWriteBatch(writes))).Results,
            (replica, write) => replica.Write(write));
    }

    /// <summary>Finds and follows the leader for every session of the channel.</summary>
    public RaftLeaderRouter Router { get; }

    /// <summary>Coalesces the sessions' writes; tunable there.</summary>
    public RaftWriteBatcher<KvWrite, KvWriteResult> Writes { get; }
}
