using CsCheck;
using Orleans.Patterns.Coordination;

namespace Orleans.Patterns.Tests.Coordination;

/// <remarks>
/// On failure CsCheck shrinks the schedule and prints its seed. To replay exactly that case, pass it to the failing
/// <c>Sample</c> call (<c>seed: "..."</c>) or set the <c>CsCheck_Seed</c> environment variable and rerun the test.
/// </remarks>
[Trait("Category", "Unit")]
public sealed class LeaseRenewalsTests
{
    private static readonly LeaseDeadline TenSecondsUntil11 = new(10, 11_000);

    [Fact]
    public void ARenewalAnswersTheTtlAndIsRemembered_AMissingLeaseAnswersZeroAndIsNot()
    {
        var renewals = new LeaseRenewals(3);
        Assert.Equal(10, renewals.Renew(1, TenSecondsUntil11, 5_000));
        Assert.Equal(0, renewals.Renew(2, null, 5_000));
        Assert.Equal(5_000, renewals.RenewedAt(1));
        Assert.Null(renewals.RenewedAt(2));
        Assert.Equal(1, renewals.Count);
        Assert.Equal(3, renewals.Term);
    }

    [Fact]
    public void TheLatestRenewalCounts()
    {
        var renewals = new LeaseRenewals(1);
        renewals.Renew(1, TenSecondsUntil11, 6_000);
        renewals.Renew(1, TenSecondsUntil11, 5_000);
        Assert.Equal(6_000, renewals.RenewedAt(1));
        renewals.Renew(1, TenSecondsUntil11, 7_000);
        Assert.Equal(7_000, renewals.RenewedAt(1));
        Assert.Equal(1, renewals.Count);
    }

    [Fact]
    public void NothingRenewedOrNothingOverdue_TheExpiryGoesAhead()
    {
        var renewals = new LeaseRenewals(1);
        Assert.Equal(new ExpireLeasesRequest(12_000), renewals.NextLeaseCommand(_ => TenSecondsUntil11, 12_000));

        // Lease 1 is renewed but ends after the expiry's now in the store: the expiry spares it, no refresh needed.
        renewals.Renew(1, new LeaseDeadline(10, 20_000), 12_000);
        Assert.Equal(new ExpireLeasesRequest(12_500), renewals.NextLeaseCommand(_ => new LeaseDeadline(10, 20_000), 12_500));
        Assert.Equal(1, renewals.Count);
    }

    [Fact]
    public void AnOverdueRenewedLeaseIsRefreshedFirst_WithEveryPendingRenewal_EarliestDeadlineFirst()
    {
        var renewals = new LeaseRenewals(1);
        var store = new Dictionary<long, LeaseDeadline> { [1] = new(10, 20_000), [2] = new(10, 11_000), [3] = new(10, 15_000), [4] = new(10, 9_000) };
        foreach (var id in store.Keys)
        {
            renewals.Renew(id, store[id], 10_500);
        }

        renewals.Renew(3, store[3], 11_000);

        // Each renewal goes with its own time: a lease whose keep-alives stop ends a TTL after the last, not after this.
        var refresh = Assert.IsType<RefreshLeasesRequest>(renewals.NextLeaseCommand(id => store.GetValueOrDefault(id), 12_000));
        Assert.Equal([new(4, 10_500), new(2, 10_500), new(3, 11_000), new LeaseRenewedAt(1, 10_500)], refresh.Leases);
    }

    [Fact]
    public void RenewalsOfLeasesThatNoLongerExistAreForgotten()
    {
        var renewals = new LeaseRenewals(1);
        renewals.Renew(1, TenSecondsUntil11, 5_000);
        renewals.Renew(2, TenSecondsUntil11, 5_000);
        var refresh = Assert.IsType<RefreshLeasesRequest>(renewals.NextLeaseCommand(id => id == 2 ? TenSecondsUntil11 : null, 12_000));
        Assert.Equal([new LeaseRenewedAt(2, 5_000)], refresh.Leases);
        Assert.Null(renewals.RenewedAt(1));
    }

