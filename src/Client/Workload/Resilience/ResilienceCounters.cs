namespace Orleans.Patterns.Client.Workload.Resilience;

/// <summary>What the resilience of user calls did during a run, as plain numbers for the workload summary.</summary>
/// <param name="Retries">Calls made again after a retryable failure (stale epochs included).</param>
/// <param name="StaleEpochs">Calls refused for a stale shard-map epoch, after which the client adopted the silo's epoch.</param>
/// <param name="MapRefreshes">Shard maps fetched from the silos because the client's was older than an epoch it learned.</param>
/// <param name="CircuitsOpened">Times a silo's circuit opened.</param>
/// <param name="Rejected">Calls not made because their silo's circuit was open.</param>
/// <param name="UnknownOutcomes">Non-idempotent calls that failed with an unknown outcome and were not retried.</param>
internal sealed record ResilienceTotals(long Retries, long StaleEpochs, long MapRefreshes, long CircuitsOpened, long Rejected, long UnknownOutcomes)
{
    public static ResilienceTotals None { get; } = new(0, 0, 0, 0, 0, 0);

    public override string ToString() =>
        $"{Retries} retries, {StaleEpochs} stale epochs ({MapRefreshes} map refreshes), {CircuitsOpened} circuits opened, {Rejected} rejected by an open circuit, {UnknownOutcomes} unknown outcomes";
}

/// <summary>Thread-safe counters behind <see cref="ResilienceTotals"/>.</summary>
internal sealed class ResilienceCounters
{
    private long _retries;
    private long _staleEpochs;
    private long _mapRefreshes;
    private long _circuitsOpened;
    private long _rejected;
    private long _unknownOutcomes;

    public void Retry() => Interlocked.Increment(ref _retries);

    public void StaleEpoch() => Interlocked.Increment(ref _staleEpochs);

    public void MapRefresh() => Interlocked.Increment(ref _mapRefreshes);

    public void CircuitOpened() => Interlocked.Increment(ref _circuitsOpened);

    public void Rejection() => Interlocked.Increment(ref _rejected);

    public void UnknownOutcome() => Interlocked.Increment(ref _unknownOutcomes);

    public ResilienceTotals Snapshot() => new(
        Interlocked.Read(ref _retries), Interlocked.Read(ref _staleEpochs), Interlocked.Read(ref _mapRefreshes),
        Interlocked.Read(ref _circuitsOpened), Interlocked.Read(ref _rejected), Interlocked.Read(ref _unknownOutcomes));
}
