using System.Collections.Immutable;
using Orleans.Patterns.Raft;

namespace Orleans.Patterns.Tests.Raft.Simulation;

/// <summary>
/// A deterministic discrete-event simulation of a Raft group: one seeded <see cref="Random"/> decides every delay,
/// loss, duplication, election timeout and fault, and a logical clock replaces time, so a seed replays a run exactly.
/// Each node's Ready is persisted after a disk delay; its messages leave only then, and a crash in between loses both.
/// </summary>
internal sealed partial class SimCluster
{
    private readonly PriorityQueue<Action, (TimeSpan At, long Seq)> _events = new();
    private readonly Dictionary<NodeId, int> _partition = [];
    private readonly Queue<string> _trace = new();
    private readonly Dictionary<(NodeId From, NodeId To), TimeSpan> _lastDelivery = [];
    private long _seq;
    private long _steps;

    // voters: how many of the nodes form the initial configuration; the others start outside it and learn the
    // configuration from the leader once added (0: all of them).
    public SimCluster(int nodes, int seed, SimNetwork network, RaftOptions? options = null, int snapshotEvery = 0, int voters = 0)
    {
        Random = new Random(seed);
        Network = network;
        Options = options ?? new RaftOptions();
        SnapshotEvery = snapshotEvery;
        Nodes = [.. Enumerable.Range(1, nodes).Select(i => new SimNode(new NodeId($"n{i}")))];
        Bootstrap = new ClusterConfig([.. Nodes.Take(voters > 0 ? voters : nodes).Select(n => n.Id)], []);
        foreach (var node in Nodes)
        {
            Start(node);
        }
    }

    public Random Random { get; }

    public SimNetwork Network { get; set; }

    public RaftOptions Options { get; }

    public int SnapshotEvery { get; }

    public IReadOnlyList<SimNode> Nodes { get; }

    public ClusterConfig Bootstrap { get; }

    public InvariantChecker Checker { get; } = new();

    public TimeSpan Now { get; private set; }

    /// <summary>Off for membership scenarios, where "a majority of the voters" is a moving target.</summary>
    public bool CheckDurability { get; set; } = true;

    public long MessagesSent { get; private set; }

    public Dictionary<string, long> MessageCounts { get; } = [];

    /// <summary>Extra one-way delay for messages to a node: a slow follower.</summary>
    public Dictionary<NodeId, TimeSpan> SlowLinks { get; } = [];

    /// <summary>A test's hand on the wire: for each message sent, an extra delay, or null to drop it.</summary>
    public Func<RaftMessage, TimeSpan?>? Interfere { get; set; }

    /// <summary>AppendEntries with entries on the wire to each node, now and at most.</summary>
    public Dictionary<NodeId, int> InFlightAppends { get; } = [];

    public Dictionary<NodeId, int> MaxInFlightAppends { get; } = [];

    public SimNode this[int index] => Nodes[index];

    public string RecentTrace => string.Join('\n', _trace);

    // --- faults -----------------------------------------------------------------------------------------------

    public void Crash(SimNode node)
    {
        node.Raft = null;
        node.Storage.LoseUnsynced();
        node.Epoch++;
        node.Persisting = false;
        node.TimerAt = TimeSpan.MaxValue;
        Trace($"crash {node.Id}");
    }

    public void Restart(SimNode node)
    {
        if (node.IsUp)
        {
            Crash(node);
        }

        Start(node);
        Trace($"restart {node.Id}");
    }

    /// <summary>Only nodes in the same group talk to each other; everyone else is one more group.</summary>
    public void Partition(params SimNode[][] groups)
    {
        _partition.Clear();
        for (var g = 0; g < groups.Length; g++)
        {
            foreach (var node in groups[g])
            {
                _partition[node.Id] = g + 1;
            }
        }

        Trace("partition " + string.Join(" | ", groups.Select(g => string.Join(",", g.Select(n => n.Id)))));
    }

    public void Disconnect(SimNode node)
    {
        _partition[node.Id] = -1 - Nodes.ToList().IndexOf(node);
        Trace($"disconnect {node.Id}");
    }

    public void Connect(SimNode node)
    {
        _partition.Remove(node.Id);
        Trace($"connect {node.Id}");
    }

