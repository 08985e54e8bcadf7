using System.Diagnostics;
using System.Text;
using Orleans.Patterns.Client;
using Orleans.Patterns.Client.Cluster;
using Orleans.Patterns.Client.Commands;
using Orleans.Patterns.Coordination;

namespace Orleans.Patterns.Tests.Client;

/// <summary>The coordination commands' syntax (<c>kv</c>, <c>lease</c>, <c>lock</c>, <c>elect</c>, <c>svc</c>), without a cluster.</summary>
[Trait("Category", "Unit")]
public sealed class CoordinationCommandTests
{
    [Fact]
    public void Compares_parse_every_target_and_operator()
    {
        var value = TxnSyntax.ParseCompare("--if", "value(color) = blue");
        Assert.Equal((CompareTarget.Value, CompareResult.Equal, "color", "blue"), (value.Target, value.Result, S(value.Key), S(value.Value)));

        var quoted = TxnSyntax.ParseCompare("--if", "value(\"my key\") != \"two words \\\"quoted\\\"\"");
        Assert.Equal((CompareResult.NotEqual, "my key", "two words \"quoted\""), (quoted.Result, S(quoted.Key), S(quoted.Value)));
        Assert.Equal("", S(TxnSyntax.ParseCompare("--if", "value(k) = \"\"").Value));

        Assert.Equal((CompareTarget.Mod, CompareResult.Greater, 5L), Fields(TxnSyntax.ParseCompare("--if", "mod(k) > 5"), c => c.ModRevision));
        Assert.Equal((CompareTarget.Create, CompareResult.Equal, 0L), Fields(TxnSyntax.ParseCompare("--if", "create(k)=0"), c => c.CreateRevision));
        Assert.Equal((CompareTarget.Version, CompareResult.Less, 3L), Fields(TxnSyntax.ParseCompare("--if", "VERSION(k) < 3"), c => c.Version));
        Assert.Equal((CompareTarget.Lease, CompareResult.Equal, 0x1a2bL), Fields(TxnSyntax.ParseCompare("--if", "lease(k) = 1a2b"), c => c.Lease));
        Assert.Equal(0, TxnSyntax.ParseCompare("--if", "lease(k) = 0").Lease);
    }

    [Fact]
    public void Operations_parse_put_get_and_del_with_prefixes()
    {
        var put = TxnSyntax.ParseOp("--then", "put k2 \"v 2\"").RequestPut!;
        Assert.Equal(("k2", "v 2"), (S(put.Key), S(put.Value)));
        var get = TxnSyntax.ParseOp("--else", "get /a/ --prefix").RequestRange!;
        Assert.Equal(("/a/", "/a0"), (S(get.Key), S(get.RangeEnd)));
        Assert.Empty(TxnSyntax.ParseOp("--else", "get k").RequestRange!.RangeEnd);
        var del = TxnSyntax.ParseOp("--then", "del k").RequestDeleteRange!;
        Assert.Equal("k", S(del.Key));
        Assert.Empty(del.RangeEnd);

        var txn = CoordinationCommands.ParseTxn(["value(k) = v", "mod(k) > 1"], ["put k w"], ["get k"]);
        Assert.Equal((2, 1, 1), (txn.Compare.Count, txn.Success.Count, txn.Failure.Count));
    }

    [Fact]
    public void Lease_ids_are_hex_as_printed()
    {
        Assert.Equal(0x694d7a1b2cL, LeaseIds.Parse("id", "694d7a1b2c"));
        Assert.Equal(0x694d7a1b2cL, LeaseIds.Parse("id", "0x694D7A1B2C"));
        Assert.Equal("694d7a1b2c", LeaseIds.Format(0x694d7a1b2cL));
        Assert.Equal("id '0' is not a lease id (hex, as `lease grant` prints it).", Assert.Throws<UsageException>(() => LeaseIds.Parse("id", "0")).Message);
    }