    [Fact]
    public void ARefreshCarriesAtMostItsLimit_TheRestGoInTheNext()
    {
        var renewals = new LeaseRenewals(1);
        var total = LeaseRenewals.MaxLeasesPerRefresh + 5;
        for (var id = 1; id <= total; id++)
        {
            renewals.Renew(id, TenSecondsUntil11, 5_000);
        }

        var first = Assert.IsType<RefreshLeasesRequest>(renewals.NextLeaseCommand(_ => TenSecondsUntil11, 12_000));
        Assert.Equal(LeaseRenewals.MaxLeasesPerRefresh, first.Leases.Count);
        renewals.Proposed(first);
        renewals.Applied(first);
        Assert.Equal(5, renewals.Count);
        var flushed = first.Leases.Select(l => l.ID).ToHashSet();
        var second = Assert.IsType<RefreshLeasesRequest>(renewals.NextLeaseCommand(id => flushed.Contains(id) ? new LeaseDeadline(10, 15_000) : TenSecondsUntil11, 12_100));
        Assert.Equal(Enumerable.Range(LeaseRenewals.MaxLeasesPerRefresh + 1, 5).Select(i => (long)i), second.Leases.Select(l => l.ID));
    }

    [Fact]
    public void AnAppliedRefreshSettlesWhatItCarried_ButNotARenewalMadeAfterItWasDecided()
    {
        var renewals = new LeaseRenewals(1);
        renewals.Renew(1, TenSecondsUntil11, 5_000);
        renewals.Renew(2, TenSecondsUntil11, 5_000);
        var refresh = Assert.IsType<RefreshLeasesRequest>(renewals.NextLeaseCommand(_ => TenSecondsUntil11, 12_000));
        renewals.Proposed(refresh);

        // While the refresh is in the log, lease 2 is renewed again and a third lease for the first time.
        renewals.Renew(2, TenSecondsUntil11, 12_050);
        renewals.Renew(3, TenSecondsUntil11, 12_050);
        Assert.Equal(5_000, renewals.RenewedAt(1)); // still pending until applied: reads must see it
        renewals.Applied(refresh);
        Assert.Null(renewals.RenewedAt(1));
        Assert.Equal(12_050, renewals.RenewedAt(2));
        Assert.Equal(12_050, renewals.RenewedAt(3));
    }

    [Fact]
    public void WhileAnExpiryIsInFlight_ALeaseItWillEndIsNotRenewed_OneItSparesIs()
    {
        var renewals = new LeaseRenewals(1);
        var expire = Assert.IsType<ExpireLeasesRequest>(renewals.NextLeaseCommand(_ => TenSecondsUntil11, 12_000));
        renewals.Proposed(expire);

        Assert.Equal(0, renewals.Renew(1, new LeaseDeadline(10, 11_000), 12_010));   // ends at or before 12,000: doomed
        Assert.Equal(0, renewals.Renew(2, new LeaseDeadline(10, 12_000), 12_010));
        Assert.Equal(10, renewals.Renew(3, new LeaseDeadline(10, 12_001), 12_010));  // the expiry spares it
        Assert.Null(renewals.RenewedAt(1));
        Assert.Equal(12_010, renewals.RenewedAt(3));

        renewals.Applied(expire);
        Assert.Equal(10, renewals.Renew(4, new LeaseDeadline(10, 11_000), 12_020)); // no expiry in flight any more
    }

    [Fact]
    public void ATimeToLiveReadTakesTheLaterOfTheStoreAndAPendingRenewal()
    {
        var renewals = new LeaseRenewals(1);
        renewals.Renew(1, TenSecondsUntil11, 9_000);                         // renewed until 19,000
        var stored = new LeaseTimeToLiveResponse(5, 1, 1, 10, []);          // the store says about 1 s left at 10,000
        Assert.Equal(9, renewals.WithRenewals(stored, 10_000).TTL);
        Assert.Equal(0, renewals.WithRenewals(stored with { TTL = 0 }, 25_000).TTL);

        // The store's deadline is later (refreshed since), or there is no renewal, or no lease: the store's answer.
        Assert.Equal(stored with { TTL = 10 }, renewals.WithRenewals(stored with { TTL = 10 }, 10_000));
        Assert.Equal(stored with { ID = 2 }, renewals.WithRenewals(stored with { ID = 2 }, 10_000));
        var missing = new LeaseTimeToLiveResponse(5, 1, -1, 0, []);
        Assert.Equal(missing, renewals.WithRenewals(missing, 10_000));
    }

