extern alias client;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Api = client::Orleans.Patterns.Etcd.Api;
using ElectionPb = client::Orleans.Patterns.Etcd.Api.Election;
using LockPb = client::Orleans.Patterns.Etcd.Api.Lock;

namespace Orleans.Patterns.Tests.Coordination.Etcd;

/// <summary>
/// etcd's Lock and Election gRPC services (v3lockpb, v3electionpb) through two different silos: the client brings the
/// lease, the lock queues FIFO with a growing fencing token, and elections hand over on resignation and lease end.
/// </summary>
[Trait("Category", "Cluster")]
[Collection(EtcdClusterCollection.Name)]
public sealed class EtcdLockElectionServiceTests(EtcdClusterFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_second_lock_waits_for_the_first_unlock_and_gets_a_larger_fencing_token()
    {
        using var first = GrpcChannel.ForAddress(fixture.Endpoint(EtcdClusterFixture.Silos[0]));
        using var second = GrpcChannel.ForAddress(fixture.Endpoint(EtcdClusterFixture.Silos[2]));
        var leaseA = (await new Api.Lease.LeaseClient(first).LeaseGrantAsync(new Api.LeaseGrantRequest { TTL = 30 })).ID;
        var leaseB = (await new Api.Lease.LeaseClient(second).LeaseGrantAsync(new Api.LeaseGrantRequest { TTL = 30 })).ID;
        var locksA = new LockPb.Lock.LockClient(first);
        var locksB = new LockPb.Lock.LockClient(second);
        using var timeout = new CancellationTokenSource(Patience);

        var held = await locksA.LockAsync(new LockPb.LockRequest { Name = Bs("/svc-lock/job"), Lease = leaseA }, cancellationToken: timeout.Token);
        Assert.Equal($"/svc-lock/job/{leaseA:x}", held.Key.ToStringUtf8());
        var waiting = locksB.LockAsync(new LockPb.LockRequest { Name = Bs("/svc-lock/job"), Lease = leaseB }, cancellationToken: timeout.Token).ResponseAsync;
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted, "the second lock was granted while the first was held");

        await locksA.UnlockAsync(new LockPb.UnlockRequest { Key = held.Key });
        var next = await waiting;
        Assert.Equal($"/svc-lock/job/{leaseB:x}", next.Key.ToStringUtf8());
        var kv = new Api.KV.KVClient(first);
        var token = (await kv.RangeAsync(new Api.RangeRequest { Key = next.Key })).Kvs.Single().CreateRevision;
        Assert.True(token > held.Header.Revision, $"token {token} not above the first holder's {held.Header.Revision}");

        var noLease = await Assert.ThrowsAsync<RpcException>(() => locksA.LockAsync(new LockPb.LockRequest { Name = Bs("/svc-lock/x"), Lease = 0x7777 }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, noLease.StatusCode);
        Assert.Equal("etcdserver: requested lease not found", noLease.Status.Detail);
    }

    [Fact]
    public async Task An_election_hands_over_on_resignation_and_proclaims_only_from_the_leader()
    {
        using var channel = GrpcChannel.ForAddress(fixture.Endpoint(EtcdClusterFixture.Silos[1]));
        var leases = new Api.Lease.LeaseClient(channel);
        var election = new ElectionPb.Election.ElectionClient(channel);
        var alphaLease = (await leases.LeaseGrantAsync(new Api.LeaseGrantRequest { TTL = 30 })).ID;
        var betaLease = (await leases.LeaseGrantAsync(new Api.LeaseGrantRequest { TTL = 30 })).ID;
        using var timeout = new CancellationTokenSource(Patience);
        using var observe = election.Observe(new ElectionPb.LeaderRequest { Name = Bs("/svc-elect") }, cancellationToken: timeout.Token);

        var alpha = (await election.CampaignAsync(new ElectionPb.CampaignRequest { Name = Bs("/svc-elect"), Lease = alphaLease, Value = Bs("alpha") })).Leader;
        var beta = election.CampaignAsync(new ElectionPb.CampaignRequest { Name = Bs("/svc-elect"), Lease = betaLease, Value = Bs("beta") }, cancellationToken: timeout.Token).ResponseAsync;
        await election.ProclaimAsync(new ElectionPb.ProclaimRequest { Leader = alpha, Value = Bs("alpha-2") });
        Assert.Equal("alpha-2", (await election.LeaderAsync(new ElectionPb.LeaderRequest { Name = Bs("/svc-elect") })).Kv.Value.ToStringUtf8());
        Assert.False(beta.IsCompleted, "beta was elected while alpha led");

        await election.ResignAsync(new ElectionPb.ResignRequest { Leader = alpha });
        var betaKey = (await beta).Leader;
        Assert.True(betaKey.Rev > alpha.Rev, $"beta's term {betaKey.Rev} not above alpha's {alpha.Rev}");
        Assert.Equal("beta", (await election.LeaderAsync(new ElectionPb.LeaderRequest { Name = Bs("/svc-elect") })).Kv.Value.ToStringUtf8());

        // The deposed leader's key can no longer proclaim.
        var stale = await Assert.ThrowsAsync<RpcException>(() => election.ProclaimAsync(new ElectionPb.ProclaimRequest { Leader = alpha, Value = Bs("again") }).ResponseAsync);
        Assert.Equal("election: not leader", stale.Status.Detail);

        // The observer saw alpha, its new value and beta, in that order.
        var seen = new List<string>();
        while (seen.Count < 3 && await observe.ResponseStream.MoveNext(timeout.Token))
        {
            seen.Add(observe.ResponseStream.Current.Kv.Value.ToStringUtf8());
        }

        Assert.Equal(["alpha", "alpha-2", "beta"], seen);
        await election.ResignAsync(new ElectionPb.ResignRequest { Leader = betaKey });
        var none = await Assert.ThrowsAsync<RpcException>(() => election.LeaderAsync(new ElectionPb.LeaderRequest { Name = Bs("/svc-elect") }).ResponseAsync);
        Assert.Equal("election: no leader", none.Status.Detail);
    }

    private static ByteString Bs(string text) => ByteString.CopyFromUtf8(text);
}