    public void Heal()
    {
        _partition.Clear();
        Trace("heal");
    }

    /// <summary>The end of a churn run: every server up and connected, and the network reliable, so agreement must follow.</summary>
    public void RestoreAll()
    {
        foreach (var node in Nodes)
        {
            if (!node.IsUp)
            {
                Restart(node);
            }

            Connect(node);
        }

        Network = SimNetwork.Reliable;
    }

    public bool Connected(NodeId a, NodeId b) => _partition.GetValueOrDefault(a) == _partition.GetValueOrDefault(b);

    public bool IsConnected(SimNode node) => _partition.GetValueOrDefault(node.Id) >= 0;

    // --- running ----------------------------------------------------------------------------------------------

    public void RunFor(TimeSpan duration) => RunUntil(() => false, duration);

    /// <summary>Runs events until <paramref name="done"/> holds (checked after each event) or the time is up.</summary>
    public bool RunUntil(Func<bool> done, TimeSpan timeout)
    {
        var end = Now + timeout;
        while (!done())
        {
            if (!_events.TryPeek(out _, out var key) || key.At > end)
            {
                Now = end;
                return done();
            }

            var action = _events.Dequeue();
            Now = key.At;
            action();
            if (++_steps % 256 == 0 && CheckDurability)
            {
                Checker.CheckDurable(Bootstrap.Voters, id => Nodes.First(n => n.Id == id).Storage, window: 512);
            }
        }

        return true;
    }

    /// <summary>Gives input to a live node at the current time and then drains its work.</summary>
    public void Touch(SimNode node, Action<RaftNode> input)
    {
        if (node.Raft is not { } raft)
        {
            return;
        }

        raft.AdvanceClock(Now);
        input(raft);
        if (node.Persisting)
        {
            // As the grain does: a leader's new appends leave during the write, and what the input committed and this
            // disk already holds is applied during it.
            SendAll(raft.TakeAppendsBeforePersist());
            ApplyEntries(node, raft.TakeStableCommitted());
        }

        Pump(node);
    }

    private void Start(SimNode node)
    {
        var recovered = node.Storage.Recover();
        node.StateMachine.Restore(recovered.Snapshot);
        var bootstrap = Bootstrap.Contains(node.Id) ? Bootstrap : ClusterConfig.Empty;
        node.Raft = new RaftNode(node.Id, bootstrap, recovered, Options, new Random(Random.Next()), Now);
        Pump(node);
    }

    private void Schedule(TimeSpan at, Action action) => _events.Enqueue(action, (at, _seq++));

    private void Pump(SimNode node)
    {
        if (node.Raft is not { } raft)
        {
            return;
        }

        if (raft.HasReady && !node.Persisting)
        {
            var ready = raft.GetReady();
            if (ready.SoftState is { Role: RaftRole.Leader } soft)
            {
                Trace($"{node.Id} leads term {soft.Term}");
                Checker.OnLeader(node.Id, soft.Term, raft);
            }

            if (ready.SendBeforePersist)
            {
                // Thesis §10.2.1: a leader's appends leave now; a crash before the disk write completes loses them here.
                SendAll(ready.Messages);
            }

            if (ready.ApplyBeforePersist)
            {
                ApplyAll(node, ready); // committed entries already on this disk: applied while the write runs
            }

            node.Persisting = true;
            var epoch = node.Epoch;
            // A commit index alone is written without an fsync, and the grain does not wait for it.
            var persistAt = ready.ToPersist.IsEmpty || !ready.ToPersist.MustSync ? Now : Now + Network.DiskDelay;
            Schedule(persistAt, () =>
            {
                if (node.Epoch == epoch)
                {
                    Complete(node, ready);
                }
            });
        }

        ScheduleTimer(node);
    }

