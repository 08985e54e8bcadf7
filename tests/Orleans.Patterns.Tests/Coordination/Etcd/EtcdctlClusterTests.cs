using Orleans.Patterns.Etcd;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Coordination.Etcd;

/// <summary>etcdctl's view of the cluster: one member per silo with its own endpoint, and each endpoint's status.</summary>
[Trait("Category", "Cluster")]
[Collection(EtcdClusterCollection.Name)]
public sealed class EtcdctlClusterTests(EtcdClusterFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Member_list_shows_every_silo_with_its_etcd_endpoint()
    {
        var listed = await new Etcdctl(fixture.Endpoint(EtcdClusterFixture.Silos[1]), output).OkAsync("member", "list");
        var lines = listed.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(", ")).OrderBy(f => f[2]).ToList();
        Assert.Equal(EtcdClusterFixture.Silos, lines.Select(f => f[2]));
        foreach (var fields in lines)
        {
            Assert.Equal(EtcdMember.IdOf(fields[2]).ToString("x"), fields[0]);
            Assert.Equal("started", fields[1]);
            Assert.Equal(fixture.Endpoint(fields[2]), fields[4]);
            Assert.Equal("false", fields[5]);
        }
    }

    [Fact]
    public async Task Endpoint_status_of_every_silo_names_the_same_leader_and_term()
    {
        var leader = await fixture.LeaderAsync();
        // endpoint status dials each endpoint as given, and gRPC-Go then sends the whole URL as the HTTP/2 authority,
        // which Kestrel refuses as an invalid host; host:port endpoints (etcdctl's own default form) work.
        var status = await new Etcdctl(fixture.AllHostPorts, output).OkAsync("endpoint", "status", "-w", "json");
        var members = EtcdctlKeyValueTests.Json(status).EnumerateArray().ToList();
        Assert.Equal(EtcdClusterFixture.Silos.Count, members.Count);
        foreach (var member in members)
        {
            var answer = member.GetProperty("Status");
            Assert.Equal(EtcdMember.Version, answer.GetProperty("version").GetString());
            Assert.Equal(EtcdMember.IdOf(leader), answer.GetProperty("leader").GetUInt64());
            Assert.True(answer.GetProperty("raftTerm").GetUInt64() > 0);
            Assert.True(answer.GetProperty("raftIndex").GetUInt64() > 0);
            Assert.True(answer.GetProperty("dbSize").GetInt64() > 0);
        }

        var table = await new Etcdctl(fixture.HostPort(leader), output).OkAsync("endpoint", "status");
        Assert.Contains($"{fixture.HostPort(leader)}, {EtcdMember.IdOf(leader):x}, {EtcdMember.Version}", table);
        Assert.Contains(", true, false, ", table); // is leader, not a learner
    }
}
