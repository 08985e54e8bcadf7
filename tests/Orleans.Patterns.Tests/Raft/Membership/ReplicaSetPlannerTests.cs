using System.Collections.Immutable;
using Orleans.Patterns.Raft;
using Orleans.Patterns.Raft.Membership;

namespace Orleans.Patterns.Tests.Raft.Membership;

[Trait("Category", "Unit")]
public sealed class ReplicaSetPlannerTests
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Now = TimeSpan.FromMinutes(10);
    private static readonly NodeId A = new("a");
    private static readonly NodeId B = new("b");
    private static readonly NodeId C = new("c");
    private static readonly NodeId D = new("d");
    private static readonly NodeId E = new("e");

    private static readonly ReplicaSetPlanner Planner = new(new ReplicaSetPlannerOptions
    {
        RemovalGracePeriod = Grace,
        MinimumVoters = 2,
        CatchUpLag = 10,
    });

    [Fact]
    public void A_set_that_matches_the_cluster_needs_nothing()
    {
        var action = Planner.Plan(View(Config([A, B, C]), Alive(A, B, C)));

        Assert.Equal(ReplicaSetAction.None("no change needed"), action);
    }

    [Fact]
    public void An_alive_host_outside_the_config_is_added_as_a_learner_lowest_name_first()
    {
        var action = Planner.Plan(View(Config([A, B, C]), Alive(A, B, C, E, D)));

        Assert.Equal(ReplicaSetActionKind.AddLearner, action.Kind);
        Assert.Equal(D, action.Node);
    }

    [Fact]
    public void A_learner_within_the_catch_up_lag_is_promoted()
    {
        var view = View(Config([A, B, C], [D]), Alive(A, B, C, D), match: new() { [D] = 90 }, lastIndex: 100);

        var action = Planner.Plan(view);

        Assert.Equal(new ReplicaSetAction(ReplicaSetActionKind.PromoteToVoter, D, "d is caught up (90 of 100, allowed lag 10)"), action);
    }

    [Fact]
    public void A_learner_further_behind_than_the_lag_waits_and_blocks_nothing_else()
    {
        var view = View(Config([A, B, C], [D]), Alive(A, B, C, D, E), match: new() { [D] = 89 }, lastIndex: 100);

        var action = Planner.Plan(view);

        Assert.Equal(ReplicaSetActionKind.AddLearner, action.Kind);
        Assert.Equal(E, action.Node);
    }

    [Fact]
    public void A_learner_that_acknowledged_nothing_or_whose_host_died_is_not_promoted()
    {
        var hosts = Alive(A, B, C);
        hosts[E] = new HostObservation(HostLiveness.Dead, Now - TimeSpan.FromSeconds(1));
        var view = View(Config([A, B, C], [D, E]), hosts, match: new() { [E] = 100 }, lastIndex: 100);

        Assert.Equal(ReplicaSetAction.None("no change needed"), Planner.Plan(view));
    }

    [Fact]
    public void A_voter_dead_exactly_the_grace_period_is_removed_one_tick_earlier_it_is_not()
    {
        var hosts = Alive(A, B, C, D);
        hosts[C] = new HostObservation(HostLiveness.Dead, Now - Grace);
        var config = Config([A, B, C, D]);

        Assert.Equal(
            new ReplicaSetAction(ReplicaSetActionKind.RemoveNode, C, "voter c dead for 00:00:30"),
            Planner.Plan(View(config, hosts)));

        hosts[C] = new HostObservation(HostLiveness.Dead, Now - Grace + TimeSpan.FromTicks(1));
        Assert.Equal(ReplicaSetActionKind.None, Planner.Plan(View(config, hosts)).Kind);
    }

    [Fact]
    public void Removal_stops_at_the_voter_floor_and_says_why()
    {
        var hosts = Alive(A);
        hosts[B] = new HostObservation(HostLiveness.Dead, Now - TimeSpan.FromMinutes(5));

        var action = Planner.Plan(View(Config([A, B]), hosts));

        Assert.Equal(
            ReplicaSetAction.None("voter b dead since 00:05:00 is kept: removing it would leave 1 voters, below the minimum of 2"),
            action);
    }

    [Fact]
    public void A_dead_learner_is_removed_even_at_the_voter_floor()
    {
        var hosts = Alive(A, B);
        hosts[C] = new HostObservation(HostLiveness.Dead, Now - Grace);

        var action = Planner.Plan(View(Config([A, B], [C]), hosts));

        Assert.Equal(new ReplicaSetAction(ReplicaSetActionKind.RemoveNode, C, "learner c dead for 00:00:30"), action);
    }

    [Fact]
    public void Held_at_the_floor_a_new_host_is_still_added_so_the_set_can_recover()
    {
        var hosts = Alive(A, D);
        hosts[B] = new HostObservation(HostLiveness.Dead, Now - TimeSpan.FromHours(1));

        var action = Planner.Plan(View(Config([A, B]), hosts));

        Assert.Equal(ReplicaSetActionKind.AddLearner, action.Kind);
        Assert.Equal(D, action.Node);
    }

    [Fact]
    public void The_leader_and_hosts_of_unknown_state_are_never_removed()
    {
        // b is absent from the view (joining, shutting down, or never seen): unknown, so left alone.
        var hosts = Alive(C);
        hosts[A] = new HostObservation(HostLiveness.Dead, Now - TimeSpan.FromHours(1));

        var action = Planner.Plan(View(Config([A, B, C]), hosts, leader: A));

        Assert.Equal(ReplicaSetAction.None("no change needed"), action);
    }

    [Fact]
    public void Priority_is_promote_then_remove_learner_then_remove_voter_then_add()
    {
        var hosts = Alive(A, B, E);
        hosts[C] = new HostObservation(HostLiveness.Dead, Now - Grace);
        hosts[D] = new HostObservation(HostLiveness.Dead, Now - Grace);
        var caughtUp = new Dictionary<NodeId, long> { [B] = 100 };

        Assert.Equal(B, Planner.Plan(View(Config([A, C], [B, D]), hosts, caughtUp, 100)).Node);
        Assert.Equal(D, Planner.Plan(View(Config([A, B, C], [D]), hosts)).Node);
        Assert.Equal(C, Planner.Plan(View(Config([A, B, C]), hosts)).Node);
        Assert.Equal(E, Planner.Plan(View(Config([A, B]), hosts)).Node);
    }

    [Fact]
    public void The_floor_counts_voters_only_and_is_checked_per_removal()
    {
        var planner = new ReplicaSetPlanner(new ReplicaSetPlannerOptions { RemovalGracePeriod = Grace, MinimumVoters = 3 });
        var hosts = Alive(A, B);
        hosts[D] = new HostObservation(HostLiveness.Dead, Now - Grace);
        hosts[E] = new HostObservation(HostLiveness.Dead, Now - Grace);

        // c is a voter of unknown state: it counts towards the floor, it is not removed.
        Assert.Equal(D, planner.Plan(View(Config([A, B, C, D, E]), hosts)).Node);
        Assert.Equal(E, planner.Plan(View(Config([A, B, C, E]), hosts)).Node);
        Assert.Equal(ReplicaSetActionKind.None, planner.Plan(View(Config([A, B, C]), hosts)).Kind);
        Assert.Equal(
            ReplicaSetAction.None("voter e dead since 00:09:30 is kept: removing it would leave 2 voters, below the minimum of 3"),
            planner.Plan(View(Config([A, B, E]), hosts)));
    }

    [Fact]
    public void Options_out_of_range_are_refused_by_name()
    {
        Assert.Equal("RemovalGracePeriod", Assert.Throws<ArgumentOutOfRangeException>(
            () => new ReplicaSetPlanner(new ReplicaSetPlannerOptions { RemovalGracePeriod = TimeSpan.Zero })).ParamName);
        Assert.Equal("MinimumVoters", Assert.Throws<ArgumentOutOfRangeException>(
            () => new ReplicaSetPlanner(new ReplicaSetPlannerOptions { MinimumVoters = 0 })).ParamName);
        Assert.Equal("CatchUpLag", Assert.Throws<ArgumentOutOfRangeException>(
            () => new ReplicaSetPlanner(new ReplicaSetPlannerOptions { CatchUpLag = -1 })).ParamName);
        Assert.Equal(2, ReplicaSetPlannerOptions.MajorityOf(3));
        Assert.Equal(3, ReplicaSetPlannerOptions.MajorityOf(4));
        Assert.Equal(3, ReplicaSetPlannerOptions.MajorityOf(5));
    }

    private static ClusterConfig Config(NodeId[] voters, NodeId[]? learners = null) =>
        new([.. voters], learners is null ? [] : [.. learners]);

    private static Dictionary<NodeId, HostObservation> Alive(params NodeId[] hosts) =>
        hosts.ToDictionary(h => h, _ => new HostObservation(HostLiveness.Alive, TimeSpan.Zero));

    private static ReplicaSetView View(
        ClusterConfig config,
        Dictionary<NodeId, HostObservation> hosts,
        Dictionary<NodeId, long>? match = null,
        long lastIndex = 100,
        NodeId? leader = null) =>
        new(config, leader ?? config.Voters.Min, hosts.ToImmutableDictionary(), match ?? [], lastIndex, Now);
}
