using Orleans.Patterns.Telemetry;
using Orleans.Patterns.Users;
using Orleans.Runtime.Placement;

namespace Orleans.Patterns.Sharding;

/// <summary>
/// Users placed by the shard map. Every call is checked against the silo's epoch first: a call made with an older
/// map is refused (<see cref="StaleShardEpochException"/>, nothing done), a call made with a newer one brings the
/// silo's map up to date. A user that finds itself on a silo that no longer owns its shard serves the call, then
/// moves to the owner with its state; Orleans keeps one activation per user throughout, so no two silos ever write
/// the same user.
/// </summary>
[GrainType(UserGrainTypes.Sharded), ShardedPlacement]
internal sealed class ShardedUserGrain(
    [PersistentState("user", UserHostingExtensions.UserStorageName)] IPersistentState<UserState> state,
    ILocalSiloDetails localSilo,
    TimeProvider timeProvider,
    PatternsMetrics metrics,
    ShardMapAgent agent,
    LocalShardRegistry registry)
    : UserGrainBase(state, localSilo, timeProvider, metrics), IIncomingGrainCallFilter
{
    private ulong _hash;
    private int _shard;
    private LocalShardRegistry.ActiveUser? _entry;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await base.OnActivateAsync(cancellationToken);
        _hash = ShardMap.HashUserId(this.GetPrimaryKeyString());
        _shard = ShardMap.ShardOfHash(_hash, registry.ShardCount);
        _entry = new LocalShardRegistry.ActiveUser(this.GetGrainId(), _hash, _shard, GrainContext, Time.GetTimestamp());
        registry.Register(_entry);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        registry.Unregister(this.GetGrainId(), GrainContext);
        return base.OnDeactivateAsync(reason, cancellationToken);
    }

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        var map = agent.Current;

        // Epochs are comparable across silos only when one log orders them; maps derived from membership are not.
        if (ShardEpochContext.Current is { } callerEpoch && agent.EpochsAgreed)
        {
            if (map is null || callerEpoch > map.Epoch)
            {
                map = await agent.RefreshAsync(callerEpoch);
            }

            if (map is not null && callerEpoch < map.Epoch)
            {
                throw new StaleShardEpochException(callerEpoch, map.Epoch, this.GetGrainId().ToString());
            }
        }

        await context.Invoke();
        registry.CountOperation(_shard);
        if (map is not null && _entry is { IsMoving: false })
        {
            MoveIfMisplaced(map);
        }
    }

    private void MoveIfMisplaced(ShardMap map)
    {
        var owner = map.OwnerOfHash(_hash);
        if (string.Equals(owner, agent.LocalName, StringComparison.Ordinal) || !agent.MayHandOff || agent.Stopping.IsCancellationRequested
            || !_entry!.HasResided(Time, agent.MinimumResidence) || agent.AddressOf(owner) is not { } target || !_entry.TryStartMove())
        {
            return; // a user that just arrived stays a moment (ShardingOptions.MinimumResidence); a later call or round moves it
        }

        // After this call completes; calls queued behind it follow the grain to its new silo. A silo that starts
        // to stop while the move is still queued cancels it (ShardMapAgent.Stopping) rather than wait for it.
        GrainContext.Migrate(new Dictionary<string, object> { [IPlacementDirector.PlacementHintKey] = target }, agent.Stopping);
    }
}
