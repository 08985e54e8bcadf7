using Orleans.Patterns.Raft;

namespace Orleans.Patterns.Benchmarks;

/// <summary>
/// A minimal host for a Raft group in one process: messages go through one FIFO queue and are stepped at once, and the
/// logical clock never moves after the election, so no heartbeat or timeout adds work the proposals did not cause.
/// Each Ready is handled in the order <see cref="Ready"/> prescribes: persist, send, apply, advance. Persisting is
/// either an in-memory log (the protocol's cost alone) or an <see cref="IRaftStorage"/> per node, the nodes' batches
/// written concurrently as separate machines would.
/// </summary>
internal sealed class RaftGroupDriver
{
    private readonly RaftNode[] _nodes;
    private readonly Dictionary<NodeId, RaftNode> _byId;
    private readonly MemoryLog[] _memory;
    private readonly IRaftStorage[]? _storage;
    private readonly Queue<RaftMessage> _network = new();
    private readonly long[] _applied;
    private readonly Ready?[] _pending;
    private readonly Task[] _writes;

    /// <param name="size">Number of voters; the first one is made leader.</param>
    /// <param name="options">The same for every replica.</param>
    /// <param name="storage">One per node, already recovered (empty); null keeps the log in memory.</param>
    public RaftGroupDriver(int size, RaftOptions options, IRaftStorage[]? storage = null)
    {
        var ids = Enumerable.Range(1, size).Select(i => new NodeId($"n{i}")).ToArray();
        var config = new ClusterConfig([.. ids], []);
        _nodes = [.. ids.Select((id, i) => new RaftNode(id, config, new RecoveredState(default, null, []), options, new Random(i), TimeSpan.Zero))];
        _byId = _nodes.ToDictionary(node => node.Id);
        _memory = [.. ids.Select(_ => new MemoryLog())];
        _storage = storage;
        _applied = new long[size];
        _pending = new Ready?[size];
        _writes = new Task[size];

        // Only the first node's clock passes its election deadline (at most 2T), so it alone campaigns and wins.
        _nodes[0].AdvanceClock(options.ElectionTimeout * 2);
        if (storage is null)
        {
            Pump();
        }
        else
        {
            // Setup only, on the benchmark's own thread: the votes and the leader's no-op must reach the same disk
            // the measured proposals will extend.
            PumpAsync().GetAwaiter().GetResult();
        }

        if (_nodes[0].Role != RaftRole.Leader)
        {
            throw new InvalidOperationException("no leader after the election");
        }
    }

    public RaftNode Leader => _nodes[0];

    /// <summary>The last index the leader's host has applied.</summary>
    public long LeaderApplied => _applied[0];

    /// <summary>Payload bytes applied by all nodes, so the JIT cannot drop the apply step.</summary>
    public long AppliedBytes { get; private set; }

    /// <summary>Proposes <paramref name="count"/> commands, then runs the group until the leader has applied them all.</summary>
    public void ProposeAndCommit(ReadOnlyMemory<byte> payload, int count)
    {
        var last = Propose(payload, count);
        Pump();
        EnsureApplied(last);
    }

    /// <inheritdoc cref="ProposeAndCommit"/>
    public async Task ProposeAndCommitAsync(ReadOnlyMemory<byte> payload, int count)
    {
        var last = Propose(payload, count);
        await PumpAsync();
        EnsureApplied(last);
    }

    /// <summary>
    /// Drops every node's applied entries, as a host would after a snapshot, so a long benchmark run measures a log of
    /// steady size rather than one that grows by millions of entries. Call only when the group is idle (all applied).
    /// </summary>
    public void Compact()
    {
        for (var i = 0; i < _nodes.Length; i++)
        {
            if (_nodes[i].SnapshotMetadataAt(_applied[i]) is { } metadata)
            {
                _nodes[i].Compact(new Snapshot(metadata, ReadOnlyMemory<byte>.Empty));
                _memory[i].Compact(metadata.Index);
            }
        }
    }

    private long Propose(ReadOnlyMemory<byte> payload, int count)
    {
        long last = 0;
        for (var i = 0; i < count; i++)
        {
            if (Leader.Propose(payload) is not RequestOutcome.Accepted accepted)
            {
                throw new InvalidOperationException("the leader refused a proposal");
            }

            last = accepted.Index;
        }

        return last;
    }

    private void EnsureApplied(long index)
    {
        if (_applied[0] < index)
        {
            throw new InvalidOperationException($"group went idle with the leader applied to {_applied[0]}, short of {index}");
        }
    }

    /// <summary>Runs until no node has a Ready and no message is in flight.</summary>
    private void Pump()
    {
        var busy = true;
        while (busy)
        {
            busy = DeliverAll();
            for (var i = 0; i < _nodes.Length; i++)
            {
                if (_nodes[i].HasReady)
                {
                    var ready = _nodes[i].GetReady();
                    _memory[i].Append(ready.ToPersist);
                    Finish(i, ready);
                    busy = true;
                }
            }
        }
    }

    /// <summary>
    /// As <see cref="Pump"/>, but each round takes every node's Ready first and writes them together: three machines
    /// would fsync at the same time, so the round costs one fsync latency, not three.
    /// </summary>
    private async Task PumpAsync()
    {
        var busy = true;
        while (busy)
        {
            busy = DeliverAll();
            for (var i = 0; i < _nodes.Length; i++)
            {
                _pending[i] = _nodes[i].HasReady ? _nodes[i].GetReady() : null;
                _writes[i] = _pending[i] is { } ready ? _storage![i].PersistAsync(ready.ToPersist, CancellationToken.None) : Task.CompletedTask;
            }

            await Task.WhenAll(_writes);
            for (var i = 0; i < _nodes.Length; i++)
            {
                if (_pending[i] is { } ready)
                {
                    Finish(i, ready);
                    busy = true;
                }
            }
        }
    }

    private bool DeliverAll()
    {
        var delivered = false;
        while (_network.TryDequeue(out var message))
        {
            _byId[message.To].Step(message);
            delivered = true;
        }

        return delivered;
    }

    /// <summary>The steps after persisting: send, apply, advance.</summary>
    private void Finish(int node, Ready ready)
    {
        foreach (var message in ready.Messages)
        {
            _network.Enqueue(message);
        }

        foreach (var entry in ready.CommittedEntries)
        {
            AppliedBytes += entry.Data.Length;
            _applied[node] = entry.Index;
        }

        _nodes[node].Advance(ready);
    }

    /// <summary>A replica's "disk" kept in memory: the entries and hard state it was told to persist, nothing more.</summary>
    private sealed class MemoryLog
    {
        private readonly List<LogEntry> _entries = [];
        private long _snapshotIndex;

        public HardState HardState { get; private set; }

        public void Append(PersistBatch batch)
        {
            if (batch.HardState is { } hardState)
            {
                HardState = hardState;
            }

            if (batch.Entries.Count > 0)
            {
                // An entry at an index already held replaces it and everything after it (PersistBatch's contract).
                var keep = (int)(batch.Entries[0].Index - _snapshotIndex - 1);
                _entries.RemoveRange(keep, _entries.Count - keep);
                _entries.AddRange(batch.Entries);
            }
        }

        public void Compact(long index)
        {
            var drop = (int)Math.Min(_entries.Count, index - _snapshotIndex);
            _entries.RemoveRange(0, drop);
            _snapshotIndex = index;
        }
    }
}
