using Orleans.Patterns.Raft;

namespace Orleans.Patterns.Tests.Raft.Simulation;

/// <summary>What the tests drive the cluster with, after the helpers of MIT 6.824's Raft lab tester.</summary>
internal sealed partial class SimCluster
{
    private static readonly TimeSpan AgreementTimeout = TimeSpan.FromSeconds(10);

    private int _nextProposer;

    /// <summary>The connected, live leaders with the highest term, if exactly one.</summary>
    public SimNode? Leader()
    {
        var leaders = Nodes.Where(n => n.Raft is { Role: RaftRole.Leader } && IsConnected(n)).ToList();
        if (leaders.Count == 0)
        {
            return null;
        }

        var top = leaders.Max(n => n.Raft!.Term);
        var inTop = leaders.Where(n => n.Raft!.Term == top).ToList();
        return inTop.Count == 1 ? inTop[0] : throw new InvariantViolation($"two leaders in term {top}");
    }

    /// <summary>Runs until one connected leader exists; fails after a generous multiple of the election timeout.</summary>
    public SimNode CheckOneLeader()
    {
        SimNode? leader = null;
        var found = RunUntil(() => (leader = Leader()) is not null, TimeSpan.FromSeconds(5));
        return found ? leader! : throw new InvariantViolation("no leader elected within 5 s");
    }

    /// <summary>How many servers applied <paramref name="index"/>, and what (checking they agree).</summary>
    public (int Count, string? Command) NCommitted(long index)
    {
        var count = 0;
        string? command = null;
        foreach (var node in Nodes)
        {
            if (node.AppliedLog.TryGetValue(index, out var applied))
            {
                if (command is not null && command != applied)
                {
                    throw new InvariantViolation($"index {index}: {command} and {applied} both applied");
                }

                command = applied;
                count++;
            }
        }

        return (count, command);
    }

    /// <summary>
    /// Proposes <c>key=value</c> to a leader and waits until <paramref name="expected"/> servers applied it, retrying on
    /// another leader if the first attempt is lost (6.824's <c>one()</c>). Returns the index.
    /// </summary>
    public long One(string key, string value, int expected, bool retry = true)
    {
        var command = $"{key}={value}";
        var end = Now + AgreementTimeout;
        while (Now < end)
        {
            long index = -1;
            for (var i = 0; i < Nodes.Count && index < 0; i++)
            {
                var node = Nodes[_nextProposer++ % Nodes.Count];
                if (node.Raft is { Role: RaftRole.Leader } && IsConnected(node))
                {
                    Touch(node, raft =>
                    {
                        if (raft.Propose(KvStateMachine.Command(key, value)) is RequestOutcome.Accepted accepted)
                        {
                            index = accepted.Index;
                        }
                    });
                }
            }

            if (index < 0)
            {
                RunFor(TimeSpan.FromMilliseconds(50));
                continue;
            }

            var agreed = RunUntil(() => NCommitted(index) is var n && n.Count >= expected && n.Command == command, TimeSpan.FromSeconds(2));
            if (agreed)
            {
                return index;
            }

            if (!retry)
            {
                throw new InvariantViolation($"{command} at {index} not applied by {expected} servers");
            }
        }

        throw new InvariantViolation($"{command} reached no agreement in {AgreementTimeout}");
    }

    /// <summary>Proposes on a node if it leads; returns the index or -1.</summary>
    /// <summary>
    /// Churn load: <paramref name="rounds"/> times, every running server is offered a proposal on one of three keys
    /// (<paramref name="keyPrefix"/>0..2), then up to <paramref name="maxPauseMs"/> of simulated time passes. Values
    /// count up from <paramref name="nextValue"/>; returns the next unused one. Draws from <paramref name="random"/> in
    /// a fixed order, so a seed replays the same run.
    /// </summary>
    public int ProposeEverywhere(Random random, string keyPrefix, int nextValue, int rounds, int maxPauseMs)
    {
        for (var round = 0; round < rounds; round++)
        {
            foreach (var candidate in Nodes.Where(n => n.IsUp))
            {
                Start(candidate, $"{keyPrefix}{random.Next(3)}", $"{nextValue++}");
            }

            RunFor(TimeSpan.FromMilliseconds(random.Next(5, maxPauseMs)));
        }

        return nextValue;
    }

    public long Start(SimNode node, string key, string value)
    {
        long index = -1;
        Touch(node, raft =>
        {
            if (raft.Propose(KvStateMachine.Command(key, value)) is RequestOutcome.Accepted accepted)
            {
                index = accepted.Index;
            }
        });
        return index;
    }

    public int LiveConnected => Nodes.Count(n => n.IsUp && IsConnected(n));

    /// <summary>
    /// A linearizable read through ReadIndex on <paramref name="node"/>: the value once the read is confirmed and the
    /// state machine applied its index, or null if it is not confirmed within <paramref name="timeout"/>.
    /// </summary>
    public string? Read(SimNode node, string key, TimeSpan timeout)
    {
        var requestId = ++_nextRead;
        RequestOutcome? outcome = null;
        Touch(node, raft => outcome = raft.ReadIndex(requestId));
        if (outcome is not RequestOutcome.Accepted)
        {
            return null;
        }

        string? value = null;
        var served = RunUntil(
            () =>
            {
                var state = node.ReadStates.FirstOrDefault(r => r.RequestId == requestId);
                if (state.RequestId != requestId || !node.IsUp || node.StateMachine.AppliedIndex < state.Index)
                {
                    return false;
                }

                value = node.StateMachine.Values.GetValueOrDefault(key, "");
                return true;
            },
            timeout);
        return served ? value : null;
    }

    /// <summary>Runs a membership request on the current leader until it is accepted.</summary>
    public long ChangeMembership(Func<RaftNode, RequestOutcome> change)
    {
        long index = -1;
        var done = RunUntil(
            () =>
            {
                if (Leader() is { } leader)
                {
                    Touch(leader, raft =>
                    {
                        if (change(raft) is RequestOutcome.Accepted accepted)
                        {
                            index = accepted.Index;
                        }
                    });
                }

                if (index < 0)
                {
                    RunFor(TimeSpan.FromMilliseconds(20));
                }

                return index >= 0;
            },
            TimeSpan.FromSeconds(10));
        return done ? index : throw new InvariantViolation("membership change not accepted within 10 s");
    }

    private long _nextRead;
}
