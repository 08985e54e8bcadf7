using Orleans.Patterns.Chaos;
using Orleans.Patterns.Gossip;
using Orleans.Patterns.Placement;
using Orleans.Patterns.Raft;
using Orleans.Patterns.Sharding;
using Orleans.Patterns.Tests.Infrastructure;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Gossip;

/// <summary>
/// The gossip members and watchdogs on real (in-process) silos: four silos, so each watchdog watches the three others
/// and a failure leaves three views to agree. One test walks a hang, its end, a crash and a restart on one cluster:
/// each time, every surviving watchdog convicts the silo and every surviving view lists it dead.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class GossipClusterTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private static readonly string[] GossipInterfaces = [nameof(IGossipGrain), nameof(IHeartbeatWatchdogGrain)];
    private readonly string _dataRoot = Path.Combine(Path.GetTempPath(), "orleans-patterns-gossip-" + Guid.NewGuid().ToString("N"));
    private InProcessTestCluster _cluster = null!;
    private string _lastViews = "none yet";
    private string _lastHealth = "none yet";

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(4);

        // The Raft replicas and the shard map are here to show the recovery actions: a silo gossip declared dead is dead
        // to the replicas' planner, and its shards move to the others in a new map epoch.
        // Suspicion timeouts twice the default: a watchdog convicts a silent peer about a second after its last
        // heartbeat, and gossip, declaring it dead, ends the watch; the margin keeps the order on a loaded machine.
        builder.ConfigureSilo((_, silo) => silo.AddGossipMembership(o => o.Swim = o.Swim with { SuspicionMultiplier = 6 }).AddChaos().AddRaftReplicas(o =>
        {
            o.DataDirectory = _dataRoot;
            o.InitialVoters = ["Silo_0", "Silo_1", "Silo_2"];
        }).AddUserSharding(o =>
        {
            o.MapSource = ShardMapSource.Raft;
            o.ShardCount = 64;
            o.RefreshInterval = TimeSpan.FromMilliseconds(200);
        }));
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        if (Directory.Exists(_dataRoot))
        {
            Directory.Delete(_dataRoot, recursive: true);
        }
    }

    [Fact]
    public async Task Hung_and_killed_silos_are_convicted_and_dead_in_every_view_and_come_back_at_a_higher_incarnation()
    {
        var names = _cluster.Silos.Select(s => s.Name).Order(StringComparer.Ordinal).ToList();
        await Eventually.WaitAsync(
            async () => (await ViewsAsync(names)).All(v => names.All(n => StateIn(v, n) == "Alive")),
            Deadline,
            () => Seen("every view listing every silo alive"));

        // A hang: the victim's process lives (Orleans keeps it active) but its gossip and heartbeats go unanswered.
        var victim = _cluster.Silos.Single(s => s.Name == "Silo_3");
        var survivors = names.Where(n => n != victim.Name).ToList();

        // The victim leads the Raft log through the hang (gossip is cut, Raft is not): the survivors' shard map agents
        // must still find that leader, though their own gossip says its silo is dead. Once a run in many met this by
        // chance, with the last silo promoted to voter and elected, and the map never changed.
        await MakeLeaderAsync(names, victim.Name);
        var incarnation = await IncarnationAsync(victim.Name);

        // Counted from here: a loaded machine can have a watchdog convict and re-admit a slow starter before the hang.
        var convictionsBeforeHang = (await HealthAsync(survivors)).ToDictionary(h => h.Silo, h => Convictions(h, victim.Name));
        output.WriteLine($"hang {victim.Name} (incarnation {incarnation})");
        await _cluster.Client.SetRulesEverywhereAsync([new PartitionRule("hang", [.. GossipInterfaces], [[victim.Name], [.. survivors]])]);
        await Eventually.WaitAsync(
            async () => (await HealthAsync(survivors)).All(h => Convictions(h, victim.Name) > convictionsBeforeHang[h.Silo]),
            Deadline,
            () => Seen($"every surviving watchdog convicting {victim.Name}"));
        await Eventually.WaitAsync(
            async () => (await ViewsAsync(survivors)).All(v => StateIn(v, victim.Name) == "Dead"),
            Deadline,
            () => Seen($"{victim.Name} dead in every surviving view"));
        await PrintViewsAsync(survivors);

        // Orleans still lists the hung silo active (its own probes are not faulted), yet the replicas' planner sees it
        // dead, because this silo's gossip member says so.
        Assert.Contains(victim.Name, await _cluster.Client.GetActiveSiloNamesAsync());
        await Eventually.WaitAsync(
            async () => (await _cluster.Client.GetGrain<IRaftReplicaGrain>("Silo_0").GetMembershipStatus()).Hosts.Any(h => h.StartsWith($"{victim.Name} Dead", StringComparison.Ordinal)),
            Deadline,
            () => Seen($"the Raft replica on Silo_0 seeing {victim.Name} dead"));
        await Eventually.WaitAsync(
            async () => !(await ShardMapMembersAsync()).Contains(victim.Name),
            Deadline,
            () => Seen($"a shard map without {victim.Name}"));

        // The hang ends: the victim learns it was declared dead, refutes with a higher incarnation, and is re-admitted.
        await _cluster.Client.HealEverywhereAsync();
        await Eventually.WaitAsync(
            async () => (await ViewsAsync(names)).All(v => v.Members.Any(m => m.Name == victim.Name && m.Status == "Alive" && m.Incarnation > incarnation)),
            Deadline,
            () => Seen($"{victim.Name} alive again above incarnation {incarnation} in every view"));
        await Eventually.WaitAsync(
            async () => (await HealthAsync(survivors)).All(h => h.Peers.Any(p => p.Peer == victim.Name && !p.Convicted)),
            Deadline,
            () => Seen($"every surviving watchdog re-admitting {victim.Name}"));
        await Eventually.WaitAsync(
            async () => (await _cluster.Client.GetGrain<IRaftReplicaGrain>("Silo_0").GetMembershipStatus()).Hosts.Any(h => h.StartsWith($"{victim.Name} Alive", StringComparison.Ordinal)),
            Deadline,
            () => Seen($"the Raft replica on Silo_0 seeing {victim.Name} alive again"));
        await Eventually.WaitAsync(
            async () => (await ShardMapMembersAsync()).Contains(victim.Name),
            Deadline,
            () => Seen($"{victim.Name} owning shards again"));

        // A crash, then a restart under the same name: the new life starts above everything the old one reached.
        incarnation = await IncarnationAsync(victim.Name);
        var convictionsBefore = (await HealthAsync(survivors)).ToDictionary(h => h.Silo, h => Convictions(h, victim.Name));
        output.WriteLine($"kill {victim.Name} (incarnation {incarnation})");

        // A test cluster's kill still deactivates the silo's grains, so its gossip member would say goodbye (a graceful
        // leave); cutting its gossip traffic first makes it vanish without a word, as a crashed process does.
        await _cluster.Client.SetRulesEverywhereAsync([new PartitionRule("crash", [.. GossipInterfaces], [[victim.Name], [.. survivors]])]);
        await _cluster.KillSiloAsync(victim);
        await _cluster.Client.HealEverywhereAsync();

        // The test cluster's membership drops a killed silo almost at once; the watchdogs keep watching it while gossip
        // still holds it alive, so each convicts it again.
        await Eventually.WaitAsync(
            async () => (await HealthAsync(survivors)).All(h => Convictions(h, victim.Name) > convictionsBefore[h.Silo]),
            Deadline,
            () => Seen($"every surviving watchdog convicting the killed {victim.Name}"));
        await Eventually.WaitAsync(
            async () => (await ViewsAsync(survivors)).All(v => StateIn(v, victim.Name) == "Dead"),
            Deadline,
            () => Seen($"{victim.Name} dead in every surviving view after the kill"));
        await PrintViewsAsync(survivors);
        var restarted = await _cluster.StartSiloAsync(victim.InstanceNumber, _cluster.Options);
        Assert.Equal(victim.Name, restarted.Name);
        await Eventually.WaitAsync(
            async () => (await ViewsAsync(names)).All(v => v.Members.Any(m => m.Name == victim.Name && m.Status == "Alive" && m.Incarnation > incarnation)),
            Deadline,
            () => Seen($"restarted {victim.Name} alive above incarnation {incarnation} in every view"));
        await PrintViewsAsync(names);
    }

    private async Task MakeLeaderAsync(IReadOnlyList<string> names, string target)
    {
        await Eventually.WaitAsync(
            async () =>
            {
                var leader = await RaftLeaders.WaitForSingleLeaderAsync(_cluster.Client, names, Deadline);
                if (leader == target)
                {
                    return true;
                }

                var replica = _cluster.Client.GetGrain<IRaftReplicaGrain>(leader);
                if ((await replica.GetStatus()).Voters.Contains(target))
                {
                    try
                    {
                        await replica.TransferLeadership(target);
                    }
                    catch (Exception e) when (e is NotLeaderException or InvalidOperationException)
                    {
                        // Leadership moved meanwhile, or a transfer is already under way: look again.
                    }
                }

                return false;
            },
            Deadline,
            () => Seen($"{target}, promoted to voter, leading the Raft log"));
    }

    private async Task<IReadOnlyList<string>> ShardMapMembersAsync() =>
        (await _cluster.Client.GetPinnedGrain<IShardHostGrain>("Silo_0").GetMap()) is { } view ? ShardMapCodec.Decode(view.Encoded).Members : [];

    private async Task<int> IncarnationAsync(string member) =>
        (await ViewsAsync(_cluster.Silos.Select(s => s.Name))).Max(v => v.Members.Single(m => m.Name == member).Incarnation);

    private async Task PrintViewsAsync(IEnumerable<string> silos)
    {
        foreach (var view in await ViewsAsync(silos))
        {
            output.WriteLine($"{view.Silo}: {string.Join(", ", view.Members.Select(m => $"{m.Name} {m.Status}({m.Incarnation})"))}");
        }
    }

    private async Task<GossipView[]> ViewsAsync(IEnumerable<string> silos)
    {
        var views = await Task.WhenAll(silos.Select(s => _cluster.Client.GetGrain<IGossipGrain>(s).GetView()));
        _lastViews = string.Join("; ", views.Select(v => $"{v.Silo}: {string.Join(", ", v.Members.Select(m => $"{m.Name} {m.Status}({m.Incarnation})"))}"));
        return views;
    }

    private async Task<WatchdogHealth[]> HealthAsync(IEnumerable<string> silos)
    {
        var health = await Task.WhenAll(silos.Select(s => _cluster.Client.GetGrain<IHeartbeatWatchdogGrain>(s).GetHealth()));
        _lastHealth = string.Join("; ", health.Select(h =>
            $"{h.Silo} watches {string.Join(", ", h.Peers.Select(p => $"{p.Peer} phi {p.Phi:F1}{(p.Convicted ? " convicted" : "")}"))}, verdicts {string.Join(", ", h.RecentVerdicts.Select(v => $"{v.Peer} {v.Verdict}"))}"));
        return health;
    }

    /// <summary>A timed-out wait's description, with the views and watchdogs as last seen, so a failure explains itself.</summary>
    private string Seen(string waitingFor) => $"{waitingFor}; last views: [{_lastViews}]; last watchdogs: [{_lastHealth}]";

    private static int Convictions(WatchdogHealth health, string peer) =>
        health.RecentVerdicts.Count(v => v.Peer == peer && v.Verdict == "Convicted");

    private static string? StateIn(GossipView view, string member) => view.Members.SingleOrDefault(m => m.Name == member)?.Status;
}