    /// <summary>
    /// The leader's side against the real store, over random schedules of keep-alives, revokes, time passing, and
    /// housekeeping commands proposed and applied with keep-alives in between: a lease is never expired before a TTL
    /// has passed since a keep-alive it acknowledged, a time-to-live read never reports less than that, and once
    /// keep-alives stop every lease expires.
    /// </summary>
    [Fact]
    public void AnAcknowledgedRenewalHoldsItsLeaseForATtl_AndUnrenewedLeasesStillExpire() =>
        Gen.Select(Gen.Int[0, 4], Gen.Int[0, 1_500], Gen.Long[1, 4]).Array[1, 120].Sample(schedule =>
        {
            var store = new MvccStore();
            var now = 0L;
            for (var id = 1; id <= 3; id++)
            {
                store.LeaseGrant(new LeaseGrantRequest(2, id, now));
            }

            var renewals = new LeaseRenewals(1);
            var acknowledgedUntil = new Dictionary<long, long>();
            ICoordinationWrite? inFlight = null;

            void Housekeep()
            {
                if (inFlight is null && store.NextLeaseDeadlineMillis is { } next && next <= now)
                {
                    inFlight = renewals.NextLeaseCommand(store.LeaseDeadlineOf, now);
                    renewals.Proposed(inFlight);
                }
            }

            void ApplyInFlight()
            {
                switch (inFlight)
                {
                    case RefreshLeasesRequest refresh:
                        store.RefreshLeases(refresh);
                        break;
                    case ExpireLeasesRequest expire:
                        foreach (var id in store.ExpireLeases(expire).Expired)
                        {
                            var until = acknowledgedUntil.GetValueOrDefault(id);
                            Assert.True(until <= expire.NowMillis, $"lease {id} expired at {expire.NowMillis}, acknowledged until {until}");
                        }

                        break;
                    case null:
                        return;
                }

                renewals.Applied(inFlight);
                inFlight = null;
            }

            foreach (var (op, millis, id) in schedule)
            {
                switch (op)
                {
                    case 0:
                        now += millis;
                        break;
                    case 1:
                        var ttl = renewals.Renew(id, store.LeaseDeadlineOf(id), now);
                        if (ttl > 0)
                        {
                            acknowledgedUntil[id] = now + (ttl * 1000);
                        }

                        break;
                    case 2:
                        Housekeep();
                        break;
                    case 3:
                        ApplyInFlight();
                        break;
                    default:
                        if (store.LeaseDeadlineOf(id) is not null)
                        {
                            store.LeaseRevoke(new LeaseRevokeRequest(id));
                            acknowledgedUntil.Remove(id);
                        }

                        break;
                }

                foreach (var (lease, until) in acknowledgedUntil)
                {
                    var read = renewals.WithRenewals(store.LeaseTimeToLive(new LeaseTimeToLiveRequest(lease, now)), now);
                    Assert.True(until <= now || read.TTL >= (until - now) / 1000, $"lease {lease} read {read.TTL} s at {now}, acknowledged until {until}");
                }
            }

            // Keep-alives stop: within a few housekeeping rounds after the last TTL every lease is gone.
            ApplyInFlight();
            now += 2_001;
            for (var round = 0; round < 4 && store.LeaseLeases().Leases.Count > 0; round++)
            {
                Housekeep();
                ApplyInFlight();
            }

            Assert.Empty(store.LeaseLeases().Leases);
        }, iter: 2_000);
}
