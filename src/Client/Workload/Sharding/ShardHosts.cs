using Orleans.Patterns.Client.Cluster;
using Orleans.Patterns.Placement;
using Orleans.Patterns.Sharding;

namespace Orleans.Patterns.Client.Workload.Sharding;

/// <summary>One silo's answer to "how is sharding on you?": its report and map, or why there is none.</summary>
/// <param name="Silo">The silo's stable name.</param>
/// <param name="Report">Its report, or null when it did not answer.</param>
/// <param name="Map">Its map, or null when it has none or did not answer.</param>
/// <param name="Error">Why it did not answer (one line), or null.</param>
internal sealed record ShardHostReply(string Silo, ShardHostReport? Report, ShardMapView? Map, string? Error)
{
    public bool Answered => Report is not null;
}

/// <summary>Asks every active silo's <see cref="IShardHostGrain"/> at once.</summary>
internal static class ShardHosts
{
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Each active silo's report (and map, when asked), in name order; a silo that does not answer is a reply with an error.</summary>
    public static async Task<IReadOnlyList<ShardHostReply>> AskAllAsync(IGrainFactory grains, bool withMaps, CancellationToken cancellationToken)
    {
        var silos = await grains.GetActiveSiloNamesAsync().WaitAsync(cancellationToken);
        return await Task.WhenAll(silos.Select(silo => AskAsync(grains, silo, withMaps, cancellationToken)));
    }

    private static async Task<ShardHostReply> AskAsync(IGrainFactory grains, string silo, bool withMaps, CancellationToken cancellationToken)
    {
        try
        {
            var host = grains.GetPinnedGrain<IShardHostGrain>(silo);
            var report = host.GetReport().WaitAsync(CallTimeout, cancellationToken);
            var map = withMaps ? host.GetMap().WaitAsync(CallTimeout, cancellationToken) : Task.FromResult<ShardMapView?>(null);
            return new ShardHostReply(silo, await report, await map, null);
        }
        catch (Exception e) when (e is OrleansException or TimeoutException or ArgumentException)
        {
            // ArgumentException: the cluster has no implementation of the shard host (silos without sharding).
            return new ShardHostReply(silo, null, null, ClusterConnection.FirstLine(e.Message));
        }
    }
}
