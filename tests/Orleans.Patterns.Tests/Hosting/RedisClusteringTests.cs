using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Patterns.Client.Cluster;
using Orleans.Patterns.Client.Workload;
using Orleans.Patterns.Ring;
using Orleans.Patterns.Tests.Infrastructure;
using Orleans.Patterns.Users;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Hosting;

/// <summary>
/// Two silos built by the real host, clustered through a real Redis membership table, and a real client: the
/// configuration path a user takes with <c>--clustering redis</c>, which the in-memory test cluster cannot cover.
/// </summary>
[Trait("Category", "Redis")]
public sealed class RedisClusteringTests(RedisServer redis, ITestOutputHelper output) : IClassFixture<RedisServer>, IDisposable
{
    private const string ServiceId = "orleans-patterns";
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan MembershipDeadline = TimeSpan.FromSeconds(60);

    // Each test gets its own cluster id, so its membership rows never mix with another test's in the shared Redis.
    private readonly string _clusterId = "redis-test-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _storage = Path.Combine(Path.GetTempPath(), "orleans-patterns-redis-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_storage))
        {
            Directory.Delete(_storage, recursive: true);
        }
    }

    [Fact]
    public async Task Two_silos_join_through_redis_and_ring_placed_users_land_on_the_rings_pick()
    {
        await using var siloA = await StartSiloAsync("silo-a");
        await using var siloB = await StartSiloAsync("silo-b", "--dashboard:enabled", "false");
        await using var client = await ConnectAsync();

        var active = await client.WaitForActiveSilosAsync(2, MembershipDeadline, CancellationToken.None);
        Assert.Equal(["silo-a", "silo-b"], active.Select(s => s.Name));

        var hosts = await client.Management.GetHosts(onlyActive: true);
        Assert.Equal(
            new[] { siloA.SiloPort, siloB.SiloPort }.Order(),
            hosts.Keys.Select(h => h.Endpoint.Port).Order());
        Assert.All(hosts.Values, status => Assert.Equal(SiloStatus.Active, status));

        // The membership table is a Redis hash: a "Version" field plus one row per silo.
        await using (var connection = await redis.ConnectAsync())
        {
            var key = $"{ServiceId}/members/{_clusterId}";
            var db = connection.GetDatabase();
            Assert.Equal(RedisType.Hash, await db.KeyTypeAsync(key));
            var fields = (await db.HashKeysAsync(key)).Select(f => f.ToString()).ToList();
            output.WriteLine($"{key}: {string.Join(" | ", fields)}");
            Assert.Equal(3, fields.Count);
            Assert.Contains("Version", fields);
            Assert.Single(fields, f => f.Contains($":{siloA.SiloPort}", StringComparison.Ordinal));
            Assert.Single(fields, f => f.Contains($":{siloB.SiloPort}", StringComparison.Ordinal));
        }

        await WaitForPlacementViewsAsync([siloA, siloB]);
        var users = Enumerable.Range(0, 200).Select(i => $"redis-user-{i}").ToList();
        var locations = await UserLocator.LocateAsync(client.Client, users, UserPlacement.Ring, CancellationToken.None);
        var ring = new ClientRing(active, HashRing.DefaultVirtualNodes);
        var misplaced = users.Where(u => !locations[u].Silo.Equals(ring.OwnerOf(u))).ToList();
        Assert.True(misplaced.Count == 0, $"{misplaced.Count} users are not on the ring's pick, e.g. {string.Join(", ", misplaced.Take(5))}");
        // Two silos with 128 virtual nodes each split the key space roughly in half: both must host users.
        Assert.Equal(["silo-a", "silo-b"], UserLocator.CountBySilo(locations.Values).Keys);

        using var http = new HttpClient { BaseAddress = siloA.HttpBase, Timeout = TimeSpan.FromSeconds(20) };
        using (var dashboard = await http.GetAsync("dashboard/"))
        {
            Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
            Assert.Contains("Orleans", await dashboard.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var members = await WaitForRingMembersAsync(http, 2);
        Assert.Equal(new[] { siloA.RingMemberId, siloB.RingMemberId }.Order(StringComparer.Ordinal), members.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_silo_stopped_gracefully_leaves_the_other_serving_every_user_with_its_state()
    {
        await using var siloA = await StartSiloAsync("silo-a", "--dashboard:enabled", "false");
        await using var siloB = await StartSiloAsync("silo-b", "--dashboard:enabled", "false");
        await using var client = await ConnectAsync();
        await client.WaitForActiveSilosAsync(2, MembershipDeadline, CancellationToken.None);
        await WaitForPlacementViewsAsync([siloA, siloB]);

        var users = Enumerable.Range(0, 100).Select(i => $"stop-user-{i}").ToList();
        foreach (var user in users)
        {
            Assert.Equal(1, await client.Client.GetUser(user).Increment("visits", 1));
        }

        var before = await UserLocator.LocateAsync(client.Client, users, UserPlacement.Ring, CancellationToken.None);
        var onB = users.Count(u => before[u].SiloName == "silo-b");
        output.WriteLine($"{onB} of {users.Count} users on silo-b before it stops");
        Assert.InRange(onB, 1, users.Count - 1);

        var clock = Stopwatch.StartNew();
        await siloB.StopAsync();
        output.WriteLine($"silo-b stopped gracefully in {clock.Elapsed.TotalSeconds:0.0} s");
        var survivors = await client.WaitForActiveSilosAsync(1, MembershipDeadline, CancellationToken.None);
        Assert.Equal("silo-a", Assert.Single(survivors).Name);

        var after = await UserLocator.LocateAsync(client.Client, users, UserPlacement.Ring, CancellationToken.None);
        // Not asserted: that silo-a's users keep the same activation. Orleans may re-activate a few of them (on
        // silo-a) when the directory partition that silo-b owned is handed over; the ring only promises the silo.
        Assert.All(users, u => Assert.Equal("silo-a", after[u].SiloName));
        foreach (var user in users)
        {
            var snapshot = await client.Client.GetUser(user).GetSnapshot();
            Assert.Equal(1, snapshot.Writes);
            Assert.Equal(1, snapshot.Counters["visits"]);
            Assert.Equal(2, await client.Client.GetUser(user).Increment("visits", 1));
        }
    }

    private Task<InProcessSilo> StartSiloAsync(string name, params string[] extra) =>
        InProcessSilo.StartRedisAsync(name, redis.ConnectionString, _clusterId, _storage, StartDeadline, extra);

    private Task<ClusterConnection> ConnectAsync() =>
        ClusterConnection.ConnectAsync(new ClusterTarget([], redis.ConnectionString, _clusterId, ServiceId), TimeSpan.FromSeconds(30), CancellationToken.None);

    /// <summary>
    /// Waits until every silo can place on every silo. The client seeing all silos active is not enough: a
    /// silo treats another as compatible for placement only once it has that silo's grain manifest, and under
    /// load that arrives later, so an early activation would be placed on a ring with a member missing.
    /// </summary>
    private static async Task WaitForPlacementViewsAsync(IReadOnlyList<InProcessSilo> silos)
    {
        var expected = silos.Select(s => s.SiloPort).Order().ToList();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var views = silos.ToDictionary(
                s => s.Name,
                s => s.Services.GetRequiredService<IClusterManifestProvider>().Current.Silos.Keys.Select(a => a.Endpoint.Port).Order().ToList());
            if (views.Values.All(v => v.SequenceEqual(expected)))
            {
                return;
            }

            if (clock.Elapsed > MembershipDeadline)
            {
                throw new TimeoutException(
                    $"Placement phase: after {MembershipDeadline} the silos' manifests still disagree: " +
                    string.Join("; ", views.Select(v => $"{v.Key} knows {string.Join(",", v.Value)}")));
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }

    /// <summary>Polls a silo's <c>/api/ring</c> until it lists the expected number of members: its own view may lag the client's.</summary>
    private static async Task<List<string>> WaitForRingMembersAsync(HttpClient http, int expected)
    {
        var clock = Stopwatch.StartNew();
        var last = "";
        while (clock.Elapsed < MembershipDeadline)
        {
            last = await http.GetStringAsync("api/ring");
            using var json = JsonDocument.Parse(last);
            var members = json.RootElement.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("endpoint").GetString()!).ToList();
            if (members.Count == expected)
            {
                return members;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }

        throw new TimeoutException($"Ring phase: /api/ring did not list {expected} members within {MembershipDeadline}; last answer: {last}");
    }
}
