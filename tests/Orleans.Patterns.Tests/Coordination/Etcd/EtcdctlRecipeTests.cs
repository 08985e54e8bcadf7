using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Coordination.Etcd;

/// <summary>
/// etcdctl's lock and election: client-side recipes over Txn, Range, Watch and leases, so they exercise the fidelity
/// of all four (create-revision ordering, watches from a revision, keep-alive streams, lease expiry).
/// </summary>
[Trait("Category", "Cluster")]
[Collection(EtcdClusterCollection.Name)]
public sealed class EtcdctlRecipeTests(EtcdClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan LineTimeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_second_lock_holder_waits_until_the_first_is_killed_and_its_lease_expires()
    {
        await using var first = new Etcdctl(fixture.Endpoint(EtcdClusterFixture.Silos[0]), output).StartLongRunning("lock", "--ttl=3", "/locks/one");
        var firstKey = await first.ReadLineAsync(LineTimeout);
        Assert.StartsWith("/locks/one/", firstKey);

        await using var second = new Etcdctl(fixture.Endpoint(EtcdClusterFixture.Silos[1]), output).StartLongRunning("lock", "--ttl=3", "/locks/one");
        var waiting = second.ReadLineAsync(TimeSpan.FromSeconds(30));
        // Held: the second must not get the lock while the first lives (its keep-alives keep the lease).
        await Task.WhenAny(waiting, Task.Delay(TimeSpan.FromSeconds(4)));

        Assert.False(waiting.IsCompleted, "the second etcdctl lock got the lock while the first still held it");

        await first.DisposeAsync(); // SIGKILL: no unlock, the lease expires on the leader's clock
        var secondKey = await waiting;
        Assert.StartsWith("/locks/one/", secondKey);
        Assert.NotEqual(firstKey, secondKey);
    }

    [Fact]
    public async Task Elect_campaigns_and_an_observer_sees_each_leader_in_turn()
    {
        await using var observer = new Etcdctl(fixture.Endpoint(EtcdClusterFixture.Silos[2]), output).StartLongRunning("elect", "-l", "/elections/one");
        await using var alice = new Etcdctl(fixture.Endpoint(EtcdClusterFixture.Silos[0]), output).StartLongRunning("elect", "/elections/one", "alice");
        var aliceKey = await alice.ReadLineAsync(LineTimeout);
        Assert.StartsWith("/elections/one/", aliceKey);
        Assert.Equal("alice", await alice.ReadLineAsync(LineTimeout));
        Assert.Equal([aliceKey, "alice"], await observer.ReadLinesAsync(2, LineTimeout));

        // bob waits behind alice; when alice resigns (SIGINT: etcdctl resigns and revokes its session), bob leads.
        await using var bob = new Etcdctl(fixture.Endpoint(EtcdClusterFixture.Silos[1]), output).StartLongRunning("elect", "/elections/one", "bob");
        var bobLine = bob.ReadLineAsync(TimeSpan.FromSeconds(40));
        await Task.WhenAny(bobLine, Task.Delay(TimeSpan.FromSeconds(3)));
        Assert.False(bobLine.IsCompleted, "bob was elected while alice led");
        alice.Interrupt();
        var bobKey = await bobLine;
        Assert.StartsWith("/elections/one/", bobKey);
        Assert.Equal("bob", await bob.ReadLineAsync(LineTimeout));
        Assert.Equal([bobKey, "bob"], await observer.ReadLinesAsync(2, LineTimeout));
    }
}
