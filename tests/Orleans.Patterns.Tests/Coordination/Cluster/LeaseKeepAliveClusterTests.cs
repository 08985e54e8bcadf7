using System.Diagnostics;
using Orleans.Patterns.Coordination;
using Orleans.Patterns.Raft;
using Orleans.Patterns.Tests.Infrastructure;
using Xunit.Abstractions;
using static Orleans.Patterns.Tests.Coordination.Bytes;

namespace Orleans.Patterns.Tests.Coordination.Cluster;

/// <summary>
/// Keep-alives renewed on the Raft leader (a ReadIndex round each, no log entry each) through real silos: leases stay
/// alive on few log entries, end about a TTL after the last keep-alive, read back renewed at once, and survive a
/// change of leader.
/// </summary>
[Trait("Category", "Cluster")]
[Collection(CoordinationClusterCollection.Name)]
public sealed class LeaseKeepAliveClusterTests(CoordinationClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task Keep_alives_hold_a_lease_past_its_ttl_on_far_fewer_log_entries_than_keep_alives()
    {
        var client = fixture.NewClient("keepalive-log");
        var key = B("/keepalive/held");
        var lease = await client.LeaseGrantAsync((long)Ttl.TotalSeconds);
        await client.PutAsync(new PutRequest(key, B("v")) { Lease = lease.ID });
        var replica = fixture.Cluster.Client.GetGrain<IRaftReplicaGrain>(client.Router.Leader!);
        var before = await replica.GetStatus();

        var sent = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < 3 * Ttl)
        {
            Assert.Equal(lease.TTL, (await client.LeaseKeepAliveAsync(lease.ID)).TTL);
            sent++;
            await Task.Delay(50);
        }

        var after = await replica.GetStatus();
        var entries = after.LastIndex - before.LastIndex;
        output.WriteLine($"{sent} keep-alives in {clock.Elapsed.TotalSeconds:F1} s; log {before.LastIndex} -> {after.LastIndex} ({entries} entries) on {after.Node} ({after.Role})");
        Assert.Equal(1, (await client.RangeAsync(new RangeRequest(key))).Count);
        Assert.True(entries >= 1, "the store deadline passed three times over, so at least one refresh must have reached the log");
        Assert.True(entries * 5 <= sent, $"{entries} log entries for {sent} keep-alives");
        await client.LeaseRevokeAsync(lease.ID);
    }

    [Fact]
    public async Task A_lease_whose_keep_alives_stop_expires_about_one_ttl_after_the_last()
    {
        var client = fixture.NewClient("keepalive-stop");
        var key = B("/keepalive/stopped");
        var lease = await client.LeaseGrantAsync((long)Ttl.TotalSeconds);
        await client.PutAsync(new PutRequest(key, B("v")) { Lease = lease.ID });
        var lastSent = Stopwatch.StartNew();
        for (var i = 0; i < 8; i++)
        {
            await Task.Delay(200);
            lastSent.Restart();
            Assert.Equal(lease.TTL, (await client.LeaseKeepAliveAsync(lease.ID)).TTL);
        }

        // Not early: a read that starts shortly before a TTL has passed since the last keep-alive was sent finds the key.
        await Eventually.WaitAsync(() => Task.FromResult(lastSent.Elapsed >= Ttl - TimeSpan.FromMilliseconds(300)), Ttl, () => "time passing");
        Assert.Equal(1, (await client.RangeAsync(new RangeRequest(key))).Count);

        // Not late: gone within about one TTL (plus a housekeeping round or two) of the last keep-alive.
        await Eventually.WaitAsync(
            async () => (await client.RangeAsync(new RangeRequest(key))).Count == 0,
            Ttl + TimeSpan.FromSeconds(2) - lastSent.Elapsed,
            () => $"lease {lease.ID:x} expiring within a TTL of its last keep-alive ({lastSent.Elapsed.TotalSeconds:F1} s ago)");
        output.WriteLine($"key gone {lastSent.Elapsed.TotalSeconds:F2} s after the last keep-alive was sent (TTL {Ttl.TotalSeconds:0} s)");
        Assert.Equal(-1, (await client.LeaseTimeToLiveAsync(lease.ID)).TTL);
        Assert.Equal(0, (await client.LeaseKeepAliveAsync(lease.ID)).TTL);
    }

    [Fact]
    public async Task Time_to_live_on_the_leader_reflects_a_keep_alive_at_once()
    {
        var client = fixture.NewClient("keepalive-ttl");
        var lease = await client.LeaseGrantAsync(5);
        await Eventually.WaitAsync(
            async () => (await client.LeaseTimeToLiveAsync(lease.ID)).TTL <= 2,
            TimeSpan.FromSeconds(10),
            () => $"lease {lease.ID:x} counting down");

        // The store's deadline is still ahead, so no refresh is written yet: the answer comes from the leader's memory.
        Assert.Equal(5, (await client.LeaseKeepAliveAsync(lease.ID)).TTL);
        var ttl = await client.LeaseTimeToLiveAsync(lease.ID);
        output.WriteLine($"time to live right after the keep-alive: {ttl.TTL} of {ttl.GrantedTTL} s");
        Assert.InRange(ttl.TTL, 4, 5);
        await client.LeaseRevokeAsync(lease.ID);
    }

    [Fact]
    public async Task A_keep_alive_the_old_leader_acknowledged_holds_for_a_ttl_after_leadership_moves()
    {
        var client = fixture.NewClient("keepalive-handover");
        var key = B("/keepalive/handover");
        var lease = await client.LeaseGrantAsync(3);
        await client.PutAsync(new PutRequest(key, B("v")) { Lease = lease.ID });
        await Eventually.WaitAsync(
            async () => (await client.LeaseTimeToLiveAsync(lease.ID)).TTL <= 1,
            TimeSpan.FromSeconds(10),
            () => $"lease {lease.ID:x} counting down");

        var sent = Stopwatch.StartNew();
        Assert.Equal(3, (await client.LeaseKeepAliveAsync(lease.ID)).TTL);
        var oldLeader = client.Router.Leader!;
        var newLeader = CoordinationClusterFixture.Voters.First(v => v != oldLeader);
        await Eventually.WaitAsync(
            async () =>
            {
                var statuses = await Task.WhenAll(CoordinationClusterFixture.Voters.Select(v => fixture.Cluster.Client.GetGrain<IRaftReplicaGrain>(v).GetStatus()));
                if (statuses.Single(s => s.Node == newLeader).Role == "Leader")
                {
                    return true;
                }

                if (statuses.FirstOrDefault(s => s.Role == "Leader") is { } current)
                {
                    await fixture.Cluster.Client.GetGrain<IRaftReplicaGrain>(current.Node).TransferLeadership(newLeader);
                }

                return false;
            },
            TimeSpan.FromSeconds(10),
            () => $"leadership moving from {oldLeader} to {newLeader}");
        output.WriteLine($"leadership moved from {oldLeader} to {newLeader} {sent.Elapsed.TotalSeconds:F2} s after the keep-alive");

        // The old leader may have dropped that renewal unwritten; the new leader's promote covers it.
        await Eventually.WaitAsync(() => Task.FromResult(sent.Elapsed >= TimeSpan.FromSeconds(lease.TTL) - TimeSpan.FromMilliseconds(300)), TimeSpan.FromSeconds(lease.TTL), () => "time passing");
        Assert.Equal(1, (await client.RangeAsync(new RangeRequest(key))).Count);
        Assert.InRange((await client.LeaseTimeToLiveAsync(lease.ID)).TTL, 0, lease.TTL);

        // Clean-up only: a TTL after the keep-alive may be up by now (a loaded machine), and then the lease is rightly gone.
        try
        {
            await client.LeaseRevokeAsync(lease.ID);
        }
        catch (CoordinationException e) when (e.Code == CoordinationErrorCode.LeaseNotFound && sent.Elapsed >= TimeSpan.FromSeconds(lease.TTL))
        {
        }
    }
}
