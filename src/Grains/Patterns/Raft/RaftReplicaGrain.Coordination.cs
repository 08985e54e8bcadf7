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

    public async Task<byte[]> Coordinate(byte[] command)
    {
        ArgumentNullException.ThrowIfNull(command);
        return CoordinationWire.EncodeResult((await ProposeManyAsync([ToEntry(command, "")], _pendingCoordination, "take the coordination command"))[0]);
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

        var results = await ProposeManyAsync(entries, _pendingCoordination, "take the coordination commands");
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
        var request = decoded.Request switch
        {
            LeaseGrantRequest grant => grant with { NowMillis = NowMillis },
            LeaseKeepAliveRequest keepAlive => keepAlive with { NowMillis = NowMillis },
            ExpireLeasesRequest or PromoteLeasesRequest => throw new ArgumentException(
                $"Replica {_name}: {decoded.Request.GetType().Name}{where} is decided by the leader's clock and cannot be sent by a client.", nameof(command)),
            var other => other,
        };
        return CoordinationWire.ToEntry(decoded with { Request = request });
    }

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
    /// a lease never expires early for the time no leader watched it); compact history past the retention; expire the
    /// leases past their deadline. One such command at a time, each through the log, so every replica removes the
    /// same keys and history at the same revision.
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
                command = new ExpireLeasesRequest(NowMillis);
            }
        }

        // No session: a clock command is idempotent, and a sequence number would not survive a leader change.
        if (command is not null && _node.Propose(CoordinationWire.ToEntry(new CoordinationCommand("", 0, command))) is RequestOutcome.Accepted accepted)
        {
            _housekeepingIndex = accepted.Index;
        }
    }

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
                CoordinationQuery.TimeToLive ttl => ClampToTtl(store.LeaseTimeToLive(new LeaseTimeToLiveRequest(ttl.LeaseId, NowMillis) { Keys = ttl.Keys })),
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
