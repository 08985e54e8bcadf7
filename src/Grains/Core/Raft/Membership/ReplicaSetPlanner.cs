namespace Orleans.Patterns.Raft.Membership;

/// <summary>Whether a host is up, as the cluster's failure detector last reported it.</summary>
public enum HostLiveness
{
    Alive,
    Dead,
}

/// <summary>A host's liveness and the time this observer first saw it in that state (on the planner's clock).</summary>
public readonly record struct HostObservation(HostLiveness Liveness, TimeSpan Since);

/// <summary>What the replica set should look like relative to the cluster, and how cautiously to get there.</summary>
public sealed record ReplicaSetPlannerOptions
{
    /// <summary>
    /// A member seen dead for at least this long is removed. Shorter than a restart, and a restarted host would be
    /// removed and re-added from scratch; longer, and the dead voter keeps counting against the quorum.
    /// </summary>
    public TimeSpan RemovalGracePeriod { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Automatic removals never leave fewer voters than this; only an operator goes below it.</summary>
    public int MinimumVoters { get; init; } = 1;

    /// <summary>A learner whose match index is at most this many entries behind the leader's last index is promoted.</summary>
    public long CatchUpLag { get; init; } = 64;

    /// <summary>The majority of <paramref name="configuredVoters"/>: the default <see cref="MinimumVoters"/>.</summary>
    public static int MajorityOf(int configuredVoters) => (configuredVoters / 2) + 1;

    /// <summary>Throws naming the first option that is out of range.</summary>
    public void Validate()
    {
        if (RemovalGracePeriod <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(RemovalGracePeriod), RemovalGracePeriod, "must be positive");
        }

        if (MinimumVoters < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MinimumVoters), MinimumVoters, "must be at least 1");
        }

        if (CatchUpLag < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(CatchUpLag), CatchUpLag, "must not be negative");
        }
    }
}

/// <summary>
/// The leader's view at one instant. <see cref="Hosts"/> holds only hosts whose state is known; a host that is
/// joining, shutting down, or not in the cluster's membership at all is absent, and the planner leaves it alone.
/// <see cref="MatchIndex"/> is the leader's matchIndex per follower (Raft Figure 2); a learner missing from it has
/// acknowledged nothing yet.
/// </summary>
public sealed record ReplicaSetView(
    ClusterConfig Config,
    NodeId Leader,
    IReadOnlyDictionary<NodeId, HostObservation> Hosts,
    IReadOnlyDictionary<NodeId, long> MatchIndex,
    long LastIndex,
    TimeSpan Now);

/// <summary>The one change the planner asks for next.</summary>
public enum ReplicaSetActionKind
{
    None,
    AddLearner,
    PromoteToVoter,
    RemoveNode,
}

/// <summary>A planned change and why; <see cref="Node"/> is null exactly when <see cref="Kind"/> is None.</summary>
public sealed record ReplicaSetAction(ReplicaSetActionKind Kind, NodeId? Node, string Reason)
{
    public static ReplicaSetAction None(string reason) => new(ReplicaSetActionKind.None, null, reason);
}

/// <summary>
/// Decides how the Raft configuration should follow the cluster's hosts: a host that joins becomes a learner, then a
/// voter once caught up; a member dead longer than the grace period is removed, but never below the voter floor.
/// Pure: no clock, no I/O; the host supplies the view and applies the action through <see cref="RaftNode"/>.
/// </summary>
/// <remarks>
/// <para>
/// One action per call, because Raft changes membership one server at a time (thesis §4.1): the core refuses a change
/// while the previous one is uncommitted, and the host simply asks again later. Priority, first match wins, ties
/// broken by ordinal node name so the same view always yields the same action:
/// </para>
/// <list type="number">
/// <item>Promote an alive learner that is caught up within <see cref="ReplicaSetPlannerOptions.CatchUpLag"/>. It
/// finishes a change already begun, and a caught-up voter raises fault tolerance at no availability cost
/// (thesis §4.2.1: a new server is added as a non-voter first precisely so that it does not stall commitment
/// while it catches up).</item>
/// <item>Remove a member dead for at least the grace period: learners first (they cost only the leader's bandwidth),
/// then voters, as long as at least <see cref="ReplicaSetPlannerOptions.MinimumVoters"/> voters remain. A dead voter
/// counts towards the quorum without ever answering, so removing it shrinks the majority the live ones must form.
/// The floor exists because each automatic removal also lowers how many copies of a committed entry the cluster
/// promises; a cascade of failures must not silently shrink a five-voter group to one.</item>
/// <item>Add an alive host that is not a member, as a learner (thesis §4.2.1).</item>
/// </list>
/// <para>
/// The leader itself is never removed: it is alive by construction, and removing the leader is a different procedure
/// (thesis §4.2.2). A host restarted within the grace period is alive again before it is removed, so it keeps its
/// place and its log. A learner on a dead host is not promoted however caught up it looked.
/// </para>
/// </remarks>
public sealed class ReplicaSetPlanner
{
    private readonly ReplicaSetPlannerOptions _options;

    public ReplicaSetPlanner(ReplicaSetPlannerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
    }

    public ReplicaSetAction Plan(ReplicaSetView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var config = view.Config;

        foreach (var learner in config.Learners)
        {
            if (IsAlive(view, learner) && view.MatchIndex.TryGetValue(learner, out var match) && view.LastIndex - match <= _options.CatchUpLag)
            {
                return new ReplicaSetAction(
                    ReplicaSetActionKind.PromoteToVoter,
                    learner,
                    $"{learner} is caught up ({match} of {view.LastIndex}, allowed lag {_options.CatchUpLag})");
            }
        }

        foreach (var learner in config.Learners)
        {
            if (DeadLongEnough(view, learner, out var deadFor))
            {
                return new ReplicaSetAction(ReplicaSetActionKind.RemoveNode, learner, $"learner {learner} dead for {deadFor}");
            }
        }

        string? held = null;
        foreach (var voter in config.Voters)
        {
            if (voter == view.Leader || !DeadLongEnough(view, voter, out var deadFor))
            {
                continue;
            }

            if (config.Voters.Count - 1 < _options.MinimumVoters)
            {
                held ??= $"voter {voter} dead since {view.Hosts[voter].Since} is kept: removing it would leave {config.Voters.Count - 1} voters, below the minimum of {_options.MinimumVoters}";
                continue;
            }

            return new ReplicaSetAction(ReplicaSetActionKind.RemoveNode, voter, $"voter {voter} dead for {deadFor}");
        }

        foreach (var (host, observation) in view.Hosts.OrderBy(h => h.Key))
        {
            if (observation.Liveness == HostLiveness.Alive && !config.Contains(host))
            {
                return new ReplicaSetAction(ReplicaSetActionKind.AddLearner, host, $"{host} is alive and not a member");
            }
        }

        return ReplicaSetAction.None(held ?? "no change needed");
    }

    private static bool IsAlive(ReplicaSetView view, NodeId node) =>
        view.Hosts.TryGetValue(node, out var observation) && observation.Liveness == HostLiveness.Alive;

    private bool DeadLongEnough(ReplicaSetView view, NodeId node, out TimeSpan deadFor)
    {
        deadFor = view.Hosts.TryGetValue(node, out var observation) && observation.Liveness == HostLiveness.Dead
            ? view.Now - observation.Since
            : TimeSpan.MinValue;
        return deadFor >= _options.RemovalGracePeriod;
    }
}
