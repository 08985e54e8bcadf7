using System.Diagnostics;
using System.Threading.Channels;
using Orleans.Patterns.Coordination;
using Orleans.Patterns.Raft;
using Orleans.Patterns.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Coordination.Recipes;

/// <summary>Service discovery on real silos: register, list, watch, and an instance that stops renewing.</summary>
[Trait("Category", "Cluster")]
[Collection(CoordinationClusterCollection.Name)]
public sealed class ServiceRegistryClusterTests(CoordinationClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Instances_register_list_and_watchers_see_every_change()
    {
        var registry = new ServiceRegistry(fixture.NewClient("registry"), root: RecipePrefix.New("services"));
        using var timeout = new CancellationTokenSource(Deadline);
        var sets = Channel.CreateUnbounded<IReadOnlyList<ServiceInstance>>();
        using var stopWatching = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
        var watching = Task.Run(async () =>
        {
            await foreach (var set in registry.WatchAsync("orders", stopWatching.Token))
            {
                await sets.Writer.WriteAsync(set);
            }
        });
        Assert.Empty(await sets.Reader.ReadAsync(timeout.Token));

        var one = await registry.RegisterAsync(
            new ServiceInstance("orders", "i-1", "10.0.0.1:5000", ["blue", "v2"], new Dictionary<string, string> { ["zone"] = "a" }), TimeSpan.FromSeconds(5), timeout.Token);
        await using var two = await new ServiceRegistry(fixture.NewClient("registry-2"), root: registry.Root).RegisterAsync(
            "orders", "i-2", "10.0.0.2:5000", [], new Dictionary<string, string>(), TimeSpan.FromSeconds(5), timeout.Token);

        var listed = await registry.ListAsync("orders", timeout.Token);
        Assert.Equal(["i-1", "i-2"], listed.Select(i => i.Id));
        Assert.Equal("10.0.0.1:5000", listed[0].Address);
        Assert.Equal(["blue", "v2"], listed[0].Tags);
        Assert.Equal("a", listed[0].Metadata["zone"]);
        Assert.Equal(one.Session.LeaseId, listed[0].LeaseId);
        Assert.Empty(await registry.ListAsync("payments", timeout.Token));
        await NextAsync(sets, s => s.Count == 2, timeout.Token);

        await one.DeregisterAsync();
        Assert.Equal(["i-2"], (await registry.ListAsync("orders", timeout.Token)).Select(i => i.Id));
        await NextAsync(sets, s => s.Count == 1 && s[0].Id == "i-2", timeout.Token);
        await stopWatching.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watching);

        Assert.Throws<ArgumentException>(() => registry.KeyOf("orders/eu", "i-1"));
    }

    [Fact]
    public async Task An_instance_that_stops_renewing_disappears_within_one_ttl_while_the_others_stay()
    {
        var ttl = TimeSpan.FromSeconds(2);
        var registry = new ServiceRegistry(fixture.NewClient("registry-ttl"), root: RecipePrefix.New("services-ttl"));
        using var timeout = new CancellationTokenSource(Deadline);
        await using var stalled = await registry.RegisterAsync(new ServiceInstance("cache", "stalled", "10.0.0.3:6379", [], new Dictionary<string, string>()), ttl, timeout.Token);
        // The healthy instance renews with a longer TTL, so a slow CI box cannot make it miss a renewal by accident.
        await using var healthy = await registry.RegisterAsync(new ServiceInstance("cache", "healthy", "10.0.0.4:6379", [], new Dictionary<string, string>()), TimeSpan.FromSeconds(5), timeout.Token);
        Assert.Equal(2, (await registry.ListAsync("cache", timeout.Token)).Count);

        var termBefore = await MaxTermAsync();
        stalled.Session.PauseKeepAlives();
        var paused = Stopwatch.StartNew();
        await Eventually.WaitAsync(
            async () => (await registry.ListAsync("cache", timeout.Token)).All(i => i.Id != "stalled"),
            Deadline,
            () => "the stalled instance leaving the registry");
        var gone = paused.Elapsed;
        var termAfter = await MaxTermAsync();
        output.WriteLine($"stalled instance gone {gone.TotalSeconds:F2} s after its last renewal could have happened (TTL {ttl.TotalSeconds} s; Raft term {termBefore} -> {termAfter})");
        // One TTL after the last renewal, plus the leader's expiry tick, a commit and a read: the slack is for a loaded
        // CI box. A new leader renews every lease once (etcd's lessor Promote), so a leader change allows one TTL more.
        var bound = ttl + TimeSpan.FromSeconds(2) + (termAfter != termBefore ? ttl : TimeSpan.Zero);
        Assert.True(gone <= bound, $"took {gone.TotalSeconds:F2} s, bound {bound.TotalSeconds:F1} s (Raft term {termBefore} -> {termAfter})");
        Assert.Equal(["healthy"], (await registry.ListAsync("cache", timeout.Token)).Select(i => i.Id));
        Assert.False(healthy.Session.IsLost);
    }

    private async Task<long> MaxTermAsync() =>
        (await Task.WhenAll(CoordinationClusterFixture.Voters.Select(v => fixture.Cluster.Client.GetGrain<IRaftReplicaGrain>(v).GetStatus()))).Max(s => s.Term);

    private static async Task<IReadOnlyList<ServiceInstance>> NextAsync(
        Channel<IReadOnlyList<ServiceInstance>> sets, Func<IReadOnlyList<ServiceInstance>, bool> match, CancellationToken cancellationToken)
    {
        while (true)
        {
            var next = await sets.Reader.ReadAsync(cancellationToken);
            if (match(next))
            {
                return next;
            }
        }
    }
}
