using Orleans.Patterns.Coordination;
using Orleans.Patterns.Raft;
using Orleans.Patterns.Tests.Infrastructure;
using Orleans.TestingHost;
using Xunit.Abstractions;
using static Orleans.Patterns.Tests.Coordination.Bytes;

namespace Orleans.Patterns.Tests.Coordination.Cluster;

/// <summary>
/// Acknowledged coordination writes survive crashes: two of three silos are killed at once (no majority left, the
/// leader among them or not) and started again under their names; the store comes back from the logs and snapshots
/// on their disks with every acknowledged write, its revisions and its history for watchers. A cluster of its own:
/// the test kills silos.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class CoordinationDurabilityTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly IReadOnlyList<string> Voters = ["Silo_0", "Silo_1", "Silo_2"];
    private readonly string _dataRoot = Path.Combine(Path.GetTempPath(), "orleans-patterns-coordination-durable-" + Guid.NewGuid().ToString("N"));
    private readonly List<InProcessSiloHandle> _restarted = [];
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder((short)Voters.Count);
        builder.ConfigureSilo((_, silo) => silo.AddRaftReplicas(o =>
        {
            o.DataDirectory = _dataRoot;
            o.InitialVoters = [.. Voters];
            o.SnapshotEveryEntries = 40; // several snapshots during the test, so recovery restores one and replays the rest
        }));
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var silo in _restarted)
        {
            await silo.StopSiloAsync(stopGracefully: false);
            await silo.DisposeAsync();
        }

        await _cluster.DisposeAsync();
        if (Directory.Exists(_dataRoot))
        {
            Directory.Delete(_dataRoot, recursive: true);
        }
    }

    [Fact]
    public async Task Every_acknowledged_write_survives_a_crash_of_two_of_three_silos_at_once()
    {
        var client = new CoordinationClient(_cluster.Client, () => Voters, $"durable-{Guid.NewGuid():N}") { Router = { Deadline = TimeSpan.FromSeconds(30) } };
        var acknowledged = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i < 100; i++)
        {
            var key = $"/durable/k{i % 25:D2}";
            acknowledged[key] = (await client.PutAsync(new PutRequest(B(key), B($"v{i}")))).Revision;
        }

        var lease = await client.LeaseGrantAsync(60);
        await client.PutAsync(new PutRequest(B("/durable/leased"), B("held")) { Lease = lease.ID });
        var before = await client.RangeAsync(new RangeRequest(B("/durable/")) { RangeEnd = ByteKeys.PrefixEnd(B("/durable/")) });
        output.WriteLine($"before the crash: revision {before.Revision}, {before.Count} keys, leader {client.Router.Leader}");

        var victims = _cluster.Silos.Where(s => s.Name != "Silo_0").ToList(); // never the silo the test's client connects through
        await Task.WhenAll(victims.Select(v => _cluster.KillSiloAsync(v)));
        output.WriteLine($"killed {string.Join(", ", victims.Select(v => v.Name))}");
        foreach (var victim in victims)
        {
            var silo = await _cluster.StartSiloAsync(victim.InstanceNumber, _cluster.Options);
            Assert.Equal(victim.Name, silo.Name);
            _restarted.Add(silo);
        }

        var after = await client.RangeAsync(new RangeRequest(B("/durable/")) { RangeEnd = ByteKeys.PrefixEnd(B("/durable/")) });
        output.WriteLine($"after the restart: revision {after.Revision}, {after.Count} keys, leader {client.Router.Leader}");
        Assert.Equal(before.Kvs, after.Kvs);
        foreach (var (key, revision) in acknowledged)
        {
            Assert.Equal(revision, after.Kvs.Single(kv => S(kv.Key) == key).ModRevision);
        }

        // The history came back too: a watcher from the first revision sees every acknowledged put, in order.
        var history = await client.WatchOnceAsync(new WatchRequest(B("/durable/")) { RangeEnd = ByteKeys.PrefixEnd(B("/durable/")), StartRevision = 1 }, TimeSpan.Zero);
        Assert.Equal(101, history.Events.Count);
        Assert.Equal(history.Events.Select(e => e.Kv.ModRevision).Order(), history.Events.Select(e => e.Kv.ModRevision));

        // The lease outlived the crash (the new leader extended it on its own clock) and still holds its key.
        var ttl = await client.LeaseTimeToLiveAsync(lease.ID, keys: true);
        Assert.InRange(ttl.TTL, 1, 60);
        Assert.Equal("/durable/leased", S(ttl.Keys.Single()));
        // Asked until every replica answers: right after the restarts the client may still try a killed silo's gateway.
        IReadOnlyList<RaftReplicaStatus> statuses = [];
        await Eventually.WaitAsync(
            async () => (statuses = await Task.WhenAll(Voters.Select(v => _cluster.Client.GetGrain<IRaftReplicaGrain>(v).GetStatus()))).Count == Voters.Count,
            TimeSpan.FromSeconds(30),
            () => "every replica's status after the restarts");
        Assert.All(statuses, s => Assert.True(s.SnapshotIndex > 0, $"{s.Node} never took a snapshot"));
    }
}
