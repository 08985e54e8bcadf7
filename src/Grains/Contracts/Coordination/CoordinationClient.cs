using System.Runtime.CompilerServices;
using Orleans.Patterns.Raft;

namespace Orleans.Patterns.Coordination;

/// <summary>
/// The .NET API of the coordination service (etcd v3 semantics on the Raft log), for callers in the cluster and
/// outside it. Writes go to the Raft leader through a pool of sessions: each session has one write in flight and
/// numbers its writes, so a write retried after a leader change applies once (the pool gives concurrency without
/// giving that up). Linearizable reads and lease keep-alives go to the leader (its lease, or a ReadIndex round); serializable reads and
/// watches are served by <see cref="LocalReplica"/> when one is given (the silo's own replica), otherwise by any
/// replica.
/// A refusal by the store is thrown as <see cref="CoordinationException"/> naming etcd's error.
/// </summary>
public sealed class CoordinationClient
{
    private readonly IGrainFactory _grains;
    private readonly RaftLeaderRouter _router;
    private readonly Session[] _sessions;
    private readonly SemaphoreSlim _freeSessions;
    private readonly Lock _sessionLock = new();
    private int _readTarget;

    // How long past its own wait a replica may take to answer a read before another replica is asked.
    private static readonly TimeSpan LocalAnswerGrace = TimeSpan.FromSeconds(1);

