using Orleans.Patterns.Coordination;

namespace Orleans.Patterns.Raft;

/// <summary>
/// The coordination store on the replica: writes through the log (<see cref="Coordinate"/>), reads where they are
/// correct (<see cref="Query"/>, <see cref="Watch"/>), and the leader's lease clock.
/// </summary>
internal sealed partial class RaftReplicaGrain
{
    private static readonly TimeSpan LeaseCheckInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxWatchWait = TimeSpan.FromSeconds(30);

    // Keep-alives this replica answered as leader and has not yet written to the log, for its current term only.
    private LeaseRenewals _renewals = new(0);

    // The housekeeping command at _housekeepingIndex, so its effect on the renewals is settled when it applies.
    private ICoordinationWrite? _housekeeping;

    private LeaseRenewals Renewals => _renewals.Term == _node.Term ? _renewals : _renewals = new LeaseRenewals(_node.Term);

    public async Task<byte[]> Coordinate(byte[] command)
    {
        ArgumentNullException.ThrowIfNull(command);
        return CoordinationWire.EncodeResult((await ProposeCoordinationAsync(null, [ToEntry(command, "")]))[0]);
    }

    public async Task<CoordinationBatchResult> CoordinateBatch(CoordinationBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);

        // Every command is checked before any is proposed: a batch with a bad command is refused whole, naming it.
        var entries = new byte[batch.Commands.Count][];
        for (var i = 0; i < entries.Length; i++)
        {
            entries[i] = ToEntry(batch.Commands[i] ?? throw new ArgumentException($"Replica {_name}: command {i} of the batch is missing.", nameof(batch)), $" (command {i} of the batch)");
        }

