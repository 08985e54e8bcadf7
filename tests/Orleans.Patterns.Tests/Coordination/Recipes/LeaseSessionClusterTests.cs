using System.Diagnostics;
using Orleans.Patterns.Coordination;
using Orleans.Patterns.Tests.Infrastructure;
using Xunit.Abstractions;
using static Orleans.Patterns.Tests.Coordination.Bytes;

namespace Orleans.Patterns.Tests.Coordination.Recipes;

/// <summary>Lease sessions on real silos: renewal, loss when the store says so or when renewals keep failing, revoke on dispose.</summary>
[Trait("Category", "Cluster")]
[Collection(CoordinationClusterCollection.Name)]
public sealed class LeaseSessionClusterTests(CoordinationClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_session_outlives_its_ttl_while_renewing_and_its_keys_go_when_disposed()
    {
        var client = fixture.NewClient("session");
        var key = B(RecipePrefix.New("session") + "k");
        var session = await LeaseSession.StartAsync(client, TimeSpan.FromSeconds(3));
        await client.PutAsync(new PutRequest(key, B("v")) { Lease = session.LeaseId });
        var granted = Stopwatch.StartNew();
        // Past one full TTL: only the background renewals keep the key.
        await Eventually.WaitAsync(() => Task.FromResult(granted.Elapsed > session.Ttl + TimeSpan.FromSeconds(1)), Deadline, () => "a TTL passing");
        Assert.Equal(1, (await client.RangeAsync(new RangeRequest(key))).Count);
        Assert.False(session.IsLost);

        await session.DisposeAsync();
        Assert.Equal(0, (await client.RangeAsync(new RangeRequest(key))).Count);
        Assert.Equal(-1, (await client.LeaseTimeToLiveAsync(session.LeaseId)).TTL);
        Assert.False(session.WhenLost.IsCompleted);
    }

    [Fact]
    public async Task A_session_is_lost_when_a_renewal_finds_its_lease_gone()
    {
        var client = fixture.NewClient("session-revoked");
        await using var session = await LeaseSession.StartAsync(client, TimeSpan.FromSeconds(3));
        await client.LeaseRevokeAsync(session.LeaseId);
        var reason = await session.WhenLost.WaitAsync(Deadline);
        output.WriteLine(reason);
        Assert.True(session.Lost.IsCancellationRequested);
        Assert.Contains($"lease {session.LeaseIdHex} expired or was revoked", reason);
    }

    [Fact]
    public async Task A_session_whose_renewals_keep_failing_is_lost_after_one_ttl()
    {
        // The replicas vanish from this client's view after the grant: every renewal fails, none says "gone".
        var reachable = true;
        var client = new CoordinationClient(fixture.Cluster.Client, () => reachable ? CoordinationClusterFixture.Voters : ["no-such-silo"], $"cut-off-{Guid.NewGuid():N}");
        await using var session = await LeaseSession.StartAsync(client, TimeSpan.FromSeconds(2));
        reachable = false;
        var cut = Stopwatch.StartNew();
        var reason = await session.WhenLost.WaitAsync(Deadline);
        output.WriteLine($"{reason} after {cut.Elapsed.TotalSeconds:F1} s");
        Assert.Contains("no renewal succeeded for a full TTL", reason);
        Assert.InRange(cut.Elapsed, TimeSpan.FromSeconds(1), session.Ttl + TimeSpan.FromSeconds(2));
    }
}
