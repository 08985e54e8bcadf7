using System.Net;
using Orleans.Patterns.Raft;
using Orleans.Patterns.Raft.Membership;

namespace Orleans.Patterns.Tests.Raft.Membership;

/// <summary>How the replica reads the cluster for its planner: Orleans' membership, and this silo's gossip verdicts.</summary>
[Trait("Category", "Unit")]
public sealed class ClusterHostObserverTests
{
    private static ClusterMember Member(string name, int port, int generation, SiloStatus status) =>
        new(SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), generation), status, name);

    [Fact]
    public void A_silo_gossip_holds_dead_counts_as_dead_while_Orleans_lists_it_active_and_alive_again_once_gossip_takes_it_back()
    {
        var observer = new ClusterHostObserver();
        ClusterMember[] members = [Member("silo-1", 1, 1, SiloStatus.Active), Member("silo-2", 2, 1, SiloStatus.Active)];
        observer.Observe(members, TimeSpan.FromSeconds(1));
        Assert.Equal(HostLiveness.Alive, observer.Hosts[new NodeId("silo-2")].Liveness);

        observer.Observe(members, TimeSpan.FromSeconds(5), new HashSet<string> { "silo-2" });
        Assert.Equal(new HostObservation(HostLiveness.Dead, TimeSpan.FromSeconds(5)), observer.Hosts[new NodeId("silo-2")]);
        Assert.Equal(HostLiveness.Alive, observer.Hosts[new NodeId("silo-1")].Liveness);

        // Still dead later: the grace period runs from the first time it was seen dead.
        observer.Observe(members, TimeSpan.FromSeconds(9), new HashSet<string> { "silo-2" });
        Assert.Equal(TimeSpan.FromSeconds(5), observer.Hosts[new NodeId("silo-2")].Since);

        observer.Observe(members, TimeSpan.FromSeconds(12), new HashSet<string>());
        Assert.Equal(new HostObservation(HostLiveness.Alive, TimeSpan.FromSeconds(12)), observer.Hosts[new NodeId("silo-2")]);
    }

    [Fact]
    public void A_restarted_silo_is_alive_by_its_active_entry_and_gossip_cannot_revive_an_Orleans_death()
    {
        var observer = new ClusterHostObserver();
        observer.Observe([Member("silo-2", 2, 1, SiloStatus.Dead), Member("silo-2", 2, 2, SiloStatus.Active)], TimeSpan.Zero);
        Assert.Equal(HostLiveness.Alive, observer.Hosts[new NodeId("silo-2")].Liveness);

        observer.Observe([Member("silo-3", 3, 1, SiloStatus.Dead)], TimeSpan.FromSeconds(1), new HashSet<string>());
        Assert.Equal(HostLiveness.Dead, observer.Hosts[new NodeId("silo-3")].Liveness);
    }
}