    /// <summary>The disk write finished: now, and only now, the Ready's messages leave and its entries are applied.</summary>
    private void Complete(SimNode node, Ready ready)
    {
        var raft = node.Raft!;
        node.Storage.Apply(ready.ToPersist);
        Checker.OnPersisted(node.Id, node.Storage, ready.ToPersist.Entries);
        if (ready.ToPersist.Snapshot is { } snapshot)
        {
            node.StateMachine.Restore(snapshot);
        }

        if (!ready.SendBeforePersist)
        {
            SendAll(ready.Messages);
        }

        if (!ready.ApplyBeforePersist)
        {
            ApplyAll(node, ready);
        }

        if (SnapshotEvery > 0
            && node.StateMachine.AppliedIndex - node.Storage.SnapshotIndex >= SnapshotEvery
            && raft.SnapshotMetadataAt(node.StateMachine.AppliedIndex) is { } metadata)
        {
            var taken = new Snapshot(metadata, node.StateMachine.Save());
            node.Storage.Compact(taken);
            raft.Compact(taken);
        }

        node.Persisting = false;
        raft.Advance(ready);
        raft.AdvanceClock(Now);
        Pump(node);
    }

    private void ApplyAll(SimNode node, Ready ready)
    {
        ApplyEntries(node, ready.CommittedEntries);
        node.ReadStates.AddRange(ready.ReadStates);
    }

    private void ApplyEntries(SimNode node, IReadOnlyList<LogEntry> entries)
    {
        foreach (var entry in entries)
        {
            node.StateMachine.Apply(entry);
            Checker.OnApplied(node.Id, entry);
            node.AppliedLog[entry.Index] = KvStateMachine.Describe(entry);
        }
    }

    private void SendAll(IReadOnlyList<RaftMessage> messages)
    {
        foreach (var message in messages)
        {
            SendMessage(message);
        }
    }

    private void SendMessage(RaftMessage message)
    {
        MessagesSent++;
        var kind = message is AppendEntries { Entries.Count: 0 } ? "EmptyAppend" : message.GetType().Name;
        MessageCounts[kind] = MessageCounts.GetValueOrDefault(kind) + 1;
        if (!Connected(message.From, message.To) || Random.NextDouble() < Network.DropRate)
        {
            return;
        }

        var extra = TimeSpan.Zero;
        if (Interfere is { } interfere)
        {
            if (interfere(message) is not { } delay)
            {
                return;
            }

            extra = delay;
        }

        var copies = Random.NextDouble() < Network.DuplicateRate ? 2 : 1;
        for (var i = 0; i < copies; i++)
        {
            var at = Now + Network.NextDelay(Random) + SlowLinks.GetValueOrDefault(message.To) + extra;
            if (Network.Fifo)
            {
                var link = (message.From, message.To);
                at = _lastDelivery.TryGetValue(link, out var previous) && previous > at ? previous : at;
                _lastDelivery[link] = at;
            }

            var carriesEntries = message is AppendEntries { Entries.Count: > 0 };
            if (carriesEntries)
            {
                InFlightAppends[message.To] = InFlightAppends.GetValueOrDefault(message.To) + 1;
                MaxInFlightAppends[message.To] = Math.Max(MaxInFlightAppends.GetValueOrDefault(message.To), InFlightAppends[message.To]);
            }

            Schedule(at, () =>
            {
                if (carriesEntries)
                {
                    InFlightAppends[message.To]--;
                }

                Deliver(message);
            });
        }
    }

    private void Deliver(RaftMessage message)
    {
        var node = Nodes.First(n => n.Id == message.To);
        if (!Connected(message.From, message.To))
        {
            return;
        }

        Touch(node, raft => raft.Step(message));
    }

    private void ScheduleTimer(SimNode node)
    {
        if (node.Raft is not { } raft)
        {
            return;
        }

        var at = raft.NextDeadline;
        if (at >= node.TimerAt && node.TimerAt > Now)
        {
            return;
        }

        node.TimerAt = at;
        var epoch = node.Epoch;
        Schedule(at < Now ? Now : at, () =>
        {
            if (node.Epoch == epoch && node.TimerAt == at)
            {
                node.TimerAt = TimeSpan.MaxValue;
                Touch(node, r => r.AdvanceClock(Now));
            }
        });
    }

    /// <summary>A line for the test's output (set by the test), also kept in the trace.</summary>
    public Action<string>? Output { get; set; }

    public void Log(string line)
    {
        Trace(line);
        Output?.Invoke(line);
    }

    private void Trace(string line)
    {
        _trace.Enqueue($"{Now.TotalMilliseconds,9:F2} {line}");
        if (_trace.Count > 200)
        {
            _trace.Dequeue();
        }
    }
}
