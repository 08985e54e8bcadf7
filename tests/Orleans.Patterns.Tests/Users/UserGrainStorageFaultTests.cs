using Orleans.Configuration;
using Orleans.Patterns.Users;
using Orleans.TestingHost;

namespace Orleans.Patterns.Tests.Users;

/// <summary>
/// A write the storage rejects must not be acknowledged, and must not linger in the user's memory either: a caller
/// that saw the error may retry, and a lingering change would then be applied twice or leak into later writes.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class UserGrainStorageFaultTests : IAsyncLifetime
{
    private const string InjectedMessage = "injected write fault";

    // The fault grain is keyed by the state name the grain passes to storage: [PersistentState("user", ...)].
    private const string UserStateName = "user";

    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        // One silo is enough: the behaviour is inside the grain. Memory storage copies state through its own
        // grain, so the store never aliases the activation's objects.
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) => silo
            .AddConsistentHashPlacement()
            .AddUserGrains()
            .AddFaultInjectionMemoryStorage(UserHostingExtensions.UserStorageName, (MemoryGrainStorageOptions _) => { }, o => o.Latency = TimeSpan.Zero));
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Theory]
    [InlineData("increment")]
    [InlineData("put")]
    [InlineData("display-name")]
    public async Task A_rejected_write_is_neither_acknowledged_nor_visible(string operation)
    {
        var user = _cluster.Client.GetUser("fault-" + operation);
        Assert.Equal(1, await user.Increment("c", 1));
        var before = await user.GetSnapshot();

        await InjectWriteFaultAsync(user);
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => operation switch
        {
            "increment" => user.Increment("c", 1),
            "put" => user.Put("k", "v"),
            _ => user.SetDisplayName("never"),
        });
        Assert.Contains(InjectedMessage, failure.ToString(), StringComparison.Ordinal);

        var after = await user.GetSnapshot();
        Assert.Equal(before.Counters, after.Counters);
        Assert.Equal(before.Values, after.Values);
        Assert.Equal(before.DisplayName, after.DisplayName);
        Assert.Equal(before.Writes, after.Writes);

        // Once storage recovers, the retried write lands exactly once.
        Assert.Equal(2, await user.Increment("c", 1));
        Assert.Equal(before.Writes + 1, (await user.GetSnapshot()).Writes);
    }

    private async Task InjectWriteFaultAsync(IUserGrain user) =>
        await _cluster.Client.GetGrain<IStorageFaultGrain>(UserStateName)
            .AddFaultOnWrite(user.GetGrainId(), new InvalidOperationException(InjectedMessage));
}
