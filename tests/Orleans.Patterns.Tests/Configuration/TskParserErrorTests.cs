using Orleans.Patterns.Silo.Configuration;

namespace Orleans.Patterns.Tests.Configuration;

[Trait("Category", "Unit")]
public sealed class TskParserErrorTests
{
    [Fact]
    public void Message_has_file_line_and_column_prefix()
    {
        const string Text = "[raft]\nenabled: true\ncluster_id: \"c\"\n\n# comment\n\nnode_id    = 1\n";

        var error = Assert.Throws<TskFormatException>(() => TskParser.Parse(Text, "cluster.tsk"));

        Assert.Equal("cluster.tsk:7:12: expected ':' after key 'node_id', found '='", error.Message);
        Assert.Equal("cluster.tsk", error.FilePath);
        Assert.Equal(7, error.Line);
        Assert.Equal(12, error.Column);
        Assert.IsAssignableFrom<FormatException>(error);
    }

    [Theory]
    // Missing colon / value.
    [InlineData("node_id=1", 1, 8, "expected ':' after key 'node_id', found '='")]
    [InlineData("node_id 1", 1, 9, "expected ':' after key 'node_id', found '1'")]
    [InlineData("node_id", 1, 8, "expected ':' after key 'node_id', found end of line")]
    [InlineData("node_id:", 1, 9, "expected a value for key 'node_id', found end of line")]
    [InlineData("node_id:   # none", 1, 12, "expected a value for key 'node_id', found '#'")]
    // Strings.
    [InlineData("name: \"silo-1", 1, 7, "unterminated string, expected a closing '\"' before end of line")]
    [InlineData("name: \"silo-1\\", 1, 7, "unterminated string, expected a closing '\"' before end of line")]
    [InlineData("name: \"a\\qb\"", 1, 9, "invalid escape sequence '\\q' in string; allowed are \\\" \\\\ \\n \\t")]
    // Lists.
    [InlineData("peers: [2, 3", 1, 8, "unterminated list, expected ']' before end of line (lists must be on one line)")]
    [InlineData("peers: [2, # c", 1, 8, "unterminated list, expected ']' before end of line (lists must be on one line)")]
    [InlineData("peers: [", 1, 8, "unterminated list, expected ']' before end of line (lists must be on one line)")]
    [InlineData("peers: [2, 3,]", 1, 13, "trailing comma in list, expected a value after ','")]
    [InlineData("peers: [2, 3, ]", 1, 13, "trailing comma in list, expected a value after ','")]
    [InlineData("peers: [1 2]", 1, 11, "expected ',' or ']' in list, found '2'")]
    [InlineData("peers: [,1]", 1, 9, "expected a value in list, found ','")]
    [InlineData("peers: [1,,2]", 1, 11, "expected a value in list, found ','")]
    [InlineData("peers: [[1]]", 1, 9, "nested lists are not supported")]
    // Bare words.
    [InlineData("type: zookeeper", 1, 7, "unquoted value 'zookeeper': strings must be quoted, e.g. \"zookeeper\"")]
    [InlineData("timeout: 3s", 1, 10, "unquoted value '3s': strings must be quoted, e.g. \"3s\"")]
    [InlineData("enabled: True", 1, 10, "unquoted value 'True': strings must be quoted, e.g. \"True\"")]
    [InlineData("n: 1.", 1, 4, "unquoted value '1.': strings must be quoted, e.g. \"1.\"")]
    [InlineData("hosts: [\"a\", b]", 1, 14, "unquoted value 'b': strings must be quoted, e.g. \"b\"")]
    // Section headers.
    [InlineData("[raft", 1, 6, "expected ']' to close section header, found end of line")]
    [InlineData("[raft # c", 1, 7, "expected ']' to close section header, found '#'")]
    [InlineData("[ra ft]", 1, 5, "expected ']' to close section header, found 'f'")]
    [InlineData("[]", 1, 2, "expected a section name after '[', found ']'")]
    [InlineData("[  ]", 1, 4, "expected a section name after '[', found ']'")]
    [InlineData("[raft.]", 1, 7, "expected a section name after '.', found ']'")]
    [InlineData("[", 1, 2, "expected a section name after '[', found end of line")]
    // Names.
    [InlineData("[ra$ft]", 1, 4, "invalid character '$' in section name; names use letters, digits, '_' and '-'")]
    [InlineData("[$]", 1, 2, "invalid character '$' in section name; names use letters, digits, '_' and '-'")]
    [InlineData("node$id: 1", 1, 5, "invalid character '$' in key name; names use letters, digits, '_' and '-'")]
    [InlineData("node.id: 1", 1, 5, "invalid character '.' in key name; names use letters, digits, '_' and '-'")]
    [InlineData("$x: 1", 1, 1, "expected a key name or '[', found '$'")]
    [InlineData("\"x\": 1", 1, 1, "expected a key name or '[', found '\"'")]
    // Garbage after a value or header.
    [InlineData("node_id: 1 2", 1, 12, "unexpected '2' after the value of key 'node_id', expected end of line or a '#' comment")]
    [InlineData("name: \"a\" \"b\"", 1, 11, "unexpected '\"' after the value of key 'name', expected end of line or a '#' comment")]
    [InlineData("name: \"a\"x", 1, 10, "unexpected 'x' after the value of key 'name', expected end of line or a '#' comment")]
    [InlineData("peers: [1] ]", 1, 12, "unexpected ']' after the value of key 'peers', expected end of line or a '#' comment")]
    [InlineData("[raft] x", 1, 8, "unexpected 'x' after section header [raft], expected end of line or a '#' comment")]
    public void Malformed_line_reports_position_and_expectation(string text, int line, int column, string reason)
    {
        var error = Assert.Throws<TskFormatException>(() => TskParser.Parse(text, "c.tsk"));

        Assert.Equal(reason, error.Reason);
        Assert.Equal((line, column), (error.Line, error.Column));
        Assert.Equal($"c.tsk:{line}:{column}: {reason}", error.Message);
    }

    [Theory]
    [InlineData("[raft]\nnode_id: 1\ntimeout: \"3s\"\nnode_id: 2", 4, 1,
        "duplicate key 'node_id' in section [raft] (first defined on line 2, again on line 4)")]
    [InlineData("[raft]\nnode_id: 1\n  NODE_ID: 2", 3, 3,
        "duplicate key 'NODE_ID' in section [raft] (first defined on line 2, again on line 3)")]
    [InlineData("a: 1\n\na: 2", 3, 1, "duplicate key 'a' at root level (first defined on line 1, again on line 3)")]
    [InlineData("[raft]\n[sharding]\n  [raft]", 3, 3, "duplicate section [raft] (first declared on line 1, again on line 3)")]
    [InlineData("[raft]\npeers: [1]\n[raft.peers]", 3, 1,
        "section [raft.peers] conflicts with a key of the same path defined on line 2")]
    [InlineData("[raft.peers]\n[raft]\npeers: [1]", 3, 1,
        "key 'peers' in section [raft] conflicts with section [raft.peers] declared on line 1")]
    public void Redefinition_names_both_lines(string text, int line, int column, string reason)
    {
        var error = Assert.Throws<TskFormatException>(() => TskParser.Parse(text, "c.tsk"));

        Assert.Equal(reason, error.Reason);
        Assert.Equal((line, column), (error.Line, error.Column));
    }
}
