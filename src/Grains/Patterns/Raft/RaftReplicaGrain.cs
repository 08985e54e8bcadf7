using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Orleans.Patterns.Coordination;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Patterns.Gossip;
using Orleans.Patterns.Placement;
using Orleans.Patterns.Raft.KeyValue;
using Orleans.Patterns.Raft.Membership;
using Orleans.Patterns.Raft.Storage;
using Orleans.Patterns.Raft.Transport;
using Orleans.Patterns.Telemetry;

namespace Orleans.Patterns.Raft;

/// <summary>
/// The thin adapter between the Raft core and Orleans: owns the replica's identity (its silo's name), its durable
/// storage, its timer and its calls; every protocol decision is <see cref="RaftNode"/>'s.
/// </summary>
/// <remarks>
/// Reentrant on purpose: a write waits for its commit, and the commit needs this grain to keep taking peers'
/// messages meanwhile. What keeps that safe: the core is only touched between awaits (one turn at a time), and
/// <see cref="DrainAsync"/> lets exactly one loop own the Ready cycle, so a Ready is persisted, sent, applied and
/// advanced in order even though other turns run while it waits for the disk.
/// </remarks>
[SiloPinnedPlacement, Reentrant, CollectionAgeLimit(AlwaysActive = true)]
internal sealed partial class RaftReplicaGrain(
    IOptions<RaftReplicaOptions> options,
    ILocalSiloDetails localSilo,
    IClusterMembershipService membership,
    TimeProvider timeProvider,
    IServiceProvider services,
    PatternsMetrics metrics,
    ILogger<RaftReplicaGrain> logger) : Grain, IRaftReplicaGrain
{
    private readonly RaftReplicaOptions _options = options.Value;
    private readonly Dictionary<long, (long Term, TaskCompletionSource<KvWriteResult> Done)> _pendingWrites = [];
    private readonly Dictionary<long, (long Term, TaskCompletionSource<CoordinationResult> Done)> _pendingCoordination = [];
    private readonly Dictionary<long, PendingRead> _pendingReads = [];
    private readonly List<(long Index, PendingRead Read)> _readsAwaitingApply = [];
    private readonly Dictionary<long, (long Term, TaskCompletionSource<bool> Done)> _pendingConfigChanges = [];
    private readonly ClusterHostObserver _hosts = new();
    private readonly RaftPeerTransport? _transport = services.GetService(typeof(RaftPeerTransport)) as RaftPeerTransport;
    private bool _detached;
    private long _sentThroughOrleans;
    private long _receivedThroughOrleans;

    // The write path's stages (the orleans_patterns.raft.* histograms and GetWritePathLatency): appends this leader sent, answered by each
    // follower's acknowledgement; appends this follower received, answered by its own acknowledgement.
    private readonly AppendTimer _replicationTimer = new(timeProvider);
    private readonly AppendTimer _appendTimer = new(timeProvider);
    private long _timedTerm;
    private RaftWritePathTimings _timings = null!;

    // Present when the silo also runs gossip membership: its verdicts count as well as Orleans' (a hung silo).
    private readonly LocalGossipVerdicts? _gossip = services.GetService(typeof(LocalGossipVerdicts)) as LocalGossipVerdicts;
    private ReplicaSetPlanner? _planner;
    private ReplicaSetAction? _lastPlan;
    private RaftNode _node = null!;
    private FileRaftStorage _storage = null!;
    private ReplicaStateMachines _state = new();

    // Completed (and replaced) whenever entries are applied: what a waiting watch poll wakes on.
    private TaskCompletionSource _applied = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // A leader's housekeeping: the term whose leases this replica extended on taking office, and the index of the
    // housekeeping command (lease promote or expiry, history compaction) it has in flight, if any.
    private long _leasesPromotedTerm = -1;
    private long _housekeepingIndex;
    private TimeSpan _nextLeaseCheck;
    private string _name = "";
    private long _startTimestamp;
    private long _nextReadId;
    private long _snapshotIndex;
    private bool _draining;
    private RaftRole _lastRole = RaftRole.Follower;

    private TimeSpan Now => timeProvider.GetElapsedTime(_startTimestamp);

    // The leader's lease clock: monotonic within this activation; a new leader re-bases every lease on its own clock.
    private long NowMillis => (long)Now.TotalMilliseconds;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _name = this.GetPrimaryKeyString();
        SiloPinnedActivation.EnsureOnOwnSilo(this, localSilo.Name);
        _startTimestamp = timeProvider.GetTimestamp();
        var timings = _timings = new RaftWritePathTimings(_name, metrics);
        _storage = new FileRaftStorage(
            Path.Combine(_options.DataDirectory, "raft", _name),
            new FileRaftStorageOptions
            {
                Synced = timings.LogSynced,
                Time = timeProvider,

                // The Ready loop waits for each synced write before it goes on, so its turn may as well do the write:
                // no hand-off to the writer thread and back, which cost two thread wake-ups per write. One replica of
                // the process at a time (CallerWriteGate.Process): where a process hosts many, the rest hand over.
                WriteOnCallerWhenIdle = true,
            });
        var recovered = _storage.Recover();
        foreach (var warning in _storage.LastRecovery.Warnings)
        {
            LogRecoveryWarning(_name, warning.ToString()!);
        }

        if (recovered.Snapshot is { } snapshot)
        {
            _state = ReplicaStateMachines.Restore(snapshot.Data.Span);
            _snapshotIndex = snapshot.Metadata.Index;
        }

        // Every replica bootstraps with the same initial configuration, its own name on it or not: it is the
        // configuration in force before any configuration entry, which a snapshot taken before this replica was
        // added must record truthfully. A replica not on it is no voter, so it never campaigns; it waits for a leader's
        // AppendEntries (whose one-way delivery activates it here) and learns later configurations from the log.
        var voters = _options.InitialVoters.Select(v => new NodeId(v)).ToImmutableSortedSet();
        _node = new RaftNode(
            new NodeId(_name),
            new ClusterConfig(voters, []),
            recovered,
            new RaftOptions
            {
                ElectionTimeout = _options.ElectionTimeout,
                HeartbeatInterval = _options.HeartbeatInterval,
                LeaseReads = _options.LeaseReads,
                LeaseDuration = _options.LeaseDuration,
            },
            new Random(),
            Now);
        LogStarted(_name, recovered.HardState.Term, recovered.Entries.Count, _snapshotIndex);

        // Interleave: the tick must run while a write awaits its commit. KeepAlive: a replica is never idle.
        this.RegisterGrainTimer(
            static (self, _) => self.OnTickAsync(),
            this,
            new GrainTimerCreationOptions(_options.TickInterval, _options.TickInterval) { Interleave = true, KeepAlive = true });
        if (_options.FollowClusterMembership)
        {
            _planner = new ReplicaSetPlanner(new ReplicaSetPlannerOptions
            {
                RemovalGracePeriod = _options.RemovalGracePeriod,
                MinimumVoters = _options.EffectiveMinimumVoters,
                CatchUpLag = _options.CatchUpLag,
            });

            // Polling the membership snapshot rather than consuming MembershipUpdates: a missed update costs one
            // interval, and the planner needs the elapsed time anyway (the grace period), so it must run on a clock.
            this.RegisterGrainTimer(
                static (self, _) => self.FollowMembershipAsync(),
                this,
                new GrainTimerCreationOptions(TimeSpan.Zero, _options.MembershipCheckInterval) { Interleave = true, KeepAlive = true });
        }

        StartGathering();
        _transport?.Attach(_name, GrainContext, DeliverFromPeer);
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _detached = true;
        _transport?.Detach(GrainContext);
        FailPending(new OutcomeUnknownException($"Replica {_name} deactivated ({reason.Description}) with the write in flight."));
        await _storage.DisposeAsync();
    }

    public Task Deliver(byte[] message)
    {
        _receivedThroughOrleans++;
        return Receive(message);
    }

    private Task Receive(byte[] message)
    {
        // The clock first: a follower records the leader's contact at the time it hears from it, not at the last tick,
        // or its promise not to elect anyone else would end sooner than the leader's lease counts on.
        _node.AdvanceClock(Now);
        var decoded = RaftMessageCodec.Decode(message);
        TimeArrival(decoded);
        _node.Step(decoded);
        if (_draining)
        {
            // A Ready is out, waiting for the disk: apply what this message committed now, not after that write.
            Apply(_node.TakeStableCommitted());
            ServeReads();
        }

        return DrainAsync();
    }

    // A frame from the peer transport, run as a turn of this activation; one that was queued before this activation
    // started to deactivate finds it detached and is dropped, as a message to a stopping silo is.
    private Task DeliverFromPeer(byte[] message) => _detached ? Task.CompletedTask : Receive(message);

    public Task<string?> GetPeerEndpoint() => Task.FromResult(_transport?.Endpoint);

    public Task<RaftPeerTransportStatus> GetPeerTransportStatus() => Task.FromResult(new RaftPeerTransportStatus(
        _name,
        _transport?.Endpoint is null ? "orleans" : "tcp",
        _transport?.Endpoint,
        _sentThroughOrleans,
        _receivedThroughOrleans,
        _transport?.Peers() ?? []));

    public async Task<KvWriteResult> Write(KvWrite write)
    {
        ArgumentNullException.ThrowIfNull(write);
        return (await ProposeManyAsync([ToEntry(write)], _pendingWrites, "take the write"))[0];
    }

    public async Task<KvWriteBatchResult> WriteBatch(KvWriteBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var entries = new byte[batch.Writes.Count][];
        for (var i = 0; i < entries.Length; i++)
        {
            entries[i] = ToEntry(batch.Writes[i] ?? throw new ArgumentException($"Replica {_name}: write {i} of the batch is missing.", nameof(batch)));
        }

        return new KvWriteBatchResult(await ProposeManyAsync(entries, _pendingWrites, "take the writes"));
    }

    private static byte[] ToEntry(KvWrite write) =>
        new KvCommand(write.ClientId, write.Sequence, (KvOperation)write.Kind, write.Key, write.Value, write.Expected).Encode();

    public async Task<KvReadResult> Read(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return (KvReadResult)await ReadLinearizableAsync(() => new KvReadResult(_state.Kv.Get(key), _state.AppliedIndex));
    }

    public Task<RaftReplicaStatus> GetStatus() => Task.FromResult(new RaftReplicaStatus(
        _name,
        _node.Role.ToString(),
        _node.Term,
        _node.Leader?.Value,
        _node.CommitIndex,
        _state.AppliedIndex,
        _node.FirstIndex,
        _node.LastIndex,
        _snapshotIndex,
        [.. _node.Config.Voters.Select(v => v.Value)],
        [.. _node.Config.Learners.Select(l => l.Value)],
        DiskBytes(),
        _node.LeaseRemaining?.TotalMilliseconds));

    // The snapshot encoding is deterministic (keys and sessions in ordinal order), so equal states hash equally.
    public Task<RaftStateDigest> GetStateDigest() => Task.FromResult(new RaftStateDigest(
        _name,
        _state.AppliedIndex,
        _state.Kv.Count,
        _state.Digest()));

    public async Task TransferLeadership(string target)
    {
        ArgumentException.ThrowIfNullOrEmpty(target);
        Accept(_node.TransferLeadership(new NodeId(target)), $"hand leadership to {target}");
        await DrainAsync();
    }

    public async Task<RaftReplicaStatus> AddMember(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var node = new NodeId(name);
        var outcome = _node.Config.Learners.Contains(node) ? _node.PromoteToVoter(node) : _node.AddLearner(node);
        await CommitConfigChangeAsync(outcome, $"add {name}");
        return await GetStatus();
    }

    public async Task<RaftReplicaStatus> RemoveMember(string name, bool force)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var node = new NodeId(name);
        var minimum = _options.EffectiveMinimumVoters;
        if (!force && _node.Role == RaftRole.Leader && _node.Config.Voters.Contains(node) && _node.Config.Voters.Count - 1 < minimum)
        {
            throw new InvalidOperationException(
                $"Removing {name} would leave {_node.Config.Voters.Count - 1} voters, below raft:minimum_voters ({minimum}); pass force to do it anyway.");
        }

        await CommitConfigChangeAsync(_node.RemoveNode(node), $"remove {name}");
        return await GetStatus();
    }

    public Task<RaftWritePathLatency> GetWritePathLatency() =>
        Task.FromResult(new RaftWritePathLatency(_name, _node.Role.ToString(), _timings.Snapshot(), GatheredRounds.Rounds, GatheredRounds.Batches));

    public Task<RaftMembershipStatus> GetMembershipStatus() => Task.FromResult(new RaftMembershipStatus(
        _name,
        _planner is not null,
        [.. _hosts.Hosts.OrderBy(h => h.Key).Select(h => $"{h.Key} {h.Value.Liveness} since {h.Value.Since}")],
        _lastPlan?.Kind.ToString(),
        _lastPlan?.Node?.Value,
        _lastPlan?.Reason));

    private async Task CommitConfigChangeAsync(RequestOutcome outcome, string what)
    {
        var accepted = Accept(outcome, what);
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pendingConfigChanges[accepted.Index] = (accepted.Term, done);
        LogOperatorChange(_name, what, accepted.Index);
        await DrainAsync();
        await done.Task;
    }

    /// <summary>The core's answer to a request, or the refusal as the exception a caller acts on.</summary>
    private RequestOutcome.Accepted Accept(RequestOutcome outcome, string what) => outcome switch
    {
        RequestOutcome.Accepted accepted => accepted,
        RequestOutcome.NotLeader notLeader => throw new NotLeaderException(_name, notLeader.LeaderHint?.Value),
        // No hint: the transferee does not lead yet, so the caller pauses and asks around rather than bounce between the two.
        RequestOutcome.Transferring transferring => throw new NotLeaderException(
            _name, null, $"Replica {_name} is handing leadership to {transferring.Transferee.Value} and takes no requests until that ends; retry shortly."),
        RequestOutcome.Rejected rejected => throw new InvalidOperationException($"Replica {_name} cannot {what} now: {rejected.Reason}"),
        _ => throw new InvalidOperationException($"Replica {_name}: unknown outcome {outcome} for '{what}'."),
    };

    /// <summary>
    /// Proposes commands in one turn, so they share one Ready (one disk write, one AppendEntries per follower);
    /// completes with their results, in order, once all are committed and applied (see <see cref="Apply"/>). All or
    /// none are taken: within one turn nothing changes the role the first proposal found.
    /// </summary>
    private async Task<T[]> ProposeManyAsync<T>(IReadOnlyList<byte[]> entries, Dictionary<long, (long Term, TaskCompletionSource<T> Done)> pending, string what)
    {
        var started = timeProvider.GetTimestamp();
        var (done, _) = ProposeEach(entries, pending, what);
        SendAheadOfWrite();
        await DrainAsync();
        var results = await Task.WhenAll(done);
        _timings.Committed(timeProvider.GetElapsedTime(started));
        return results;
    }

    /// <summary>
    /// Proposes each entry, registering its completion in <paramref name="pending"/>; returns the completions in order
    /// and the last entry's index. All or none are taken: within one turn nothing changes the role the first found.
    /// </summary>
    private (Task<T>[] Done, long LastIndex) ProposeEach<T>(IReadOnlyList<byte[]> entries, Dictionary<long, (long Term, TaskCompletionSource<T> Done)> pending, string what)
    {
        var done = new Task<T>[entries.Count];
        long last = 0;
        for (var i = 0; i < entries.Count; i++)
        {
            var accepted = Accept(_node.Propose(entries[i]), what);
            var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
            pending[accepted.Index] = (accepted.Term, completion);
            done[i] = completion.Task;
            last = accepted.Index;
        }

        return (done, last);
    }

    /// <summary>While a Ready is out, waiting for the disk: what was just proposed travels to the followers now, not after that write.</summary>
    private void SendAheadOfWrite()
    {
        if (_draining)
        {
            Send(_node.TakeAppendsBeforePersist());
        }
    }

    /// <summary>A ReadIndex read (thesis §6.4): <paramref name="serve"/> runs once this replica applied through the confirmed index.</summary>
    private async Task<object> ReadLinearizableAsync(Func<object> serve)
    {
        var id = ++_nextReadId;
        _node.AdvanceClock(Now); // a lease is judged by the time now, not by the last tick's
        Accept(_node.ReadIndex(id), "serve the read");
        var read = new PendingRead(serve);
        _pendingReads[id] = read;
        await DrainAsync();
        return await read.Done.Task;
    }

    /// <summary>
    /// Observes the cluster on every replica (so a new leader already knows since when a silo is dead), and on the
    /// leader asks the planner for the next single change (thesis §4.1) and proposes it. A change the core refuses now
    /// (the previous one not committed yet) is simply planned again on the next round.
    /// </summary>
    private Task FollowMembershipAsync()
    {
        _hosts.Observe(membership.CurrentSnapshot.Members.Values, Now, _gossip?.Dead);
        if (_planner is null || _node.Role != RaftRole.Leader)
        {
            _lastPlan = null;
            return Task.CompletedTask;
        }

        var config = _node.Config;
        var match = new Dictionary<NodeId, long>();
        foreach (var learner in config.Learners)
        {
            if (_node.MatchIndexOf(learner) is { } index)
            {
                match[learner] = index;
            }
        }

        var plan = _planner.Plan(new ReplicaSetView(config, _node.Id, _hosts.Hosts, match, _node.LastIndex, Now));
        if (plan != _lastPlan)
        {
            LogPlan(_name, plan.Kind.ToString(), plan.Node?.Value, plan.Reason);
        }

        _lastPlan = plan;
        var outcome = plan.Kind switch
        {
            ReplicaSetActionKind.AddLearner => _node.AddLearner(plan.Node!.Value),
            ReplicaSetActionKind.PromoteToVoter => _node.PromoteToVoter(plan.Node!.Value),
            ReplicaSetActionKind.RemoveNode => _node.RemoveNode(plan.Node!.Value),
            _ => null,
        };
        var deferred = outcome switch
        {
            RequestOutcome.Rejected rejected => rejected.Reason,
            RequestOutcome.Transferring transferring => $"leadership transfer to {transferring.Transferee.Value} in progress",
            _ => null,
        };
        if (deferred is not null)
        {
            LogPlanDeferred(_name, plan.Kind.ToString(), plan.Node?.Value, deferred);
        }

        return outcome is RequestOutcome.Accepted ? DrainAsync() : Task.CompletedTask;
    }

    private Task OnTickAsync()
    {
        _node.AdvanceClock(Now);
        DriveLeaderHousekeeping();
        return DrainAsync();
    }

    /// <summary>
    /// The Ready cycle (see <see cref="Ready"/>): persist, then send, then apply and serve reads, then advance; sending
    /// and applying move ahead of the disk write when the Ready says they promise nothing it holds.
    /// </summary>
    private async Task DrainAsync()
    {
        if (_draining)
        {
            return; // the running loop picks up whatever this turn added
        }

        _draining = true;
        try
        {
            while (_node.HasReady)
            {
                var ready = _node.GetReady();
                if (ready.SendBeforePersist)
                {
                    Send(ready.Messages); // a leader's appends travel while its own disk write runs (thesis §10.2.1)
                }

                if (ready.ApplyBeforePersist)
                {
                    ApplyAndServe(ready); // committed earlier, already on this disk: answer clients during the write
                }

                if (!ready.ToPersist.IsEmpty)
                {
                    // Timed from the hand-over to the log, whether or not the write completes before PersistAsync returns.
                    var started = timeProvider.GetTimestamp();
                    var persisted = _storage.PersistAsync(ready.ToPersist, CancellationToken.None);
                    if (ready.ToPersist.MustSync)
                    {
                        await persisted;
                        _timings.Persisted(timeProvider.GetElapsedTime(started));
                    }
                    else
                    {
                        // A commit index alone: written behind the log's queue, never waited for (PersistBatch.MustSync).
                        // A failure still surfaces, at the next write that must be synced.
                        _ = persisted.ContinueWith(
                            static (task, state) => ((RaftReplicaGrain)state!).LogUnsyncedWriteFailed(task.Exception!, ((RaftReplicaGrain)state!)._name),
                            this,
                            CancellationToken.None,
                            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
                            TaskScheduler.Default);
                    }
                }

                if (ready.ToPersist.Snapshot is { } installed)
                {
                    _state = ReplicaStateMachines.Restore(installed.Data.Span);
                    SignalApplied();
                    _snapshotIndex = installed.Metadata.Index;
                }

                if (!ready.SendBeforePersist)
                {
                    Send(ready.Messages);
                }

                if (!ready.ApplyBeforePersist)
                {
                    ApplyAndServe(ready);
                }

                if (ready.SoftState is { } soft)
                {
                    OnSoftState(soft);
                }

                _node.Advance(ready);
                await CompactIfDueAsync();
            }
        }
        finally
        {
            _draining = false;
        }
    }

    /// <summary>Applies the Ready's committed entries, then serves the reads it confirmed and fails those it dropped.</summary>
    private void ApplyAndServe(Ready ready)
    {
        Apply(ready.CommittedEntries);
        foreach (var read in ready.ReadStates)
        {
            if (_pendingReads.Remove(read.RequestId, out var pending))
            {
                _readsAwaitingApply.Add((read.Index, pending));
            }
        }

        foreach (var dropped in ready.DroppedReads)
        {
            // The leader lost office before confirming these reads: they were never served, so the client
            // may retry them at once wherever the leader is now.
            if (_pendingReads.Remove(dropped, out var pending))
            {
                pending.Done.TrySetException(new NotLeaderException(_name, _node.Leader?.Value));
            }
        }

        ServeReads();
    }

    private void Send(IReadOnlyList<RaftMessage> messages)
    {
        foreach (var message in messages)
        {
            TimeDeparture(message);
            var encoded = RaftMessageCodec.Encode(message);
            if (_transport?.TrySend(message.To.Value, encoded) == true)
            {
                continue;
            }

            _sentThroughOrleans++;
            try
            {
                // One-way: the call returns at once; a lost message is Raft's ordinary case and is retried by the protocol.
                _ = GrainFactory.GetGrain<IRaftReplicaGrain>(message.To.Value).Deliver(encoded);
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
                LogSendFailed(e, _name, message.To.Value);
            }
        }
    }

    private void Apply(IReadOnlyList<LogEntry> entries)
    {
        var applied = false;
        foreach (var entry in entries)
        {
            if (entry.Index <= _state.AppliedIndex)
            {
                continue; // covered by a snapshot restored after this entry was handed out
            }

            var outcome = _state.Apply(entry);
            applied = true;
            SettleHousekeeping(entry);

            if (outcome is CoordinationResult { Response: PromoteLeasesResponse } && entry.Term == _node.Term && _node.Role == RaftRole.Leader)
            {
                _leasesPromotedTerm = entry.Term; // proposed by this leader: its leases now run on its clock
            }

            if (_pendingCoordination.Remove(entry.Index, out var coordination))
            {
                if (coordination.Term == entry.Term && outcome is CoordinationResult coordinationResult)
                {
                    coordination.Done.TrySetResult(coordinationResult);
                }
                else
                {
                    coordination.Done.TrySetException(new OutcomeUnknownException(
                        $"The coordination command proposed at index {entry.Index} in term {coordination.Term} was replaced by term {entry.Term}; retry it."));
                }
            }

            var result = outcome as KvResult;
            if (_pendingConfigChanges.Remove(entry.Index, out var change))
            {
                if (change.Term == entry.Term)
                {
                    change.Done.TrySetResult(true);
                }
                else
                {
                    change.Done.TrySetException(new OutcomeUnknownException(
                        $"The configuration change proposed at index {entry.Index} in term {change.Term} was replaced by term {entry.Term}; check the configuration and retry."));
                }
            }

            if (_pendingWrites.Remove(entry.Index, out var pending))
            {
                if (pending.Term == entry.Term && result is not null)
                {
                    pending.Done.TrySetResult(new KvWriteResult(result.Applied, result.Previous, entry.Index));
                }
                else
                {
                    // Another leader's entry took this index: ours was never committed here, but a retry may be.
                    pending.Done.TrySetException(new OutcomeUnknownException(
                        $"The write proposed at index {entry.Index} in term {pending.Term} was replaced by term {entry.Term}; retry it."));
                }
            }
        }

        if (applied)
        {
            SignalApplied();
            SettleGatheredRound();
        }
    }

    private void SignalApplied()
    {
        var applied = _applied;
        _applied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        applied.TrySetResult();
    }

    private void ServeReads()
    {
        for (var i = _readsAwaitingApply.Count - 1; i >= 0; i--)
        {
            var (index, read) = _readsAwaitingApply[i];
            if (index <= _state.AppliedIndex)
            {
                read.Serve();
                _readsAwaitingApply.RemoveAt(i);
            }
        }
    }

    private void OnSoftState(SoftState soft)
    {
        if (soft.Role != _lastRole || soft.Term != _timedTerm)
        {
            // Open appends of another term or role may never be answered, or be answered for a different log.
            _replicationTimer.Clear();
            _appendTimer.Clear();
            _timedTerm = soft.Term;
        }

        if (soft.Role != _lastRole)
        {
            LogRoleChanged(_name, _lastRole.ToString(), soft.Role.ToString(), soft.Term, soft.Leader?.Value);
            _timings.RoleChanged();
        }

        if (_lastRole == RaftRole.Leader && soft.Role != RaftRole.Leader)
        {
            FailPending(new OutcomeUnknownException($"Replica {_name} lost leadership in term {soft.Term} with the request in flight; retry it."));
        }

        _lastRole = soft.Role;
    }

    /// <summary>Starts timing a follower's append, or closes a leader's replication timings its answer covers.</summary>
    private void TimeArrival(RaftMessage message)
    {
        switch (message)
        {
            case AppendEntries { Entries.Count: > 0 } append:
                _appendTimer.Start(append.From.Value, append.PrevLogIndex + append.Entries.Count);
                break;
            case AppendEntriesResponse { Success: true } answer:
                _replicationTimer.Covered(
                    answer.From.Value, answer.MatchIndex, (this, answer.From.Value),
                    static (state, elapsed) => state.Item1.OnReplicated(state.Item2, elapsed));
                break;
            default:
                break;
        }
    }

    /// <summary>Starts timing a leader's replication to a follower, or closes a follower's append timings its answer covers.</summary>
    private void TimeDeparture(RaftMessage message)
    {
        switch (message)
        {
            case AppendEntries { Entries.Count: > 0 } append:
                _replicationTimer.Start(append.To.Value, append.PrevLogIndex + append.Entries.Count);
                break;
            case AppendEntriesResponse { Success: true } answer:
                _appendTimer.Covered(
                    answer.To.Value, answer.MatchIndex, this,
                    static (self, elapsed) => self.OnAppended(elapsed));
                break;
            default:
                break;
        }
    }

    private void OnReplicated(string peer, TimeSpan elapsed) => _timings.Replicated(peer, elapsed);

    private void OnAppended(TimeSpan elapsed) => _timings.Appended(elapsed);

    private void FailPending(Exception error)
    {
        foreach (var (_, (_, done)) in _pendingWrites)
        {
            done.TrySetException(error);
        }

        foreach (var (_, (_, done)) in _pendingCoordination)
        {
            done.TrySetException(error);
        }

        foreach (var (_, read) in _pendingReads)
        {
            read.Done.TrySetException(error);
        }

        foreach (var (_, read) in _readsAwaitingApply)
        {
            read.Done.TrySetException(error);
        }

        _pendingCoordination.Clear();
        RefuseGathered();
        _housekeepingIndex = 0;
        DropLeaseRenewals();

        foreach (var (_, (_, done)) in _pendingConfigChanges)
        {
            done.TrySetException(error);
        }

        _pendingConfigChanges.Clear();

        _pendingWrites.Clear();
        _pendingReads.Clear();
        _readsAwaitingApply.Clear();
    }

    private async Task CompactIfDueAsync()
    {
        if (_state.AppliedIndex - _snapshotIndex < _options.SnapshotEveryEntries)
        {
            return;
        }

        if (_node.SnapshotMetadataAt(_state.AppliedIndex) is not { } metadata)
        {
            return; // the log is already compacted past what this replica applied (a leader's snapshot was installed)
        }

        // Timed: the Ready loop waits for both parts, so a large state shows here as a pause in the replica's rounds.
        var started = timeProvider.GetTimestamp();
        var snapshot = new Snapshot(metadata, _state.TakeSnapshot());
        var taken = timeProvider.GetElapsedTime(started);
        await _storage.CompactAsync(snapshot, CancellationToken.None);
        _node.Compact(snapshot);
        _snapshotIndex = snapshot.Metadata.Index;
        LogCompacted(_name, _snapshotIndex, snapshot.Data.Length, taken.TotalMilliseconds, timeProvider.GetElapsedTime(started).TotalMilliseconds);
    }

    // The log's and snapshots' bytes: the files' lengths, less the end of the active segment extended ahead of writes.
    private long DiskBytes()
    {
        var directory = new DirectoryInfo(_storage.Directory);
        return directory.Exists ? Math.Max(0, directory.EnumerateFiles().Sum(f => f.Length) - _storage.ReservedBytes) : 0;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Raft replica {Node} started: term {Term}, {Entries} entries after snapshot {SnapshotIndex}")]
    private partial void LogStarted(string node, long term, int entries, long snapshotIndex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Raft replica {Node} recovery: {Warning}")]
    private partial void LogRecoveryWarning(string node, string warning);

    [LoggerMessage(Level = LogLevel.Information, Message = "Raft replica {Node}: {From} -> {To} in term {Term}, leader {Leader}")]
    private partial void LogRoleChanged(string node, string from, string to, long term, string? leader);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Raft replica {Node}: writing the commit index failed; the next synced write will fail too")]
    private partial void LogUnsyncedWriteFailed(Exception exception, string node);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Raft replica {Node}: could not send to {Peer}")]
    private partial void LogSendFailed(Exception exception, string node, string peer);

    [LoggerMessage(Level = LogLevel.Information, Message = "Raft replica {Node} membership plan: {Action} {Target} ({Reason})")]
    private partial void LogPlan(string node, string action, string? target, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Raft replica {Node} membership plan {Action} {Target} deferred: {Reason}")]
    private partial void LogPlanDeferred(string node, string action, string? target, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Raft replica {Node}: operator asked to {Change}, configuration entry {Index}")]
    private partial void LogOperatorChange(string node, string change, long index);

    [LoggerMessage(Level = LogLevel.Information, Message = "Raft replica {Node}: compacted the log through index {Index} (snapshot {Bytes} B, taken in {TakeMs:0.0} ms, written and the log cut in {TotalMs:0.0} ms in all)")]
    private partial void LogCompacted(string node, long index, int bytes, double takeMs, double totalMs);
}
