namespace Orleans.Patterns.Coordination;

/// <summary>
/// Grants a lease of <see cref="TTL"/> seconds, as etcd's <c>LeaseGrantRequest</c>; <see cref="ID"/> 0 lets the store
/// choose. <see cref="NowMillis"/> is the proposing leader's clock: the store never reads one.
/// </summary>
public sealed record LeaseGrantRequest(long TTL, long ID, long NowMillis) : ICoordinationWrite;

/// <summary>The granted lease and its TTL (raised to the minimum when asked for less).</summary>
public sealed record LeaseGrantResponse(long Revision, long ID, long TTL) : ICoordinationResponse;

/// <summary>Ends a lease and deletes its keys at one revision, as etcd's <c>LeaseRevokeRequest</c>.</summary>
public sealed record LeaseRevokeRequest(long ID) : ICoordinationWrite;

/// <summary>The answer to a revoke.</summary>
public sealed record LeaseRevokeResponse(long Revision) : ICoordinationResponse;

/// <summary>
/// Extends a lease to <see cref="NowMillis"/> plus its TTL, as etcd's <c>LeaseKeepAliveRequest</c>, through the log.
/// Keep-alives are now renewed on the leader and reach the log batched (<see cref="RefreshLeasesRequest"/>); entries
/// of this kind in existing logs and from older clients still apply as they always did.
/// </summary>
public sealed record LeaseKeepAliveRequest(long ID, long NowMillis) : ICoordinationWrite;

/// <summary>The lease's TTL after the refresh; 0 when the lease does not exist (as etcd's keep-alive stream answers).</summary>
public sealed record LeaseKeepAliveResponse(long Revision, long ID, long TTL) : ICoordinationResponse;

/// <summary>Reads a lease's remaining time, as etcd's <c>LeaseTimeToLiveRequest</c>; <see cref="NowMillis"/> is the caller's clock.</summary>
public sealed record LeaseTimeToLiveRequest(long ID, long NowMillis)
{
    /// <summary>Also list the keys attached to the lease.</summary>
    public bool Keys { get; init; }
}

/// <summary>Remaining and granted TTL in seconds; TTL -1 when the lease does not exist (as etcd answers).</summary>
public sealed record LeaseTimeToLiveResponse(long Revision, long ID, long TTL, long GrantedTTL, IReadOnlyList<byte[]> Keys) : ICoordinationResponse;

/// <summary>Every live lease, as etcd's <c>LeaseLeasesResponse</c>, in ID order.</summary>
public sealed record LeaseLeasesResponse(long Revision, IReadOnlyList<long> Leases) : ICoordinationResponse;

/// <summary>
/// The leader's tick: expires every lease whose deadline is at or before <see cref="NowMillis"/>, in deadline then ID
/// order, each deleting its keys at one revision of its own.
/// </summary>
public sealed record ExpireLeasesRequest(long NowMillis) : ICoordinationWrite;

/// <summary>The leases that expired, in the order they did.</summary>
public sealed record ExpireLeasesResponse(long Revision, IReadOnlyList<long> Expired) : ICoordinationResponse;

/// <summary>
/// Proposed by a new leader: extends every lease to <see cref="NowMillis"/> plus its TTL, so time lost to the leader
/// change does not expire leases early (etcd's lessor <c>Promote</c>).
/// </summary>
public sealed record PromoteLeasesRequest(long NowMillis) : ICoordinationWrite;

/// <summary>How many leases were extended.</summary>
public sealed record PromoteLeasesResponse(long Revision, int Extended) : ICoordinationResponse;

/// <summary>
/// The leader's batch of keep-alives it answered without a log entry each: extends every listed lease that still
/// exists to its renewal time plus its TTL, never shortening it (missing leases, revoked or expired since, are
/// skipped). Each lease keeps its own renewal time, so a lease whose keep-alives stop ends a TTL after the last one,
/// however late the batch is written. The leader applies it before it expires any lease one of those keep-alives
/// renewed.
/// </summary>
public sealed record RefreshLeasesRequest(IReadOnlyList<LeaseRenewedAt> Leases) : ICoordinationWrite;

/// <summary>A lease the leader renewed, and when, on its clock.</summary>
public readonly record struct LeaseRenewedAt(long ID, long RenewedAtMillis);

/// <summary>How many of the listed leases existed and were extended.</summary>
public sealed record RefreshLeasesResponse(long Revision, int Refreshed) : ICoordinationResponse;