    /// <param name="grains">Where the replica grains are reached.</param>
    /// <param name="replicas">The replicas' names (the silos' names), asked again on every retry.</param>
    /// <param name="clientId">
    /// Unique per client instance and never reused after the instance is gone: the store remembers each session's last
    /// sequence number, and a reused id would have its new writes taken for old duplicates.
    /// </param>
    /// <param name="sessions">How many writes may be in flight at once.</param>
    public CoordinationClient(IGrainFactory grains, Func<IReadOnlyList<string>> replicas, string clientId, int sessions = 16)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientId);
        ArgumentOutOfRangeException.ThrowIfLessThan(sessions, 1);
        _grains = grains;
        _router = new RaftLeaderRouter(grains, replicas);
        _sessions = [.. Enumerable.Range(0, sessions).Select(i => new Session($"{clientId}/{i}"))];
        _freeSessions = new SemaphoreSlim(sessions, sessions);
        Writes = new RaftWriteBatcher<byte[], byte[]>(
            _router,
            async (replica, commands) => (await replica.CoordinateBatch(new CoordinationBatch(commands, clientId))).Results,
            async (replica, command) => (await replica.CoordinateBatch(new CoordinationBatch([command], clientId))).Results[0]);
    }

    /// <summary>How the sessions' concurrent writes travel to the leader: coalesced into batches, tunable there.</summary>
    public RaftWriteBatcher<byte[], byte[]> Writes { get; }

    /// <summary>The replica that serves this client's serializable reads and watches first (its silo's own), if any.</summary>
    public string? LocalReplica { get; init; }

    /// <summary>Finds and follows the leader; its deadline bounds each operation's retries.</summary>
    public RaftLeaderRouter Router => _router;

    public async Task<RangeResponse> RangeAsync(RangeRequest request, CancellationToken cancellationToken = default)
    {
        var query = CoordinationWire.EncodeQuery(new CoordinationQuery.Range(request));
        var answer = request.Serializable
            ? await AnyReplicaAsync(replica => replica.Query(query), LocalAnswerGrace, cancellationToken)
            : await _router.CallLeaderAsync(replica => replica.Query(query), cancellationToken);
        return CoordinationWire.DecodeAnswer<RangeResponse>(answer);
    }

    public async Task<PutResponse> PutAsync(PutRequest request, CancellationToken cancellationToken = default) =>
        (await WriteAsync(request, cancellationToken)).ResponseOrThrow<PutResponse>();

    public async Task<DeleteRangeResponse> DeleteRangeAsync(DeleteRangeRequest request, CancellationToken cancellationToken = default) =>
        (await WriteAsync(request, cancellationToken)).ResponseOrThrow<DeleteRangeResponse>();

    public async Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken cancellationToken = default) =>
        (await WriteAsync(request, cancellationToken)).ResponseOrThrow<TxnResponse>();

    public async Task<CompactionResponse> CompactAsync(long revision, CancellationToken cancellationToken = default) =>
        (await WriteAsync(new CompactionRequest(revision), cancellationToken)).ResponseOrThrow<CompactionResponse>();

    /// <summary>Grants a lease of <paramref name="ttlSeconds"/> (the store's minimum if lower); <paramref name="id"/> 0 lets the store choose.</summary>
    public async Task<LeaseGrantResponse> LeaseGrantAsync(long ttlSeconds, long id = 0, CancellationToken cancellationToken = default) =>
        (await WriteAsync(new LeaseGrantRequest(ttlSeconds, id, 0), cancellationToken)).ResponseOrThrow<LeaseGrantResponse>();

    public async Task<LeaseRevokeResponse> LeaseRevokeAsync(long id, CancellationToken cancellationToken = default) =>
        (await WriteAsync(new LeaseRevokeRequest(id), cancellationToken)).ResponseOrThrow<LeaseRevokeResponse>();

    /// <summary>
    /// Renews a lease on the leader's clock; a TTL of 0 in the answer means the lease no longer exists. Goes to the
    /// leader like a linearizable read, not through the write sessions: the leader keeps the renewal without a log
    /// entry of its own (<see cref="IRaftReplicaGrain.RenewLease"/>), so a retry is harmless.
    /// </summary>
    public async Task<LeaseKeepAliveResponse> LeaseKeepAliveAsync(long id, CancellationToken cancellationToken = default)
    {
        var renewed = await _router.CallLeaderAsync(replica => replica.RenewLease(id), cancellationToken);
        return new LeaseKeepAliveResponse(renewed.Revision, renewed.ID, renewed.TTL);
    }

    /// <summary>The lease's remaining seconds on the leader's clock (-1: no such lease), and its keys if asked.</summary>
    public async Task<LeaseTimeToLiveResponse> LeaseTimeToLiveAsync(long id, bool keys = false, CancellationToken cancellationToken = default)
    {
        var query = CoordinationWire.EncodeQuery(new CoordinationQuery.TimeToLive(id, keys));
        return CoordinationWire.DecodeAnswer<LeaseTimeToLiveResponse>(await _router.CallLeaderAsync(replica => replica.Query(query), cancellationToken));
    }

    public async Task<LeaseLeasesResponse> LeasesAsync(CancellationToken cancellationToken = default)
    {
        var query = CoordinationWire.EncodeQuery(new CoordinationQuery.Leases());
        return CoordinationWire.DecodeAnswer<LeaseLeasesResponse>(await _router.CallLeaderAsync(replica => replica.Query(query), cancellationToken));
    }

    /// <summary>
    /// One long poll: the events from the request's start revision on, waiting up to <paramref name="maxWait"/> when
    /// there are none yet. The answer's revision is the serving replica's; resume from
    /// <c>max(start, revision + 1)</c> (<see cref="WatchAsync"/> does).
    /// </summary>
    public async Task<WatchResponse> WatchOnceAsync(WatchRequest request, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        var query = CoordinationWire.EncodeQuery(new CoordinationQuery.Watch(request));
        return CoordinationWire.DecodeAnswer<WatchResponse>(await AnyReplicaAsync(replica => replica.Watch(query, maxWait), maxWait + LocalAnswerGrace, cancellationToken));
    }

    /// <summary>
    /// A watch as a stream: each answer with events, and an empty one (a progress notice) when
    /// <paramref name="progressEvery"/> passes without any. Ordered, gap-free and without duplicates across replicas:
    /// the next poll always starts after the last revision delivered, wherever it is served. A start revision of 0
    /// means after the current one; a start below the compacted revision throws <see cref="CoordinationException"/>.
    /// </summary>
    public async IAsyncEnumerable<WatchResponse> WatchAsync(
        WatchRequest request, TimeSpan? progressEvery = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var wait = progressEvery ?? TimeSpan.FromSeconds(10);
        if (request.StartRevision <= 0)
        {
            var now = await RangeAsync(new RangeRequest(request.Key) { RangeEnd = request.RangeEnd, CountOnly = true }, cancellationToken);
            request = request with { StartRevision = now.Revision + 1 };
        }

        while (!cancellationToken.IsCancellationRequested)
        {
            var response = await WatchOnceAsync(request, wait, cancellationToken);
            if (response.Events.Count > 0)
            {
                request = request with { StartRevision = response.Events[^1].Kv.ModRevision + 1 };
            }

            yield return response;
        }
    }

    private async Task<CoordinationResult> WriteAsync(ICoordinationWrite request, CancellationToken cancellationToken)
    {
        await _freeSessions.WaitAsync(cancellationToken);
        Session session;
        lock (_sessionLock)
        {
            session = _sessions.First(s => !s.Busy);
            session.Busy = true;
        }

        // The same sequence number on every retry: the store answers a duplicate with the first outcome. The session
        // is free again only once its write is settled, even if this caller stops waiting before that.
        var command = new CoordinationCommand(session.Id, ++session.Sequence, request).Encode();
        return CoordinationWire.DecodeResult(await Writes.WriteAsync(command, () => Release(session), cancellationToken));
    }

    private void Release(Session session)
    {
        lock (_sessionLock)
        {
            session.Busy = false;
        }

        _freeSessions.Release();
    }

    /// <summary>
    /// A read any replica may serve: the local one first, then the leader's router. A replica that does not answer
    /// within <paramref name="patience"/> is given up on (its silo may have crashed with the call in flight, which
    /// fails the call only at its response timeout); the read is safe to repeat elsewhere.
    /// </summary>
    private async Task<byte[]> AnyReplicaAsync(Func<IRaftReplicaGrain, Task<byte[]>> call, TimeSpan patience, CancellationToken cancellationToken)
    {
        var replicas = _router.Replicas;
        var first = LocalReplica is { } local && replicas.Contains(local) ? local : _router.Leader ?? (replicas.Count > 0 ? replicas[(int)((uint)_readTarget++ % (uint)replicas.Count)] : null);
        if (first is not null)
        {
            try
            {
                var attempt = call(_grains.GetGrain<IRaftReplicaGrain>(first));
                try
                {
                    return await attempt.WaitAsync(patience, cancellationToken);
                }
                catch (TimeoutException)
                {
                    RaftLeaderRouter.Observe(attempt);
                    throw;
                }
            }
            catch (Exception e) when (e is TimeoutException || (e is OrleansException && e is not NotLeaderException) ||
                                      (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // (A call the runtime cancels, its target silo stopping, surfaces as a TaskCanceledException.)
                // That replica's silo is gone or busy: fall through to any replica that answers.
            }
        }

        return await _router.CallLeaderAsync(call, cancellationToken);
    }

    private sealed class Session(string id)
    {
        public string Id { get; } = id;

        public long Sequence { get; set; }

        public bool Busy { get; set; }
    }
}
