using Orleans.Patterns.Chaos;
using Orleans.Patterns.Placement;
using Orleans.Patterns.Raft;
using Orleans.Patterns.Tests.Infrastructure;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Raft.Cluster;

/// <summary>
/// The leader's lease on real silos (<c>raft:lease_reads</c>, on by default): cut off from both followers by the
/// fault-injection filter, the leader still answers a linearizable read, which only its lease can have allowed (no
/// heartbeat round can be answered), and once the lease has run out it answers none.
/// </summary>
/// <remarks>
/// Long timeouts (a 3 s election timeout, so a 2.4 s lease) keep a busy machine's stalls far inside the lease: the
/// read within it is made right after the cut, the read after it 3 s later.
/// </remarks>
[Trait("Category", "Cluster")]
[Collection(LeaseTimingCollection.Name)]
public sealed class RaftLeaseReadClusterTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan ElectionTimeout = TimeSpan.FromSeconds(3);
    private static readonly double LeaseMilliseconds = ElectionTimeout.TotalMilliseconds * 0.8;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly string _dataRoot = Path.Combine(Path.GetTempPath(), "orleans-patterns-raft-lease-" + Guid.NewGuid().ToString("N"));
    private InProcessTestCluster _cluster = null!;
    private IReadOnlyList<string> _names = [];

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(3);
        builder.ConfigureSilo((_, silo) => silo
            .AddRaftReplicas(o =>
            {
                o.DataDirectory = _dataRoot;
                o.InitialVoters = ["Silo_0", "Silo_1", "Silo_2"];
                o.ElectionTimeout = ElectionTimeout;
            })
            .AddChaos(o => o.ScopedInterfaces.Add(nameof(IRaftReplicaGrain))));
        _cluster = builder.Build();
        await _cluster.DeployAsync();
        _names = await _cluster.Client.GetActiveSiloNamesAsync();
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
    public async Task A_leader_cut_off_from_its_followers_reads_from_its_lease_and_not_after_it_ran_out()
    {
        var leader = await RaftLeaders.WaitForSingleLeaderAsync(_cluster.Client, _names, Deadline);
        var written = await new RaftKvClient(_cluster.Client, _names, "lease-reads").PutAsync("k", "v1");
        Assert.True(written.Applied);
        var others = _names.Where(n => n != leader).ToArray();
        var replica = _cluster.Client.GetGrain<IRaftReplicaGrain>(leader);

        // The leader reports its lease (what `raft status` shows); followers have none. The cut comes right after a
        // round the followers answered, so the read within the lease has nearly all of its 2.4 s.
        Assert.All(await Task.WhenAll(others.Select(o => _cluster.Client.GetGrain<IRaftReplicaGrain>(o).GetStatus())), s => Assert.Null(s.LeaseMillisecondsLeft));
        await Eventually.WaitAsync(
            async () => (await replica.GetStatus()).LeaseMillisecondsLeft > LeaseMilliseconds - 200,
            Deadline,
            () => $"a lease of {leader} renewed within the last 200 ms");
        output.WriteLine($"leader {leader}; cutting it off from {string.Join(", ", others)}");

        await _cluster.Client.SetRulesEverywhereAsync([new PartitionRule("isolate-leader", [nameof(IRaftReplicaGrain)], [[leader], [.. others]])]);
        var withinLease = await replica.Read("k");
        Assert.Equal("v1", withinLease.Value);
        Assert.True(withinLease.Index >= written.Index);

        // Past the lease (4/5 of the election timeout after the last round the followers answered, which was before
        // the cut): the read needs a round no follower can answer, and the leader steps down at check-quorum instead.
        await Task.Delay(ElectionTimeout);
        var late = await Record.ExceptionAsync(() => replica.Read("k"));
        output.WriteLine($"read after the lease: {late?.GetType().Name}: {late?.Message}");
        Assert.True(late is NotLeaderException or OutcomeUnknownException or TimeoutException, $"a read after the lease was answered or failed oddly: {late}");

        await _cluster.Client.HealEverywhereAsync();
        var healed = await RaftLeaders.WaitForSingleLeaderAsync(_cluster.Client, _names, Deadline);
        Assert.Equal("v1", (await _cluster.Client.GetGrain<IRaftReplicaGrain>(healed).Read("k")).Value);
    }
}

/// <summary>
/// Tests that judge a lease by the clock run alone, after the parallel tests: on two cores shared with every other
/// cluster test, a silo can stall for longer than a lease, which is a property of the machine, not of the lease.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LeaseTimingCollection
{
    public const string Name = "lease-timing";
}
