using Orleans.Patterns.Silo.Configuration;

namespace Orleans.Patterns.Tests.Configuration;

[Trait("Category", "Unit")]
public sealed class TskParserTests
{
    [Fact]
    public void Design_blocks_flatten_to_configuration_keys()
    {
        var data = TskParser.Parse(TskSamples.DesignBlocks, "cluster.tsk");

        Assert.Equal("true", data["raft:enabled"]);
        Assert.Equal("cluster-1", data["raft:cluster_id"]);
        Assert.Equal("1", data["raft:node_id"]);
        Assert.Equal(new[] { "2", "3", "4" }, new[] { data["raft:peers:0"], data["raft:peers:1"], data["raft:peers:2"] });
        Assert.False(data.ContainsKey("raft:peers:3"));
        Assert.Equal("3s", data["raft:timeout"]);
        Assert.Equal("1s", data["raft:heartbeat_interval"]);
        Assert.Equal("zookeeper", data["leader_election:type"]);
        Assert.Equal("127.0.0.1:2181", data["leader_election:zk_hosts:0"]);
        Assert.Equal("/election/leader", data["leader_election:election_path"]);
        Assert.Equal("5s", data["leader_election:timeout"]);
        Assert.Equal("consistent_hashing", data["sharding:type"]);
        Assert.Equal("node3", data["sharding:nodes:2"]);
        Assert.Equal("2", data["sharding:replication_factor"]);
        Assert.Equal("http://127.0.0.1:2379", data["coordination:endpoints:0"]);
        Assert.Equal("/config", data["coordination:namespace"]);
        Assert.Equal(21, data.Count);
    }

    [Fact]
    public void Keys_are_case_insensitive()
    {
        var data = TskParser.Parse("[Raft]\nNode_Id: 1", "c.tsk");

        Assert.Equal("1", data["raft:node_id"]);
    }

    [Fact]
    public void Comments_and_blank_lines_are_ignored()
    {
        const string Text = """
            # leading comment

               # indented comment
            [raft]   # after a header
            node_id: 1 # after a number
            name: "a # not a comment" # but this is
            peers: [1, 2] # after a list

            """;

        var data = TskParser.Parse(Text, "c.tsk");

        Assert.Equal(4, data.Count);
        Assert.Equal("1", data["raft:node_id"]);
        Assert.Equal("a # not a comment", data["raft:name"]);
        Assert.Equal("2", data["raft:peers:1"]);
    }

    [Fact]
    public void String_escapes_are_decoded()
    {
        var data = TskParser.Parse("""s: "q\"b\\s\nt\tx" """, "c.tsk");

        Assert.Equal("q\"b\\s\nt\tx", data["s"]);
    }

    [Fact]
    public void Root_keys_dotted_sections_and_whitespace()
    {
        const string Text = """
            version: 2
            [a.b]
            k : -1.25
            [ c . d-e_f ]
              k:0
            """;

        var data = TskParser.Parse(Text, "c.tsk");

        Assert.Equal("2", data["version"]);
        Assert.Equal("-1.25", data["a:b:k"]);
        Assert.Equal("0", data["c:d-e_f:k"]);
    }

    [Fact]
    public void Scalars_are_stored_as_written()
    {
        var data = TskParser.Parse("""list: ["a,b", "c]", -7, 0.5, false, ""]""", "c.tsk");

        Assert.Equal(new[] { "a,b", "c]", "-7", "0.5", "false", "" }, Enumerable.Range(0, 6).Select(i => data[$"list:{i}"]));
    }

    [Fact]
    public void Empty_list_is_a_present_key_without_children()
    {
        var data = TskParser.Parse("peers: []\nother: [ ]", "c.tsk");

        Assert.True(data.ContainsKey("peers"));
        Assert.Null(data["peers"]);
        Assert.Null(data["other"]);
        Assert.Equal(2, data.Count);
    }

    [Fact]
    public void Crlf_line_endings_and_byte_order_mark_are_accepted()
    {
        var data = TskParser.Parse("\uFEFF[raft]\r\nnode_id: 3\r\nname: \"x\"\r\n", "c.tsk");

        Assert.Equal("3", data["raft:node_id"]);
        Assert.Equal("x", data["raft:name"]);
    }

    [Fact]
    public void Empty_text_has_no_keys() => Assert.Empty(TskParser.Parse(string.Empty, "c.tsk"));
}
