using System.Diagnostics;
using Orleans.Patterns.Raft;
using Orleans.Patterns.Tests.Infrastructure;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace Orleans.Patterns.Tests.Raft.Cluster;

/// <summary>
/// The replica set following the cluster on real (in-process) silos: a silo that joins becomes a learner, then a
/// voter holding the log; a silo that stops is removed after the grace period, down to the voter floor and no further.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class RaftMembershipClusterTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(2);
    private static readonly string[] Initial = ["Silo_0", "Silo_1", "Silo_2"];
    private readonly string _dataRoot = Path.Combine(Path.GetTempPath(), "orleans-patterns-raft-membership-" + Guid.NewGuid().ToString("N"));
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(3);
        builder.ConfigureSilo((_, silo) => silo.AddRaftReplicas(o =>
        {
            o.DataDirectory = _dataRoot;
            o.InitialVoters = Initial;
            o.RemovalGracePeriod = Grace;

            // Three of the three initial voters: the floor is reached after one removal, with a quorum still alive.
            o.MinimumVoters = 3;

            // A learner is promoted no sooner than one planning round after it was added: a 1 s round gives the
            // test a wide window to see the learner even when the machine is loaded.
            o.MembershipCheckInterval = TimeSpan.FromSeconds(1);
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
    public async Task A_joining_silo_becomes_learner_then_voter_and_stopped_silos_are_removed_down_to_the_floor()
    {
        var live = Initial.ToList();
        var leader = await WaitForSingleLeaderAsync(live);
        var kv = new RaftKvClient(_cluster.Client, live, "membership-client");
        for (var i = 0; i < 20; i++)
        {
            await kv.PutAsync($"k{i}", $"v{i}");
        }

        // Join: the leader adds the new silo's replica as a learner, then promotes it once it holds the log.
        var joined = (await _cluster.StartAdditionalSiloAsync()).Name;
        output.WriteLine($"started {joined}");
        live.Add(joined);
        var seenAsLearner = false;
        RaftReplicaStatus leaderStatus = null!;
        await Eventually.WaitAsync(
            async () =>
            {
                leaderStatus = await LeaderStatusAsync(live);
                seenAsLearner |= leaderStatus.Learners.Contains(joined);
                return leaderStatus.Voters.Contains(joined);
            },
            Deadline,
            () => $"{joined} a voter at {leader}; voters [{string.Join(", ", leaderStatus.Voters)}], learners [{string.Join(", ", leaderStatus.Learners)}]");
        Assert.True(seenAsLearner, $"{joined} became a voter without being seen as a learner first");
        Assert.Equal(["Silo_0", "Silo_1", "Silo_2", joined], leaderStatus.Voters);
        Assert.Empty(leaderStatus.Learners);

        var commit = leaderStatus.CommitIndex;
        RaftReplicaStatus joinedStatus = null!;
        // A follower learns who leads from the leader's next append, which may come a heartbeat after the entries.
        await Eventually.WaitAsync(
            async () => (joinedStatus = await Replica(joined).GetStatus()).AppliedIndex >= commit && joinedStatus.Leader is not null,
            Deadline,
            () => $"{joined} applying through {commit} and knowing the leader; it applied {joinedStatus.AppliedIndex}, leader {joinedStatus.Leader ?? "unknown"}");
        leaderStatus = await LeaderStatusAsync(live);
        Assert.Equal(leaderStatus.Voters, joinedStatus.Voters);
        Assert.Equal(leaderStatus.Node, joinedStatus.Leader);
        leader = leaderStatus.Node;

        // One follower stops: removed once dead for the grace period (4 -> 3 voters).
        var first = Initial.First(n => n != leader && n != joined);
        var clock = Stopwatch.StartNew();
        await _cluster.StopSiloAsync(_cluster.Silos.Single(s => s.Name == first));
        live.Remove(first);
        await Eventually.WaitAsync(
            async () => !(leaderStatus = await LeaderStatusAsync(live)).Voters.Contains(first),
            Deadline,
            () => $"{first} removed at {leader}; voters [{string.Join(", ", leaderStatus.Voters)}]");
        output.WriteLine($"{first} removed {clock.Elapsed} after its silo began stopping");
        Assert.True(clock.Elapsed >= Grace, $"{first} removed after {clock.Elapsed}, inside the grace period {Grace}");
        Assert.Equal(live.Order(StringComparer.Ordinal), leaderStatus.Voters);

        // Another follower stops: three voters is the floor, so it stays a voter however long it is dead.
        leader = leaderStatus.Node;
        var second = live.First(n => n != leader);
        await _cluster.StopSiloAsync(_cluster.Silos.Single(s => s.Name == second));
        var running = live.Where(n => n != second).ToList();
        RaftMembershipStatus plan = null!;
        await Eventually.WaitAsync(
            async () => (plan = await Replica((await LeaderStatusAsync(running)).Node).GetMembershipStatus()).LastReason?.Contains("is kept", StringComparison.Ordinal) == true,
            Deadline,
            () => $"{leader} holding {second} at the floor; last plan {plan.LastAction} {plan.LastActionNode} ({plan.LastReason})");
        Assert.StartsWith($"voter {second} dead since ", plan.LastReason, StringComparison.Ordinal);
        Assert.EndsWith("is kept: removing it would leave 2 voters, below the minimum of 3", plan.LastReason, StringComparison.Ordinal);
        leaderStatus = await LeaderStatusAsync(running);
        Assert.Equal(3, leaderStatus.Voters.Count);
        Assert.Contains(second, leaderStatus.Voters);

        // Two of three voters still form a quorum: writes commit.
        live.Remove(second);
        var after = await new RaftKvClient(_cluster.Client, live, "membership-client-2").PutAsync("after", "yes");
        Assert.True(after.Applied);
    }

    [Fact]
    public async Task An_operator_goes_below_the_floor_only_with_force_and_following_adds_a_live_silo_back()
    {
        var leader = await WaitForSingleLeaderAsync(Initial);
        var target = Initial.First(n => n != leader);

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => Replica(leader).RemoveMember(target, force: false));
        Assert.Equal($"Removing {target} would leave 2 voters, below raft:minimum_voters (3); pass force to do it anyway.", refused.Message);
        await Assert.ThrowsAsync<NotLeaderException>(() => Replica(target).RemoveMember(leader, force: true));

        var removed = await Replica(leader).RemoveMember(target, force: true);
        Assert.Equal(Initial.Where(n => n != target), removed.Voters);
        Assert.Empty(removed.Learners);

        // Its silo is alive, so the leader, following the cluster, brings it back: learner, then voter.
        RaftReplicaStatus status = null!;
        await Eventually.WaitAsync(
            async () => (status = await Replica(leader).GetStatus()).Voters.Contains(target),
            Deadline,
            () => $"{target} a voter again; voters [{string.Join(", ", status.Voters)}], learners [{string.Join(", ", status.Learners)}]");
        Assert.Equal(Initial, status.Voters);
    }

    private IRaftReplicaGrain Replica(string name) => _cluster.Client.GetGrain<IRaftReplicaGrain>(name);

    /// <summary>
    /// The status of whichever replica leads now (highest term): leadership may move under load, e.g. an election
    /// right after a join, and a deposed leader's view of the configuration stops advancing.
    /// </summary>
    private async Task<RaftReplicaStatus> LeaderStatusAsync(IEnumerable<string> replicas)
    {
        var statuses = await Task.WhenAll(replicas.Select(r => Replica(r).GetStatus()));
        return statuses.Where(s => s.Role == "Leader").MaxBy(s => s.Term)
            ?? throw new InvalidOperationException($"no replica leads right now among {string.Join(", ", statuses.Select(s => $"{s.Node} {s.Role} term {s.Term}"))}");
    }

    private async Task<string> WaitForSingleLeaderAsync(IReadOnlyList<string> replicas)
    {
        var leader = await RaftLeaders.WaitForSingleLeaderAsync(_cluster.Client, replicas, Deadline);
        output.WriteLine($"leader: {leader}");
        return leader;
    }
}
