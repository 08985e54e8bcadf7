using Orleans.Patterns.Coordination;

namespace Orleans.Patterns.Raft;

/// <summary>
/// The leader's gathering of the fronts' coordination batches into shared rounds (<see cref="ProposalGathering{T}"/>,
/// on when <see cref="RaftReplicaOptions.GatherWait"/> is positive): this adapter proposes the rounds it releases,
/// settles a round when this replica has applied through its last entry, and runs the wait's timer.
/// </summary>
internal sealed partial class RaftReplicaGrain
{
    private ProposalGathering<GatheredBatch>? _gathering;
    private IGrainTimer? _gatherTimer;
    private TimeSpan? _gatherTimerDue;

    private const string TakeCoordination = "take the coordination commands";

    // The last log index of the gathered round out; 0: none.
    private long _gatheredRoundEnd;

    private void StartGathering()
    {
        if (_options.GatherWait <= TimeSpan.Zero)
        {
            return;
        }

        _gathering = new ProposalGathering<GatheredBatch>(_options.GatherWait);
        _gatherTimer = this.RegisterGrainTimer(
            static (self, _) => self.OnGatherDeadlineAsync(),
            this,
            new GrainTimerCreationOptions(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan) { Interleave = true, KeepAlive = true });
    }

    /// <summary>How many rounds the gathering released, and the batches they carried (0, 0 when it is off).</summary>
    internal (long Rounds, long Batches) GatheredRounds => _gathering?.Released ?? (0, 0);

    /// <summary>
    /// Proposes a front's commands (<paramref name="origin"/> names the front; null: an anonymous caller) in a round
    /// shared with the other fronts' batches, or on their own when gathering is off; completes with their results, in
    /// order, once all are committed and applied.
    /// </summary>
    private async Task<CoordinationResult[]> ProposeCoordinationAsync(string? origin, byte[][] entries)
    {
        if (_gathering is null)
        {
            return await ProposeManyAsync(entries, _pendingCoordination, TakeCoordination);
        }

        if (_node.Role != RaftRole.Leader)
        {
            throw new NotLeaderException(_name, _node.Leader?.Value); // never held where it cannot be proposed
        }

        var started = timeProvider.GetTimestamp();
        var batch = new GatheredBatch(entries);
        ProposeGathered(_gathering.Offer(origin, batch, Now));
        var done = await batch.Proposed.Task;
        await DrainAsync(); // when this turn released the round; otherwise the releasing turn's drain runs already
        var results = await Task.WhenAll(done);
        _timings.Committed(timeProvider.GetElapsedTime(started));
        return results;
    }

    /// <summary>
    /// Proposes a round the gathering released, all of it in this turn so it shares one Ready (one disk write and one
    /// append per follower); with nothing released, keeps the wait's timer on the gathering's deadline. The caller, or
    /// the Ready loop it runs in, drains.
    /// </summary>
    private void ProposeGathered(IReadOnlyList<GatheredBatch> round)
    {
        if (round.Count == 0)
        {
            ArmGatherTimer();
            return;
        }

        long last = 0;
        foreach (var batch in round)
        {
            try
            {
                var (done, lastIndex) = ProposeEach(batch.Entries, _pendingCoordination, TakeCoordination);
                last = Math.Max(last, lastIndex);
                batch.Proposed.TrySetResult(done);
            }
            catch (Exception e)
            {
                batch.Proposed.TrySetException(e); // refused whole: within one turn the role the first proposal found holds
            }
        }

        if (last == 0)
        {
            // Nothing taken (no longer leader): what is held would be refused too.
            RefuseGathered();
            return;
        }

        _gatheredRoundEnd = last;
        ArmGatherTimer();
        SendAheadOfWrite();
    }

    /// <summary>Called after entries are applied: once the gathered round out is, the next one may be released.</summary>
    private void SettleGatheredRound()
    {
        if (_gatheredRoundEnd == 0 || _state.AppliedIndex < _gatheredRoundEnd)
        {
            return;
        }

        _gatheredRoundEnd = 0;
        ProposeGathered(_gathering!.RoundSettled(Now));
    }

    /// <summary>Leadership lost or the replica stopping: the held batches were never proposed, so their fronts may retry at once.</summary>
    private void RefuseGathered()
    {
        _gatheredRoundEnd = 0;
        if (_gathering is null)
        {
            return;
        }

        foreach (var held in _gathering.Reset())
        {
            held.Proposed.TrySetException(new NotLeaderException(_name, _node.Role == RaftRole.Leader ? null : _node.Leader?.Value));
        }

        ArmGatherTimer();
    }

    private Task OnGatherDeadlineAsync()
    {
        _gatherTimerDue = null;
        if (_gathering is null)
        {
            return Task.CompletedTask;
        }

        ProposeGathered(_gathering.Tick(Now));
        return DrainAsync();
    }

    private void ArmGatherTimer()
    {
        var deadline = _gathering?.Deadline;
        if (deadline == _gatherTimerDue || _gatherTimer is null || _detached)
        {
            return; // unchanged, off, or the activation is stopping (its timers go with it)
        }

        _gatherTimerDue = deadline;
        var due = deadline is { } at ? (at - Now is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero) : Timeout.InfiniteTimeSpan;
        _gatherTimer.Change(due, Timeout.InfiniteTimeSpan);
    }

    /// <summary>A front's batch as the gathering holds it: its entries, and their completions once proposed.</summary>
    private sealed class GatheredBatch(byte[][] entries)
    {
        public byte[][] Entries { get; } = entries;

        public TaskCompletionSource<Task<CoordinationResult>[]> Proposed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
