namespace Orleans.Patterns.Coordination;

/// <summary>
/// The leader's keep-alives that have not reached the log yet, for one term. etcd renews leases on the leader alone;
/// here a renewal is remembered (lease id to renewed-at, on the leader's clock) and reaches the log later, many in one
/// <see cref="RefreshLeasesRequest"/>, but always before an <see cref="ExpireLeasesRequest"/> that would otherwise end
/// a renewed lease. Dropping these on losing office is safe because the next leader extends every lease from its own
/// now (<see cref="PromoteLeasesRequest"/>), and it takes office only after the last renewal this leader confirmed (by
/// a ReadIndex round, or inside its lease, which no other leader overlaps).
/// </summary>
internal sealed class LeaseRenewals(long term)
{
    /// <summary>At most this many leases in one refresh (16 bytes each), well below the store's request size limit.</summary>
    public const int MaxLeasesPerRefresh = 10_000;

    private readonly Dictionary<long, long> _renewedAt = [];

    // The now of the ExpireLeasesRequest this leader has in the log and not yet applied, if any.
    private long? _expiringAtMillis;

    /// <summary>The term these renewals were acknowledged in.</summary>
    public long Term { get; } = term;

    /// <summary>How many leases have a renewal not yet applied through the log.</summary>
    public int Count => _renewedAt.Count;

    /// <summary>When <paramref name="id"/> was last renewed here, if that renewal is not yet applied through the log.</summary>
    public long? RenewedAt(long id) => _renewedAt.TryGetValue(id, out var at) ? at : null;

    /// <summary>
    /// A keep-alive the leader confirmed it may answer (ReadIndex), against the state it has applied. Answers the
    /// lease's TTL, or 0 when the lease does not exist or the expiry in flight will end it: that expiry was decided
    /// before this renewal, as it would have been ordered before a keep-alive entry in the log.
    /// </summary>
    public long Renew(long id, LeaseDeadline? lease, long nowMillis)
    {
        if (lease is not { } known || _expiringAtMillis is { } expiring && known.DeadlineMillis <= expiring)
        {
            return 0;
        }

        _renewedAt[id] = Math.Max(nowMillis, _renewedAt.GetValueOrDefault(id));
        return known.TTL;
    }

    /// <summary>
    /// What the leader proposes when an expiry is due: a refresh while any renewed lease is at or past its deadline in
    /// the store (it carries every pending renewal with its own time, earliest store deadline first, up to
    /// <see cref="MaxLeasesPerRefresh"/>), else the expiry itself. Renewals of leases that no longer exist are
    /// forgotten here. A pending renewal whose lease ends later in the store than <paramref name="nowMillis"/> needs
    /// no flush first: the expiry spares that lease. Waiting for a deadline to pass before writing is what keeps the
    /// log quiet: one entry per TTL or so carries every renewal made meanwhile.
    /// </summary>
    public ICoordinationWrite NextLeaseCommand(Func<long, LeaseDeadline?> leases, long nowMillis)
    {
        var pending = new List<(LeaseRenewedAt Renewal, long DeadlineMillis)>(_renewedAt.Count);
        foreach (var (id, at) in _renewedAt.ToList())
        {
            if (leases(id) is { } lease)
            {
                pending.Add((new LeaseRenewedAt(id, at), lease.DeadlineMillis));
            }
            else
            {
                _renewedAt.Remove(id);
            }
        }

        if (!pending.Exists(p => p.DeadlineMillis <= nowMillis))
        {
            return new ExpireLeasesRequest(nowMillis);
        }

        return new RefreshLeasesRequest([.. pending.OrderBy(p => p.DeadlineMillis).ThenBy(p => p.Renewal.ID).Take(MaxLeasesPerRefresh).Select(p => p.Renewal)]);
    }

    /// <summary>The leader proposed one of its lease commands.</summary>
    public void Proposed(ICoordinationWrite command)
    {
        if (command is ExpireLeasesRequest expire)
        {
            _expiringAtMillis = expire.NowMillis;
        }
    }

    /// <summary>
    /// The leader's lease command applied: a refresh settles the renewals it carried (a lease renewed again since
    /// stays pending with its later time); an expiry is no longer in flight.
    /// </summary>
    public void Applied(ICoordinationWrite command)
    {
        switch (command)
        {
            case RefreshLeasesRequest refresh:
                foreach (var renewed in refresh.Leases)
                {
                    if (_renewedAt.TryGetValue(renewed.ID, out var at) && at <= renewed.RenewedAtMillis)
                    {
                        _renewedAt.Remove(renewed.ID);
                    }
                }

                break;
            case ExpireLeasesRequest:
                _expiringAtMillis = null;
                break;
        }
    }

    /// <summary>
    /// A time-to-live read on the leader: the later of the store's deadline and a pending renewal's, in whole seconds
    /// as the store counts them.
    /// </summary>
    public LeaseTimeToLiveResponse WithRenewals(LeaseTimeToLiveResponse stored, long nowMillis)
    {
        if (stored.TTL < 0 || RenewedAt(stored.ID) is not { } at)
        {
            return stored;
        }

        var remainingSeconds = Math.Max(0, at + (stored.GrantedTTL * 1000) - nowMillis) / 1000;
        return remainingSeconds > stored.TTL ? stored with { TTL = remainingSeconds } : stored;
    }
}