        var results = await ProposeCoordinationAsync(batch.Origin, entries);
        return new CoordinationBatchResult([.. results.Select(CoordinationWire.EncodeResult)]);
    }

    /// <summary>A client's encoded command as a log entry, stamped with the leader's clock where the store needs it.</summary>
    private byte[] ToEntry(byte[] command, string where)
    {
        CoordinationCommand decoded;
        try
        {
            decoded = CoordinationCommand.Decode(command);
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"Replica {_name} got a malformed coordination command{where}: {e.Message}", nameof(command));
        }

        // Lease deadlines run on the leader's clock, so the leader stamps the time; the clock commands are its alone.
        // (A keep-alive sent as a command still works, through the log, as it did before RenewLease.)
        var request = decoded.Request switch
        {
            LeaseGrantRequest grant => grant with { NowMillis = NowMillis },
            LeaseKeepAliveRequest keepAlive => keepAlive with { NowMillis = NowMillis },
            ExpireLeasesRequest or PromoteLeasesRequest or RefreshLeasesRequest => throw new ArgumentException(
                $"Replica {_name}: {decoded.Request.GetType().Name}{where} is decided by the leader's clock and cannot be sent by a client.", nameof(command)),
            var other => other,
        };

        // Most commands (puts, deletes, txns) carry nothing of the leader's: the client's bytes, checked, are the entry.
        return ReferenceEquals(request, decoded.Request)
            ? CoordinationWire.ToEntry(command)
            : CoordinationWire.ToEntry(decoded with { Request = request });
    }

    /// <summary>
    /// A keep-alive without a log entry (etcd's lessor renews on the leader): ReadIndex first, so a deposed leader never
    /// acknowledges a renewal its successor's promote would not cover; then the renewal is remembered until
    /// housekeeping writes it, with others, in one refresh.
    /// </summary>
    public async Task<LeaseRenewal> RenewLease(long leaseId) => (LeaseRenewal)await ReadLinearizableAsync(() =>
    {
        if (_node.Role != RaftRole.Leader)
        {
            // Confirmed, then deposed before this replica applied through the read: let the caller find the new leader.
            throw new NotLeaderException(_name, _node.Leader?.Value);
        }

        var store = _state.Coordination.Store;
        return new LeaseRenewal(store.Revision, leaseId, Renewals.Renew(leaseId, store.LeaseDeadlineOf(leaseId), NowMillis));
    });

    public async Task<byte[]> Query(byte[] query)
    {
        var decoded = DecodeQuery(query);
        if (decoded is CoordinationQuery.Watch or CoordinationQuery.Range { Request.Serializable: true })
        {
            return Answer(decoded); // from what this replica applied: a prefix of the log, possibly behind the leader
        }

        return (byte[])await ReadLinearizableAsync(() => Answer(decoded));
    }

    public async Task<byte[]> Watch(byte[] query, TimeSpan maxWait)
    {
        if (DecodeQuery(query) is not CoordinationQuery.Watch { Request: var request })
        {
            throw new ArgumentException($"Replica {_name}: Watch takes a watch query.", nameof(query));
        }

        if (request.StartRevision <= 0)
        {
            request = request with { StartRevision = _state.Coordination.Store.Revision + 1 }; // "from now", fixed once
        }

        var wait = maxWait < TimeSpan.Zero ? TimeSpan.Zero : maxWait > MaxWatchWait ? MaxWatchWait : maxWait;
        var deadline = Now + wait;
        while (true)
        {
            var answer = AnswerWatch(request, out var events);
            var left = deadline - Now;
            if (events > 0 || left <= TimeSpan.Zero)
            {
                return answer;
            }

            await _applied.Task.WaitAsync(left, timeProvider).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        }
    }

    /// <summary>
    /// A leader's housekeeping, each tick: on taking office, extend every lease on its own clock (etcd's promote, so
    /// a lease never expires early for the time no leader watched it); compact history past the retention; when a
    /// lease is past its deadline, first write the keep-alives it answered that the expiry would contradict (one
    /// refresh for all of them), then expire. One such command at a time, each through the log, so every replica
    /// removes the same keys and history at the same revision.
    /// </summary>
    private void DriveLeaderHousekeeping()
    {
        if (_node.Role != RaftRole.Leader || _housekeepingIndex != 0)
        {
            return;
        }

        var store = _state.Coordination.Store;
        ICoordinationWrite? command = null;
        if (_leasesPromotedTerm != _node.Term)
        {
            command = new PromoteLeasesRequest(NowMillis);
        }
        else if (_options.CoordinationRetention > 0 && store.Revision - store.CompactRevision >= 2 * _options.CoordinationRetention)
        {
            command = new CompactionRequest(store.Revision - _options.CoordinationRetention);
        }
        else if (Now >= _nextLeaseCheck)
        {
            _nextLeaseCheck = Now + LeaseCheckInterval;
            if (store.NextLeaseDeadlineMillis is { } next && next <= NowMillis)
            {
                command = Renewals.NextLeaseCommand(store.LeaseDeadlineOf, NowMillis);
                if (command is RefreshLeasesRequest)
                {
                    _nextLeaseCheck = Now; // the overdue leases nobody renewed expire as soon as the refresh applies
                }
            }
        }

        // No session: a clock command is idempotent, and a sequence number would not survive a leader change.
        if (command is not null && _node.Propose(CoordinationWire.ToEntry(new CoordinationCommand("", 0, command))) is RequestOutcome.Accepted accepted)
        {
            _housekeepingIndex = accepted.Index;
            _housekeeping = command;
            Renewals.Proposed(command);
        }
    }

    /// <summary>Called for each applied entry: once the housekeeping command in flight applies (or is overtaken), the next may go.</summary>
    private void SettleHousekeeping(LogEntry entry)
    {
        if (_housekeepingIndex == 0 || entry.Index < _housekeepingIndex)
        {
            return;
        }

        if (entry.Index == _housekeepingIndex && entry.Term == _renewals.Term && _housekeeping is { } command)
        {
            _renewals.Applied(command);
        }

        _housekeepingIndex = 0;
        _housekeeping = null;
    }

    /// <summary>A leader that loses office forgets the keep-alives it has not written: its successor's promote covers them.</summary>
    private void DropLeaseRenewals() => _renewals = new LeaseRenewals(_renewals.Term);

    private CoordinationQuery DecodeQuery(byte[] query)
    {
        ArgumentNullException.ThrowIfNull(query);
        try
        {
            return CoordinationWire.DecodeQuery(query);
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"Replica {_name} got a malformed coordination query: {e.Message}", nameof(query));
        }
    }

    private byte[] Answer(CoordinationQuery query)
    {
        var store = _state.Coordination.Store;
        try
        {
            ICoordinationResponse response = query switch
            {
                CoordinationQuery.Range range => store.Range(range.Request),
                CoordinationQuery.Watch watch => store.Watch(watch.Request),
                CoordinationQuery.TimeToLive ttl => ClampToTtl(Renewals.WithRenewals(store.LeaseTimeToLive(new LeaseTimeToLiveRequest(ttl.LeaseId, NowMillis) { Keys = ttl.Keys }), NowMillis)),
                CoordinationQuery.Leases => store.LeaseLeases(),
                _ => throw new ArgumentException($"Unknown coordination query {query.GetType().Name}."),
            };
            return CoordinationWire.EncodeAnswer(response, null);
        }
        catch (CoordinationException refused)
        {
            return CoordinationWire.EncodeAnswer(null, refused.Error);
        }
    }

    private byte[] AnswerWatch(WatchRequest request, out int events)
    {
        try
        {
            var response = _state.Coordination.Store.Watch(request);
            events = response.Events.Count;
            return CoordinationWire.EncodeAnswer(response, null);
        }
        catch (CoordinationException refused)
        {
            events = -1;
            return CoordinationWire.EncodeAnswer(null, refused.Error);
        }
    }

    // Until this leader's promote applies, deadlines may still be on the previous leader's clock: never report more
    // than the lease's TTL.
    private static LeaseTimeToLiveResponse ClampToTtl(LeaseTimeToLiveResponse response) =>
        response.TTL > response.GrantedTTL ? response with { TTL = response.GrantedTTL } : response;

    /// <summary>A read confirmed by ReadIndex, served once this replica has applied through the read's index.</summary>
    private sealed class PendingRead(Func<object> serve)
    {
        public TaskCompletionSource<object> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Serve()
        {
            try
            {
                Done.TrySetResult(serve());
            }
            catch (Exception e)
            {
                Done.TrySetException(e);
            }
        }
    }
}
