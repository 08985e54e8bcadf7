using Xunit.Abstractions;
using static Orleans.Patterns.Tests.Coordination.Etcd.EtcdctlKeyValueTests;

namespace Orleans.Patterns.Tests.Coordination.Etcd;

/// <summary>etcdctl's watch and lease commands against the silos: history from a revision, live events, lease expiry.</summary>
[Trait("Category", "Cluster")]
[Collection(EtcdClusterCollection.Name)]
public sealed class EtcdctlWatchLeaseTests(EtcdClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan LineTimeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Watch_on_a_follower_replays_from_a_revision_then_follows_live_writes_through_another_silo()
    {
        var leader = await fixture.LeaderAsync();
        var follower = EtcdClusterFixture.Silos.First(s => s != leader);
        var writer = new Etcdctl(fixture.Endpoint(leader), output);
        var start = Revision(Json(await writer.OkAsync("put", "/watch/a", "1", "-w", "json")));
        await writer.OkAsync("put", "/watch/b", "2");
        await writer.OkAsync("del", "/watch/a");

        await using var watch = new Etcdctl(fixture.Endpoint(follower), output).StartLongRunning("watch", $"--rev={start}", "--prefix", "/watch/", "--prev-kv");
        // Each event prints its type, then (with --prev-kv, when there was one) the previous key and value, then its key and value.
        Assert.Equal(["PUT", "/watch/a", "1"], await watch.ReadLinesAsync(3, LineTimeout));
        Assert.Equal(["PUT", "/watch/b", "2"], await watch.ReadLinesAsync(3, LineTimeout));
        Assert.Equal(["DELETE", "/watch/a", "1", "/watch/a", ""], await watch.ReadLinesAsync(5, LineTimeout));

        // Live events, written through the other follower: forwarded to the leader, seen on this follower's replica.
        var other = new Etcdctl(fixture.Endpoint(EtcdClusterFixture.Silos.First(s => s != leader && s != follower)), output);
        for (var i = 0; i < 5; i++)
        {
            await other.OkAsync("put", "/watch/live", $"v{i}");
        }

        var live = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var lines = await watch.ReadLinesAsync(i == 0 ? 3 : 5, LineTimeout);
            live.Add(lines[^1]);
        }

        Assert.Equal(["v0", "v1", "v2", "v3", "v4"], live);
    }

    [Fact]
    public async Task A_watch_from_a_compacted_revision_is_canceled_with_etcds_compaction_error()
    {
        var etcdctl = new Etcdctl(fixture.Endpoint(EtcdClusterFixture.Silos[2]), output);
        var first = Revision(Json(await etcdctl.OkAsync("put", "/watch-compacted/k", "1", "-w", "json")));
        var second = Revision(Json(await etcdctl.OkAsync("put", "/watch-compacted/k", "2", "-w", "json")));
        await etcdctl.OkAsync("compaction", second.ToString());

        var watch = await etcdctl.RunAsync(["watch", $"--rev={first}", "/watch-compacted/k"], timeout: TimeSpan.FromSeconds(20));
        Assert.NotEqual(0, watch.ExitCode);
        Assert.Contains("watch was canceled (etcdserver: mvcc: required revision has been compacted)", watch.Stderr);
        Assert.Equal("", watch.Stdout);
    }

    [Fact]
    public async Task A_key_on_a_lease_disappears_when_the_lease_expires_and_keep_alive_renews_it()
    {
        var etcdctl = new Etcdctl(fixture.Endpoint(EtcdClusterFixture.Silos[1]), output);
        var granted = await etcdctl.OkAsync("lease", "grant", "3");
        var match = System.Text.RegularExpressions.Regex.Match(granted, "^lease ([0-9a-f]{16}) granted with TTL\\(3s\\)");
        Assert.True(match.Success, granted);
        var lease = match.Groups[1].Value;

        Assert.Equal("OK", (await etcdctl.OkAsync("put", "/lease/k", "held", $"--lease={lease}")).Trim());
        Assert.Contains($"lease {lease} keepalived with TTL(3)", await etcdctl.OkAsync("lease", "keep-alive", "--once", lease));
        var ttl = await etcdctl.OkAsync("lease", "timetolive", "--keys", lease);
        Assert.Matches($"^lease {lease} granted with TTL\\(3s\\), remaining\\([0-3]s\\), attached keys\\(\\[/lease/k\\]\\)", ttl);
        Assert.Contains(lease, await etcdctl.OkAsync("lease", "list"));

        // The leader's clock expires the lease; the key goes with it at one revision.
        await Infrastructure.Eventually.WaitAsync(
            async () => await etcdctl.OkAsync("get", "/lease/k") == "",
            TimeSpan.FromSeconds(15),
            () => $"lease {lease} expiring and /lease/k gone");
        Assert.Contains("already expired", await etcdctl.OkAsync("lease", "timetolive", lease));

        var revoke = await etcdctl.RunAsync(["lease", "revoke", lease]);
        Assert.NotEqual(0, revoke.ExitCode);
        Assert.Contains("etcdserver: requested lease not found", revoke.Stderr);
    }

    [Fact]
    public async Task Revoking_a_lease_deletes_its_keys_and_a_watch_sees_the_delete()
    {
        var etcdctl = new Etcdctl(fixture.Endpoint(EtcdClusterFixture.Silos[2]), output);
        var lease = System.Text.RegularExpressions.Regex.Match(await etcdctl.OkAsync("lease", "grant", "60"), "lease ([0-9a-f]{16})").Groups[1].Value;
        await etcdctl.OkAsync("put", "/revoke/k", "v", $"--lease={lease}");
        var after = Revision(Json(await etcdctl.OkAsync("get", "/revoke/k", "-w", "json")));
        await using var watch = etcdctl.StartLongRunning("watch", $"--rev={after + 1}", "/revoke/k");
        Assert.Contains("revoked", await etcdctl.OkAsync("lease", "revoke", lease));
        Assert.Equal(["DELETE", "/revoke/k", ""], await watch.ReadLinesAsync(3, LineTimeout));
        Assert.Equal("", await etcdctl.OkAsync("get", "/revoke/k"));
    }
}
