namespace Orleans.Patterns.Sharding;

/// <summary>
/// Carries the caller's shard-map epoch on a call, in Orleans' request context. A sharded user grain refuses a call
/// whose epoch is older than its silo's (<see cref="StaleShardEpochException"/>) and, when the call's epoch is newer,
/// brings its silo's map up to date before serving it. Calls without an epoch are served as they come.
/// </summary>
public static class ShardEpochContext
{
    /// <summary>The request-context key.</summary>
    public const string Key = "patterns.shard-epoch";

    /// <summary>Sets the epoch for calls made from the current async flow; 0 or less clears it.</summary>
    public static void Set(long epoch)
    {
        if (epoch > 0)
        {
            RequestContext.Set(Key, epoch);
        }
        else
        {
            RequestContext.Remove(Key);
        }
    }

    /// <summary>The epoch carried by the call being served, or null.</summary>
    public static long? Current => RequestContext.Get(Key) is long epoch ? epoch : null;
}
