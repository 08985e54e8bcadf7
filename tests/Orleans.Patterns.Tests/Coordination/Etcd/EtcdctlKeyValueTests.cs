using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Coordination.Etcd;

/// <summary>The real etcdctl against every silo's etcd endpoint: put, get, delete, revisions, transactions, compaction.</summary>
[Trait("Category", "Cluster")]
[Collection(EtcdClusterCollection.Name)]
public sealed class EtcdctlKeyValueTests(EtcdClusterFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Put_get_and_delete_work_through_every_silo_and_each_put_makes_the_revision_its_key_shows()
    {
        // Revisions are read off each put's own answer, not counted from a get's header: the shared cluster's other
        // tests leave leases behind whose expiry deletes keys, and so moves the store's revision, at any time.
        foreach (var silo in EtcdClusterFixture.Silos)
        {
            var etcdctl = new Etcdctl(fixture.Endpoint(silo), output);
            var created = Revision(Json(await etcdctl.OkAsync("put", $"/kv/{silo}/a", "one", "-w", "json")));
            var first = Json(await etcdctl.OkAsync("get", $"/kv/{silo}/a", "-w", "json"));
            var modified = Revision(Json(await etcdctl.OkAsync("put", $"/kv/{silo}/a", "two", "-w", "json")));
            var createdB = Revision(Json(await etcdctl.OkAsync("put", $"/kv/{silo}/b", "three", "-w", "json")));
            Assert.True(created < modified && modified < createdB, $"put revisions {created}, {modified}, {createdB} do not rise");

            // A linearizable get through this silo sees both writes, whichever silo leads.
            var now = Json(await etcdctl.OkAsync("get", $"/kv/{silo}/", "--prefix", "-w", "json"));
            var kvs = now.GetProperty("kvs").EnumerateArray().ToList();
            Assert.Equal([$"/kv/{silo}/a", $"/kv/{silo}/b"], kvs.Select(kv => Decode(kv, "key")));
            Assert.Equal(["two", "three"], kvs.Select(kv => Decode(kv, "value")));
            Assert.Equal(created, first.GetProperty("kvs")[0].GetProperty("mod_revision").GetInt64());
            Assert.True(Revision(now) >= createdB);
            Assert.Equal(modified, kvs[0].GetProperty("mod_revision").GetInt64());
            Assert.Equal(created, kvs[0].GetProperty("create_revision").GetInt64());
            Assert.Equal(createdB, kvs[1].GetProperty("create_revision").GetInt64());
            Assert.Equal(2, kvs[0].GetProperty("version").GetInt64());
            Assert.NotEqual(0UL, now.GetProperty("header").GetProperty("member_id").GetUInt64());
            Assert.True(now.GetProperty("header").GetProperty("raft_term").GetUInt64() > 0);

            // The old value at its revision, then the simple output format.
            Assert.Equal($"/kv/{silo}/a\none\n", await etcdctl.OkAsync("get", $"/kv/{silo}/a", $"--rev={created}"));
            Assert.Equal($"/kv/{silo}/a\ntwo\n", await etcdctl.OkAsync("get", $"/kv/{silo}/a", "--consistency=s"));
            Assert.Equal("2", (await etcdctl.OkAsync("del", $"/kv/{silo}/", "--prefix")).Trim());
            Assert.Equal("", await etcdctl.OkAsync("get", $"/kv/{silo}/", "--prefix"));
        }
    }

    [Fact]
    public async Task Get_honours_limit_sort_and_keys_only()
    {
        var etcdctl = new Etcdctl(fixture.Endpoint(EtcdClusterFixture.Silos[1]), output);
        foreach (var (key, value) in new[] { ("c", "1"), ("a", "3"), ("b", "2") })
        {
            await etcdctl.OkAsync("put", $"/range/{key}", value);
        }

        Assert.Equal("/range/c\n/range/b\n", await etcdctl.OkAsync("get", "/range/", "--prefix", "--keys-only", "--sort-by=KEY", "--order=DESCEND", "--limit=2").ContinueWith(t => t.Result.Replace("\n\n", "\n")));
        Assert.Equal("/range/a\n3\n", await etcdctl.OkAsync("get", "/range/", "--prefix", "--sort-by=VALUE", "--order=DESCEND", "--limit=1"));
        var limited = Json(await etcdctl.OkAsync("get", "/range/", "--prefix", "--limit=1", "-w", "json"));
        Assert.True(limited.GetProperty("more").GetBoolean());
        Assert.Equal(3, limited.GetProperty("count").GetInt64());
        Assert.Equal("/range/b\n\n/range/c\n\n", await etcdctl.OkAsync("get", "/range/b", "--from-key", "--keys-only", "--limit=2"));

        // Previous values on put and delete.
        Assert.Equal("OK\n/range/a\n3\n", await etcdctl.OkAsync("put", "/range/a", "4", "--prev-kv"));
        Assert.Equal("1\n/range/a\n4\n", await etcdctl.OkAsync("del", "/range/a", "--prev-kv"));
        var ignored = await etcdctl.RunAsync(["put", "/range/a", "--ignore-value"]);
        Assert.NotEqual(0, ignored.ExitCode);
        Assert.Contains("etcdserver: key not found", ignored.Stderr);
    }

    [Fact]
    public async Task Txn_from_stdin_runs_the_branch_its_compares_choose()
    {
        var etcdctl = new Etcdctl(fixture.Endpoint(EtcdClusterFixture.Silos[2]), output);
        await etcdctl.OkAsync("put", "/txn/flag", "on");
        var script = """
            value("/txn/flag") = "on"
            version("/txn/flag") > "0"
            create("/txn/missing") = "0"

            put /txn/result yes
            get /txn/flag

            put /txn/result no

            """;
        // etcdctl reads each of the three sections up to an empty line.
        var taken = await etcdctl.RunAsync(["txn"], script + "\n");
        Assert.Equal(0, taken.ExitCode);
        Assert.Equal("SUCCESS\n\nOK\n\n/txn/flag\non\n", taken.Stdout);
        Assert.Equal("/txn/result\nyes\n", await etcdctl.OkAsync("get", "/txn/result"));

        var modRevision = Json(await etcdctl.OkAsync("get", "/txn/flag", "-w", "json")).GetProperty("kvs")[0].GetProperty("mod_revision").GetInt64();
        var failed = await etcdctl.RunAsync(["txn"], $"""
            mod("/txn/flag") > "{modRevision}"

            put /txn/result yes

            del /txn/result

            """ + "\n");
        Assert.Equal(0, failed.ExitCode);
        Assert.Equal("FAILURE\n\n1\n", failed.Stdout);
        Assert.Equal("", await etcdctl.OkAsync("get", "/txn/result"));
    }

    [Fact]
    public async Task A_read_below_the_compacted_revision_fails_with_etcds_message()
    {
        var etcdctl = new Etcdctl(fixture.Endpoint(EtcdClusterFixture.Silos[0]), output);
        await etcdctl.OkAsync("put", "/compact/k", "1");
        var revision = Revision(Json(await etcdctl.OkAsync("put", "/compact/k", "2", "-w", "json")));
        Assert.Contains($"compacted revision {revision}", await etcdctl.OkAsync("compaction", revision.ToString()));

        var old = await etcdctl.RunAsync(["get", "/compact/k", $"--rev={revision - 1}"]);
        Assert.NotEqual(0, old.ExitCode);
        Assert.Contains("etcdserver: mvcc: required revision has been compacted", old.Stderr);

        var future = await etcdctl.RunAsync(["get", "/compact/k", $"--rev={revision + 1000}"]);
        Assert.NotEqual(0, future.ExitCode);
        Assert.Contains("etcdserver: mvcc: required revision is a future revision", future.Stderr);
    }

    internal static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;

    internal static long Revision(JsonElement response) => response.GetProperty("header").GetProperty("revision").GetInt64();

    internal static string Decode(JsonElement kv, string field) => Encoding.UTF8.GetString(Convert.FromBase64String(kv.GetProperty(field).GetString()!));
}