    [Theory]
    [InlineData("error: --if 'value(k) ~ v': expected TARGET(KEY) OP OPERAND, e.g. value(k) = v or mod(k) > 5.", "kv", "txn", "--if", "value(k) ~ v", "--then", "put k v")]
    [InlineData("error: --if 'size(k) = 1': unknown target 'size'; use value, version, create, mod or lease.", "kv", "txn", "--if", "size(k) = 1", "--then", "put k v")]
    [InlineData("error: --if 'mod(k) > x': 'x' is not a whole number >= 0.", "kv", "txn", "--if", "mod(k) > x", "--then", "put k v")]
    [InlineData("error: --if 'value(k) = a b': expected one operand; quote values with spaces.", "kv", "txn", "--if", "value(k) = a b", "--then", "put k v")]
    [InlineData("error: --if 'value() = v': the key must not be empty.", "kv", "txn", "--if", "value() = v", "--then", "put k v")]
    [InlineData("error: --if 'lease(k) = zz': lease 'zz' is not a lease id (hex, as `lease grant` prints it).", "kv", "txn", "--if", "lease(k) = zz", "--then", "put k v")]
    [InlineData("error: --then 'put k': put takes a key and a value: put KEY VALUE.", "kv", "txn", "--then", "put k")]
    [InlineData("error: --else 'move a b': unknown operation 'move'; use put, get or del.", "kv", "txn", "--else", "move a b")]
    [InlineData("error: --then 'put k \"v': a quoted string is not closed.", "kv", "txn", "--then", "put k \"v")]
    [InlineData("error: --then 'get k --all': get takes a key and optionally --prefix: get KEY [--prefix].", "kv", "txn", "--then", "get k --all")]
    [InlineData("error: kv txn needs at least one --then or --else operation.", "kv", "txn", "--if", "value(k) = v")]
    [InlineData("error: --lease 'xyz' is not a lease id (hex, as `lease grant` prints it).", "kv", "put", "k", "v", "--lease", "xyz")]
    [InlineData("error: key must not be empty.", "kv", "get", "")]
    [InlineData("error: --rev -1 must be >= 0.", "kv", "get", "k", "--rev", "-1")]
    [InlineData("error: --limit -5 must be >= 0.", "kv", "get", "k", "--prefix", "--limit", "-5")]
    [InlineData("error: --rev -2 must be >= 0.", "kv", "watch", "k", "--rev", "-2")]
    [InlineData("error: ttl 0 must be between 1 and 9000000000.", "lease", "grant", "0")]
    [InlineData("error: id 'zz' is not a lease id (hex, as `lease grant` prints it).", "lease", "revoke", "zz")]
    [InlineData("error: id '-3' is not a lease id (hex, as `lease grant` prints it).", "lease", "ttl", "-3")]
    [InlineData("error: id 'g' is not a lease id (hex, as `lease grant` prints it).", "lease", "keepalive", "g", "--once")]
    [InlineData("error: --hold -1 must be between 0 and 86400 seconds.", "lock", "jobs", "--hold", "-1")]
    [InlineData("error: --ttl 0 must be between 1 and 86400.", "lock", "jobs", "--ttl", "0")]
    [InlineData("error: elect jobs: give a <value> to campaign with, or --observe.", "elect", "jobs")]
    [InlineData("error: elect jobs: give a <value> to campaign with or --observe, not both.", "elect", "jobs", "node-1", "--observe")]
    [InlineData("error: --meta 'zone' must be key=value.", "svc", "register", "orders", "i-1", "10.0.0.1:80", "--meta", "zone")]
    [InlineData("error: --meta 'zone=b': key 'zone' given twice.", "svc", "register", "orders", "i-1", "10.0.0.1:80", "--meta", "zone=a", "--meta", "zone=b")]
    [InlineData("error: service 'orders/eu' must not contain '/'.", "svc", "register", "orders/eu", "i-1", "10.0.0.1:80")]
    [InlineData("error: --ttl 0 must be between 1 and 86400.", "svc", "register", "orders", "i-1", "10.0.0.1:80", "--ttl", "0")]
    [InlineData("error: service must not be empty.", "svc", "list", "")]
    public async Task Bad_input_exits_with_2_naming_the_argument_and_value_before_connecting(string expected, params string[] args)
    {
        var console = new TestConsole();
        // A closed gateway and a long connect timeout: only a check made before connecting can answer quickly.
        var port = FreePorts.Take(1)[0];
        var clock = Stopwatch.StartNew();

        var exitCode = await ClientApp.RunAsync([.. args, "--gateway", port.ToString(), "--connect-timeout", "60"], console.Console, console.Error);

        Assert.Equal(expected, Assert.Single(console.ErrorLines));
        Assert.Equal(ClientApp.ExitUsage, exitCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
    }

    [Theory]
    [InlineData("kv")]
    [InlineData("lease")]
    [InlineData("svc")]
    [InlineData("raft", "kv")]
    public async Task Help_lists_the_subcommands(params string[] args)
    {
        var console = new TestConsole();

        var exitCode = await ClientApp.RunAsync([.. args, "--help"], console.Console, console.Error);

        Assert.Equal(ClientApp.ExitOk, exitCode);
        var expected = args switch
        {
            ["kv"] => ["put", "get", "del", "watch", "txn"],
            ["lease"] => ["grant", "keepalive", "revoke", "ttl", "list"],
            ["svc"] => ["register", "list", "watch"],
            _ => new[] { "put", "get", "del", "cas" },
        };
        foreach (var sub in expected)
        {
            Assert.Contains(sub, console.Output, StringComparison.Ordinal);
        }
    }

    private static (CompareTarget, CompareResult, long) Fields(Compare compare, Func<Compare, long> operand) => (compare.Target, compare.Result, operand(compare));

    private static string S(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}
