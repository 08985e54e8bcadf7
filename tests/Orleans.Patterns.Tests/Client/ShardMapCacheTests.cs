using Orleans.Patterns.Client.Workload.Resilience;
using Orleans.Patterns.Sharding;

namespace Orleans.Patterns.Tests.Client;

/// <summary>The client's shard map: epochs adopted from refusals, one fetch however many callers learn of one.</summary>
[Trait("Category", "Unit")]
public sealed class ShardMapCacheTests
{
    [Fact]
    public async Task Callers_learning_a_new_epoch_together_share_one_fetch()
    {
        var fetches = 0;
        var answer = new TaskCompletionSource<ShardMapView?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var counters = new ResilienceCounters();
        var cache = new ShardMapCache(_ =>
        {
            Interlocked.Increment(ref fetches);
            return answer.Task;
        }, counters);
        cache.Publish(Map(4));

        var adopting = Enumerable.Range(0, 20).Select(_ => cache.AdoptAsync(5, CancellationToken.None)).ToList();
        Assert.Equal(5, cache.Epoch);
        Assert.Equal(4, cache.Map!.Epoch);
        answer.SetResult(new ShardMapView(5, "raft", ShardMapCodec.Encode(Map(5))));
        await Task.WhenAll(adopting);

        Assert.Equal(1, fetches);
        Assert.Equal(1, counters.Snapshot().MapRefreshes);
        Assert.Equal(5, cache.Map!.Epoch);
    }

    [Fact]
    public async Task An_older_epoch_or_map_changes_nothing_and_a_failed_fetch_keeps_the_adopted_epoch()
    {
        var cache = new ShardMapCache(_ => throw new TimeoutException("no silo answered"));
        cache.Publish(Map(4));

        await cache.AdoptAsync(3, CancellationToken.None);
        cache.Publish(Map(2));
        Assert.Equal((4L, 4L), (cache.Epoch, cache.Map!.Epoch));

        await cache.AdoptAsync(6, CancellationToken.None);
        Assert.Equal((6L, 4L), (cache.Epoch, cache.Map!.Epoch));
    }

    [Fact]
    public void Without_a_map_every_user_shares_one_circuit_key_and_no_epoch_is_sent()
    {
        var cache = new ShardMapCache(_ => Task.FromResult<ShardMapView?>(null));

        Assert.Equal(ShardMapCache.NoMapOwner, cache.OwnerOf("alice"));
        Assert.Equal(0, cache.Epoch);
        ShardEpochContext.Set(cache.Epoch);
        Assert.Null(ShardEpochContext.Current);
    }

    private static ShardMap Map(long epoch) => new(epoch, ["silo-a", "silo-b"], ["silo-a", "silo-b", "silo-a", "silo-b"]);
}
