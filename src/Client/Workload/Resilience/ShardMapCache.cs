using Orleans.Patterns.Placement;
using Orleans.Patterns.Sharding;

namespace Orleans.Patterns.Client.Workload.Resilience;

/// <summary>
/// The client's copy of the shard map, used to find the silo that owns a user (the key of that silo's circuit) and the
/// epoch to send with each call. An epoch learned from a refusal is adopted at once, and the map of that epoch fetched
/// from the silos in the background of the retry, one fetch at a time however many calls learned it together.
/// </summary>
internal sealed class ShardMapCache(Func<CancellationToken, Task<ShardMapView?>> fetch, ResilienceCounters? counters = null)
{
    /// <summary>The circuit key used while the client has no map: every user then shares one circuit.</summary>
    public const string NoMapOwner = "(no shard map)";

    private readonly Lock _lock = new();
    private volatile Known _known = new(null, 0);
    private Task? _refresh;

    /// <summary>The latest map the client has, or null before the first fetch answered with one.</summary>
    public ShardMap? Map => _known.Map;

    /// <summary>The newest epoch the client knows of: its map's, or a newer one a silo named in a refusal.</summary>
    public long Epoch => _known.Epoch;

    /// <summary>The silo that owns <paramref name="userId"/> in the client's map, or <see cref="NoMapOwner"/>.</summary>
    public string OwnerOf(string userId) => _known.Map?.OwnerOf(userId) ?? NoMapOwner;

    /// <summary>A cache that fetches from every active silo's shard host and keeps the newest map among the answers.</summary>
    public static ShardMapCache FromCluster(IGrainFactory grains, ResilienceCounters? counters = null) =>
        new(cancellationToken => FetchNewestAsync(grains, cancellationToken), counters);

    /// <summary>Adopts <paramref name="epoch"/> if it is newer than the known one and, if the map is older, refreshes it.</summary>
    public async Task AdoptAsync(long epoch, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (epoch > _known.Epoch)
            {
                _known = _known with { Epoch = epoch };
            }
        }

        if ((_known.Map?.Epoch ?? 0) < epoch)
        {
            await RefreshAsync(cancellationToken);
        }
    }

    /// <summary>Fetches the map unless a fetch is already under way, and waits for that one.</summary>
    public Task RefreshAsync(CancellationToken cancellationToken)
    {
        Task refresh;
        lock (_lock)
        {
            if (_refresh is null || _refresh.IsCompleted)
            {
                // Not bound to one caller's token: the fetch serves every caller waiting on it.
                _refresh = FetchAndPublishAsync();
            }

            refresh = _refresh;
        }

        return refresh.WaitAsync(cancellationToken);
    }

    /// <summary>Installs <paramref name="map"/> if it is newer than the current one (also how tests seed the cache).</summary>
    public void Publish(ShardMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        lock (_lock)
        {
            if (_known.Map is null || map.Epoch > _known.Map.Epoch)
            {
                _known = new Known(map, Math.Max(map.Epoch, _known.Epoch));
            }
        }
    }

    private async Task FetchAndPublishAsync()
    {
        counters?.MapRefresh();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            if (await fetch(timeout.Token) is { } view)
            {
                Publish(ShardMapCodec.Decode(view.Encoded));
            }
        }
        catch (Exception e) when (e is OrleansException or TimeoutException or OperationCanceledException or FormatException or ArgumentException)
        {
            // The epoch is adopted already; calls go on with the old map (their circuit key may be the old owner) and
            // the next refusal fetches again.
        }
    }

    private static async Task<ShardMapView?> FetchNewestAsync(IGrainFactory grains, CancellationToken cancellationToken)
    {
        var silos = await grains.GetActiveSiloNamesAsync().WaitAsync(cancellationToken);
        var views = await Task.WhenAll(silos.Select(async silo =>
        {
            try
            {
                return await grains.GetPinnedGrain<IShardHostGrain>(silo).GetMap().WaitAsync(cancellationToken);
            }
            catch (Exception e) when (e is OrleansException or TimeoutException or ArgumentException)
            {
                // That silo cannot say (ArgumentException: no shard host in the cluster at all); another one may.
                return null;
            }
        }));
        return views.OfType<ShardMapView>().MaxBy(v => v.Epoch);
    }

    private sealed record Known(ShardMap? Map, long Epoch);
}
