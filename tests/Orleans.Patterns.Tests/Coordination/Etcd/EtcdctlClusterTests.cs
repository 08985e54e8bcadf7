using Orleans.Patterns.Etcd;
using Orleans.Patterns.Tests.Infrastructure;
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

    [Fact]
    public async Task Alarm_list_is_empty_and_disarm_finds_nothing_to_disarm()
    {
        var etcdctl = new Etcdctl(fixture.AllHostPorts, output);
        Assert.Equal("", (await etcdctl.OkAsync("alarm", "list")).Trim());
        Assert.Equal("", (await etcdctl.OkAsync("alarm", "disarm")).Trim());
    }

    [Fact]
    public async Task Move_leader_hands_leadership_to_the_named_voter_and_refuses_an_unknown_one()
    {
        var leader = await RaftLeaders.WaitForSingleLeaderAsync(fixture.Cluster.Client, EtcdClusterFixture.Silos, TimeSpan.FromSeconds(20));
        var target = EtcdClusterFixture.Silos.First(s => s != leader);

        // etcdctl asks every endpoint for its status, then sends the move to the leader's.
        var etcdctl = new Etcdctl(fixture.AllHostPorts, output);
        var moved = await etcdctl.OkAsync("move-leader", EtcdMember.IdOf(target).ToString("x"));
        Assert.Contains($"Leadership transferred from {EtcdMember.IdOf(leader):x} to {EtcdMember.IdOf(target):x}", moved);

        // The answer came once the old leader heard the new one lead; every replica follows it soon after.
        Assert.Equal(target, await RaftLeaders.WaitForSingleLeaderAsync(fixture.Cluster.Client, EtcdClusterFixture.Silos, TimeSpan.FromSeconds(20)));
        await etcdctl.OkAsync("put", "/move-leader/after", "written");
        Assert.Contains("written", await etcdctl.OkAsync("get", "/move-leader/after"));

        var refused = await etcdctl.RunAsync(["move-leader", "1234abcd"]);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains(EtcdErrors.BadLeaderTransferee, refused.Stderr + refused.Stdout);
    }
}
