namespace Orleans.Patterns.Coordination;

public sealed partial class MvccStore
{
    private readonly SortedDictionary<long, LeaseState> _leases = [];

    // The highest lease ID handed out or asked for; a grant without an ID takes the next free one after it.
    private long _lastLeaseId;

    /// <summary>Grants a lease ending at the request's now plus its TTL.</summary>
    public LeaseGrantResponse LeaseGrant(LeaseGrantRequest request)
    {
        if (request.TTL > Limits.MaxLeaseTtlSeconds)
        {
            throw CoordinationException.Limit(CoordinationErrorCode.LeaseTtlTooLarge, "etcdserver: too large lease TTL", "max lease TTL", request.TTL, Limits.MaxLeaseTtlSeconds);
        }

        if (request.ID != 0 && _leases.ContainsKey(request.ID))
        {
            throw CoordinationException.Of(CoordinationErrorCode.LeaseExists, $"etcdserver: lease already exists (lease {request.ID})");
        }

        var id = request.ID;
        if (id == 0)
        {
            id = _lastLeaseId + 1;
            while (id == 0 || _leases.ContainsKey(id))
            {
                id++;
            }
        }

        var lease = new LeaseState(id, Math.Max(request.TTL, Limits.MinLeaseTtlSeconds));
        lease.Refresh(request.NowMillis);
        _leases.Add(id, lease);
        _lastLeaseId = Math.Max(_lastLeaseId, id);
        return new LeaseGrantResponse(Revision, id, lease.TTL);
    }

    /// <summary>Ends a lease; its keys are deleted at one revision.</summary>
    public LeaseRevokeResponse LeaseRevoke(LeaseRevokeRequest request)
    {
        if (!_leases.ContainsKey(request.ID))
        {
            throw CoordinationException.Of(CoordinationErrorCode.LeaseNotFound, $"etcdserver: requested lease not found (lease {request.ID})");
        }

        EndLease(request.ID);
        return new LeaseRevokeResponse(Revision);
    }

    /// <summary>Extends a lease to the request's now plus its TTL.</summary>
    public LeaseKeepAliveResponse LeaseKeepAlive(LeaseKeepAliveRequest request)
    {
        if (!_leases.TryGetValue(request.ID, out var lease))
        {
            return new LeaseKeepAliveResponse(Revision, request.ID, 0);
        }

        lease.Refresh(request.NowMillis);
        return new LeaseKeepAliveResponse(Revision, request.ID, lease.TTL);
    }

    /// <summary>
    /// The lease's remaining whole seconds at the caller's now, never below 0 (the next tick expires it): as etcd
    /// documents, the lease expires in under TTL + 1 seconds.
    /// </summary>
    public LeaseTimeToLiveResponse LeaseTimeToLive(LeaseTimeToLiveRequest request)
    {
        if (!_leases.TryGetValue(request.ID, out var lease))
        {
            return new LeaseTimeToLiveResponse(Revision, request.ID, -1, 0, []);
        }

        var remainingMillis = Math.Max(0, lease.DeadlineMillis - request.NowMillis);
        var keys = request.Keys ? lease.Keys.Select(k => k.ToArray()).ToList() : [];
        return new LeaseTimeToLiveResponse(Revision, request.ID, remainingMillis / 1000, lease.TTL, keys);
    }

    /// <summary>The earliest deadline of a live lease on the leader's clock, or null when there is none.</summary>
    public long? NextLeaseDeadlineMillis => _leases.Count == 0 ? null : _leases.Values.Min(l => l.DeadlineMillis);

    /// <summary>A lease's TTL and deadline on the leader's clock, or null when it does not exist.</summary>
    internal LeaseDeadline? LeaseDeadlineOf(long id) =>
        _leases.TryGetValue(id, out var lease) ? new LeaseDeadline(lease.TTL, lease.DeadlineMillis) : null;

    /// <summary>Every live lease in ID order.</summary>
    public LeaseLeasesResponse LeaseLeases() => new(Revision, [.. _leases.Keys]);

    /// <summary>Expires every lease whose deadline is at or before the request's now.</summary>
    public ExpireLeasesResponse ExpireLeases(ExpireLeasesRequest request)
    {
        var expired = _leases.Values
            .Where(l => l.DeadlineMillis <= request.NowMillis)
            .OrderBy(l => l.DeadlineMillis).ThenBy(l => l.ID)
            .Select(l => l.ID).ToList();
        foreach (var id in expired)
        {
            EndLease(id);
        }

        return new ExpireLeasesResponse(Revision, expired);
    }

    /// <summary>Extends every lease to the request's now plus its TTL (a new leader's first act).</summary>
    public PromoteLeasesResponse PromoteLeases(PromoteLeasesRequest request)
    {
        foreach (var lease in _leases.Values)
        {
            lease.Refresh(request.NowMillis);
        }

        return new PromoteLeasesResponse(Revision, _leases.Count);
    }

    /// <summary>
    /// Extends each listed lease that still exists to at least its renewal time plus its TTL (the leader's batched
    /// keep-alives). Never shortens: a renewal taken before this leader's promote is already covered by it.
    /// </summary>
    public RefreshLeasesResponse RefreshLeases(RefreshLeasesRequest request)
    {
        var refreshed = 0;
        foreach (var renewed in request.Leases)
        {
            if (_leases.TryGetValue(renewed.ID, out var lease))
            {
                lease.DeadlineMillis = Math.Max(lease.DeadlineMillis, renewed.RenewedAtMillis + (lease.TTL * 1000));
                refreshed++;
            }
        }

        return new RefreshLeasesResponse(Revision, refreshed);
    }

    private void EndLease(long id)
    {
        var lease = _leases[id];
        BeginWrite();
        foreach (var key in lease.Keys.ToList())
        {
            DeleteKey(_keys[key]);
        }

        EndWrite();
        _leases.Remove(id);
    }

    private void Detach(long lease, byte[] key) => _leases[lease].Keys.Remove(key);

    /// <summary>A granted lease: its TTL in seconds, when it ends on the leader's clock, and the keys attached to it.</summary>
    private sealed class LeaseState(long id, long ttl)
    {
        public long ID { get; } = id;

        public long TTL { get; } = ttl;

        public long DeadlineMillis { get; set; }

        public SortedSet<byte[]> Keys { get; } = new(ByteKeys.Comparer);

        public void Refresh(long nowMillis) => DeadlineMillis = nowMillis + (TTL * 1000);
    }
}

/// <summary>A lease's granted TTL in seconds and when it ends on the leader's clock, as the store holds them.</summary>
internal readonly record struct LeaseDeadline(long TTL, long DeadlineMillis);
