using Orleans.Concurrency;

namespace Orleans.Patterns.Sharding;

/// <summary>
/// The sharding agent of one silo, pinned to it and keyed by the silo's stable name: which shard-map epoch the silo
/// runs, the shards it owns, the users active on it per shard, their load, and the hand-offs it still has to make.
/// Read-only: the map itself is agreed elsewhere (through the Raft log, or from membership).
/// </summary>
public interface IShardHostGrain : IGrainWithStringKey
{
    /// <summary>This silo's view of sharding, as of the call.</summary>
    [AlwaysInterleave]
    Task<ShardHostReport> GetReport();

    /// <summary>The shard map this silo currently routes by, or null before it has one.</summary>
    [AlwaysInterleave]
    Task<ShardMapView?> GetMap();

    /// <summary>
    /// Operations per second on this silo's users, per shard (index = shard), over the last load window. The proposer
    /// sums these over the silos to find hot shards.
    /// </summary>
    [AlwaysInterleave]
    Task<double[]> GetShardLoads();
}

/// <summary>One silo's sharding state.</summary>
/// <param name="Silo">The silo's stable name.</param>
/// <param name="Epoch">The epoch of the map it routes by; 0 before it has one.</param>
/// <param name="Source">Where that map came from: <c>raft</c> (committed through the Raft log) or <c>membership</c> (derived locally from the active silos).</param>
/// <param name="OwnedShards">Shards this silo owns in that epoch.</param>
/// <param name="ActiveUsers">User grains active on this silo.</param>
/// <param name="MisplacedUsers">Active users whose shard another silo owns: hand-offs not yet made.</param>
/// <param name="OpsPerSecond">User operations per second served here, over the last load window.</param>
/// <param name="HandOffsPending">Shards this silo still has to hand off (their users not yet moved).</param>
/// <param name="HandOffsDone">Shards handed off since the silo started.</param>
/// <param name="UsersMoved">User grains this silo has sent to their new owner since it started.</param>
/// <param name="HotShards">The busiest shards served here, busiest first.</param>
/// <param name="SplitShards">Shards split in this epoch (part of their users served by another silo).</param>
[GenerateSerializer, Immutable, Alias("patterns.sharding.host-report")]
public sealed record ShardHostReport(
    [property: Id(0)] string Silo,
    [property: Id(1)] long Epoch,
    [property: Id(2)] string Source,
    [property: Id(3)] int OwnedShards,
    [property: Id(4)] int ActiveUsers,
    [property: Id(5)] int MisplacedUsers,
    [property: Id(6)] double OpsPerSecond,
    [property: Id(7)] int HandOffsPending,
    [property: Id(8)] long HandOffsDone,
    [property: Id(9)] long UsersMoved,
    [property: Id(10)] IReadOnlyList<ShardLoad> HotShards,
    [property: Id(11)] int SplitShards);

/// <summary>The load of one shard on one silo.</summary>
/// <param name="Shard">The shard number.</param>
/// <param name="ActiveUsers">Its users active on the reporting silo.</param>
/// <param name="OpsPerSecond">Operations per second on its users there, over the last load window.</param>
[GenerateSerializer, Immutable, Alias("patterns.sharding.shard-load")]
public sealed record ShardLoad(
    [property: Id(0)] int Shard,
    [property: Id(1)] int ActiveUsers,
    [property: Id(2)] double OpsPerSecond);

/// <summary>A shard map as it travels between processes.</summary>
/// <param name="Epoch">The map's version.</param>
/// <param name="Source">Where it came from (<c>raft</c> or <c>membership</c>).</param>
/// <param name="Encoded">The map in the shard-map codec's text form (see <c>ShardMapCodec</c> in the core).</param>
[GenerateSerializer, Immutable, Alias("patterns.sharding.map-view")]
public sealed record ShardMapView(
    [property: Id(0)] long Epoch,
    [property: Id(1)] string Source,
    [property: Id(2)] string Encoded);
