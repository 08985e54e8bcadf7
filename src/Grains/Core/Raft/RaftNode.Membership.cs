namespace Orleans.Patterns.Raft;

/// <summary>Single-server membership changes (thesis §4.1–4.2) and leadership transfer (thesis §3.10).</summary>
public sealed partial class RaftNode
{
    /// <summary>Adds a non-voting member that receives the log, so it can catch up before it counts (thesis §4.2.1).</summary>
    public RequestOutcome AddLearner(NodeId node) =>
        ChangeConfig(config => config.Contains(node) ? null : config with { Learners = config.Learners.Add(node) });

    /// <summary>Makes a learner a voter, once it holds every committed entry.</summary>
    public RequestOutcome PromoteToVoter(NodeId node)
    {
        if (_role is LeaderState leader
            && leader.Peers.TryGetValue(node, out var progress)
            && _config.Learners.Contains(node)
            && progress.Match < _commit)
        {
            return new RequestOutcome.Rejected($"{node} has not caught up ({progress.Match} of {_commit})");
        }

        return ChangeConfig(config => config.Learners.Contains(node)
            ? new ClusterConfig(config.Voters.Add(node), config.Learners.Remove(node))
            : null);
    }

    /// <summary>Removes a voter or a learner. A leader that removes itself leads until the change commits, then steps down.</summary>
    public RequestOutcome RemoveNode(NodeId node) =>
        ChangeConfig(config => !config.Contains(node) || (config.Voters.Count == 1 && config.Voters.Contains(node))
            ? null
            : new ClusterConfig(config.Voters.Remove(node), config.Learners.Remove(node)));

    /// <summary>
    /// The leader's match index for <paramref name="node"/> (Raft Figure 2, matchIndex): how much of the log it is known
    /// to hold. Null on a non-leader or for a node the leader does not replicate to. A host deciding when a learner has
    /// caught up reads it (thesis §4.2.1).
    /// </summary>
    public long? MatchIndexOf(NodeId node) =>
        _role is LeaderState leader && leader.Peers.TryGetValue(node, out var progress) ? progress.Match : null;

    /// <summary>
    /// Hands leadership to <paramref name="target"/>: new proposals are refused, the target is brought up to date,
    /// then told to campaign at once. Abandoned after an election timeout.
    /// </summary>
    public RequestOutcome TransferLeadership(NodeId target)
    {
        if (_role is not LeaderState leader)
        {
            return new RequestOutcome.NotLeader(Leader);
        }

        if (target == Id || !IsVoter(target) || !leader.Peers.TryGetValue(target, out var progress))
        {
            return new RequestOutcome.Rejected($"{target} is not another voter");
        }

        leader.Transferee = target;
        leader.TransferDeadline = _now + _options.ElectionTimeout;
        leader.LeaseForfeited = true;
        if (progress.Match == _log.LastIndex)
        {
            Send(new TimeoutNow(Id, target, _term));
        }
        else
        {
            SendAppend(target, progress, sendIfEmpty: false);
        }

        return new RequestOutcome.Accepted(_log.LastIndex, _term);
    }

    private RequestOutcome ChangeConfig(Func<ClusterConfig, ClusterConfig?> change)
    {
        if (_role is not LeaderState leader)
        {
            return new RequestOutcome.NotLeader(Leader);
        }

        if (leader.Transferee is { } transferee)
        {
            return new RequestOutcome.Transferring(transferee);
        }

        if (leader.PendingConfigIndex > _commit)
        {
            // Thesis §4.1: one change at a time; the next waits until the previous one (or the term's no-op) commits.
            return new RequestOutcome.Rejected("the previous configuration change is not committed yet");
        }

        if (change(_config) is not { } next)
        {
            return new RequestOutcome.Rejected("the change does not apply to the current configuration");
        }

        var entry = AppendEntry(EntryKind.Configuration, next.Encode());
        leader.PendingConfigIndex = entry.Index;
        leader.AppendPending = true;
        return new RequestOutcome.Accepted(entry.Index, entry.Term);
    }

    /// <summary>A configuration is in force as soon as it is in the log, committed or not (thesis §4.1).</summary>
    private void SetConfig(ClusterConfig config, long index)
    {
        _config = config;
        _configIndex = index;
        if (_role is not LeaderState leader)
        {
            return;
        }

        foreach (var node in config.Voters.Union(config.Learners))
        {
            if (node != Id && !leader.Peers.ContainsKey(node))
            {
                // Probe from the configuration entry itself, so the new member hears from the leader at once.
                leader.Peers[node] = new Progress(_log.LastIndex, _options.MaxInflightMessages);
            }
        }

        foreach (var node in leader.Peers.Keys.Where(n => !config.Contains(n)).ToList())
        {
            leader.Peers.Remove(node);
        }

        if (leader.Transferee is { } transferee && !config.Voters.Contains(transferee))
        {
            leader.Transferee = null;
        }
    }
}
