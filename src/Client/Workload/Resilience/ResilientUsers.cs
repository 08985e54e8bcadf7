using Orleans.Patterns.Client.Cluster;
using Orleans.Patterns.Users;

namespace Orleans.Patterns.Client.Workload.Resilience;

/// <summary>
/// Sharded user grains (<see cref="UserPlacement.Sharded"/>) called through <see cref="UserCallPipeline"/>: each call carries
/// the client's shard-map epoch, is retried as its operation allows, and goes through the circuit of the silo that owns the
/// user.
/// </summary>
internal sealed class ResilientUsers(IGrainFactory grains, UserCallPipeline pipeline, UserPlacement placement = UserPlacement.Sharded)
{
    public UserCallPipeline Pipeline => pipeline;

    /// <summary>Sharded users of a connected cluster, with a shard map fetched from its silos and the client's telemetry.</summary>
    public static async Task<ResilientUsers> ConnectAsync(ClusterConnection cluster, CancellationToken cancellationToken, UserCallPipelineOptions? options = null)
    {
        var counters = new ResilienceCounters();
        var maps = ShardMapCache.FromCluster(cluster.Client, counters);
        await maps.RefreshAsync(cancellationToken);
        return new ResilientUsers(cluster.Client, new UserCallPipeline(maps, counters, options, cluster.ResilienceTelemetry()));
    }

    public ResilienceTotals Totals => pipeline.Counters.Snapshot();

    /// <summary>
    /// Increments exactly once: the operation id is drawn once, before the first attempt, and every retry carries it, so
    /// a retry after an unknown outcome (a timeout, a silo that left mid-call) is answered, not applied again.
    /// </summary>
    public Task<long> IncrementAsync(string userId, string counter, long delta, CancellationToken cancellationToken)
    {
        var operationId = Guid.NewGuid();
        return pipeline.ExecuteAsync(userId, UserOperation.IncrementOnce, () => User(userId).IncrementOnce(counter, delta, operationId), cancellationToken);
    }

    public Task PutAsync(string userId, string key, string value, CancellationToken cancellationToken) =>
        pipeline.ExecuteAsync(userId, UserOperation.Put, async () =>
        {
            await User(userId).Put(key, value);
            return true;
        }, cancellationToken);

    public Task<string?> GetAsync(string userId, string key, CancellationToken cancellationToken) =>
        pipeline.ExecuteAsync(userId, UserOperation.Get, () => User(userId).Get(key), cancellationToken);

    public Task SetDisplayNameAsync(string userId, string displayName, CancellationToken cancellationToken) =>
        pipeline.ExecuteAsync(userId, UserOperation.SetDisplayName, async () =>
        {
            await User(userId).SetDisplayName(displayName);
            return true;
        }, cancellationToken);

    public Task<UserSnapshot> GetSnapshotAsync(string userId, CancellationToken cancellationToken) =>
        pipeline.ExecuteAsync(userId, UserOperation.GetSnapshot, () => User(userId).GetSnapshot(), cancellationToken);

    private IUserGrain User(string userId) => grains.GetUser(userId, placement);
}
