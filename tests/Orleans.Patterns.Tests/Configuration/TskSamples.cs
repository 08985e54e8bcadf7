namespace Orleans.Patterns.Tests.Configuration;

/// <summary>The configuration blocks of the design documents, verbatim.</summary>
internal static class TskSamples
{
    public const string DesignBlocks = """
        [raft]
        enabled: true
        cluster_id: "cluster-1"
        node_id: 1
        peers: [2, 3, 4]
        timeout: "3s"
        heartbeat_interval: "1s"

        [leader_election]
        type: "zookeeper"
        zk_hosts: ["127.0.0.1:2181"]
        election_path: "/election/leader"
        timeout: "5s"

        [sharding]
        type: "consistent_hashing"
        nodes: ["node1", "node2", "node3"]
        replication_factor: 2

        [coordination]
        type: "etcd"
        endpoints: ["http://127.0.0.1:2379"]
        timeout: "3s"
        namespace: "/config"
        """;
}
