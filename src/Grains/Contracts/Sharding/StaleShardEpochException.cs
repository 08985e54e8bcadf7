namespace Orleans.Patterns.Sharding;

/// <summary>
/// A call carried a shard-map epoch older than the one the serving silo routes by: the caller's view of who owns what
/// is out of date. Nothing was done; the caller adopts <see cref="CurrentEpoch"/> and retries.
/// </summary>
[GenerateSerializer, Alias("patterns.sharding.stale-epoch")]
public sealed class StaleShardEpochException : OrleansException
{
    /// <summary>Creates the exception for a call made in <paramref name="callerEpoch"/> to a silo in <paramref name="currentEpoch"/>.</summary>
    public StaleShardEpochException(long callerEpoch, long currentEpoch, string grainId)
        : base($"stale shard-map epoch: the call to {grainId} carried epoch {callerEpoch}, the silo routes by epoch {currentEpoch}; retry with {currentEpoch}")
    {
        CallerEpoch = callerEpoch;
        CurrentEpoch = currentEpoch;
    }

    /// <summary>The epoch the call carried.</summary>
    [Id(0)]
    public long CallerEpoch { get; private set; }

    /// <summary>The epoch of the silo that refused it.</summary>
    [Id(1)]
    public long CurrentEpoch { get; private set; }
}
