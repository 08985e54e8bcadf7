using Orleans.Patterns.Raft;
using Orleans.Patterns.Raft.Membership;

namespace Orleans.Patterns.Tests.Raft.Membership;

/// <summary>
/// The planner driving real <see cref="RaftNode"/>s on a lossless, synchronous in-memory network: the loop a leader's
/// host runs (observe, plan, apply one change, drain), without Orleans.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ReplicaSetFollowingTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(10);
    private static readonly NodeId[] Initial = [new("n1"), new("n2"), new("n3")];
    private static readonly ClusterConfig Bootstrap = new([.. Initial], []);
    private readonly Dictionary<NodeId, RaftNode> _nodes = [];
    private readonly HashSet<NodeId> _down = [];
    private TimeSpan _now;

    [Fact]
    public void A_replica_outside_the_bootstrap_configuration_never_campaigns()
    {
        var joiner = Start(new NodeId("n4"));

        for (var i = 0; i < 1000; i++)
        {
            Advance();
        }

        Assert.Equal(RaftRole.Follower, joiner.Role);
        Assert.Equal(0, joiner.Term);
        Assert.Null(joiner.Leader);
    }

    [Fact]
    public void A_joining_replica_becomes_learner_then_voter_and_a_dead_one_is_removed_after_the_grace_period()
    {
        foreach (var id in Initial)
        {
            Start(id);
        }

        var leader = RunUntil(() => LeaderOrNull() is not null, "a leader")!;
        var n4 = Start(new NodeId("n4"));
        var hosts = Initial.Append(n4.Id).ToDictionary(n => n, _ => new HostObservation(HostLiveness.Alive, TimeSpan.Zero));
        var planner = new ReplicaSetPlanner(new ReplicaSetPlannerOptions
        {
            RemovalGracePeriod = TimeSpan.FromSeconds(2),
            MinimumVoters = 3,
            CatchUpLag = 0,
        });
        var actions = new List<ReplicaSetAction>();

        RunUntil(() => Follow(planner, hosts, actions) && leader.Config.Voters.Contains(n4.Id), "n4 a voter");
        Assert.Equal(
            [ReplicaSetActionKind.AddLearner, ReplicaSetActionKind.PromoteToVoter],
            Changes(actions).Select(a => a.Kind).Distinct());
        Assert.All(Changes(actions), a => Assert.Equal(n4.Id, a.Node));
        RunUntil(() => n4.CommitIndex == leader.CommitIndex && n4.Config.Voters.SetEquals(leader.Config.Voters), "n4 up to date");
        Assert.Equal(4, leader.Config.Voters.Count);

        // A follower dies: it stays a voter through the grace period, then goes.
        var victim = Initial.First(n => n != leader.Id);
        _down.Add(victim);
        var diedAt = _now;
        hosts[victim] = new HostObservation(HostLiveness.Dead, diedAt);
        actions.Clear();
        RunUntil(() => Follow(planner, hosts, actions) && !leader.Config.Contains(victim), "the dead voter removed");
        Assert.Equal(new ReplicaSetAction(ReplicaSetActionKind.RemoveNode, victim, $"voter {victim} dead for 00:00:02"), Changes(actions).Distinct().Single());
        Assert.True(_now - diedAt >= TimeSpan.FromSeconds(2), $"removed after {_now - diedAt}");

        // A second one dies: three voters is the floor, so it stays however long it is dead.
        var second = leader.Config.Voters.First(n => n != leader.Id);
        _down.Add(second);
        hosts[second] = new HostObservation(HostLiveness.Dead, _now);
        actions.Clear();
        for (var i = 0; i < 1000; i++)
        {
            Follow(planner, hosts, actions);
            Advance();
        }

        Assert.Equal(3, leader.Config.Voters.Count);
        Assert.Contains(second, leader.Config.Voters);
        Assert.Equal(ReplicaSetActionKind.None, actions.Last().Kind);
        Assert.StartsWith($"voter {second} dead since ", actions.Last().Reason, StringComparison.Ordinal);
    }

    private static IEnumerable<ReplicaSetAction> Changes(List<ReplicaSetAction> actions) =>
        actions.Where(a => a.Kind != ReplicaSetActionKind.None);

    /// <summary>One planning round on the leader; true when the planner wants nothing (or the core refused for now).</summary>
    private bool Follow(ReplicaSetPlanner planner, Dictionary<NodeId, HostObservation> hosts, List<ReplicaSetAction> actions)
    {
        var leader = LeaderOrNull();
        if (leader is null)
        {
            return false;
        }

        var match = leader.Config.Voters.Union(leader.Config.Learners)
            .Select(n => (n, m: leader.MatchIndexOf(n)))
            .Where(x => x.m is not null)
            .ToDictionary(x => x.n, x => x.m!.Value);
        var action = planner.Plan(new ReplicaSetView(leader.Config, leader.Id, hosts, match, leader.LastIndex, _now));
        actions.Add(action);
        _ = action.Kind switch
        {
            ReplicaSetActionKind.AddLearner => leader.AddLearner(action.Node!.Value),
            ReplicaSetActionKind.PromoteToVoter => leader.PromoteToVoter(action.Node!.Value),
            ReplicaSetActionKind.RemoveNode => leader.RemoveNode(action.Node!.Value),
            _ => null,
        };
        Pump();
        return action.Kind == ReplicaSetActionKind.None;
    }

    private RaftNode Start(NodeId id)
    {
        var node = new RaftNode(id, Bootstrap, new RecoveredState(default, null, []), new RaftOptions(), new Random(int.Parse(id.Value[1..], System.Globalization.CultureInfo.InvariantCulture)), _now);
        _nodes[id] = node;
        return node;
    }

    private RaftNode? LeaderOrNull() =>
        _nodes.Values.Where(n => !_down.Contains(n.Id) && n.Role == RaftRole.Leader).MaxBy(n => n.Term);

    private RaftNode? RunUntil(Func<bool> condition, string what)
    {
        for (var i = 0; i < 10_000; i++)
        {
            if (condition())
            {
                return LeaderOrNull();
            }

            Advance();
        }

        throw new TimeoutException($"{what} not reached by {_now}");
    }

    private void Advance()
    {
        _now += Tick;
        foreach (var node in _nodes.Values.Where(n => !_down.Contains(n.Id)))
        {
            node.AdvanceClock(_now);
        }

        Pump();
    }

    /// <summary>Delivers until quiet; a down node neither sends nor receives.</summary>
    private void Pump()
    {
        bool any;
        do
        {
            any = false;
            foreach (var node in _nodes.Values.Where(n => !_down.Contains(n.Id)).ToList())
            {
                while (node.HasReady)
                {
                    any = true;
                    var ready = node.GetReady();
                    node.Advance(ready);
                    foreach (var message in ready.Messages)
                    {
                        if (!_down.Contains(message.To) && _nodes.TryGetValue(message.To, out var to))
                        {
                            to.Step(message);
                        }
                    }
                }
            }
        }
        while (any);
    }
}
