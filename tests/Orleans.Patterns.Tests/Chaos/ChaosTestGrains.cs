using Orleans.Patterns.Placement;

namespace Orleans.Patterns.Tests.Chaos;

/// <summary>A test-only pinned grain per silo that calls its peers on other silos, so chaos rules have traffic to act on.</summary>
public interface IChaosEchoGrain : IGrainWithStringKey
{
    /// <summary>The name of the silo that answered.</summary>
    Task<string> Echo();

    /// <summary>Calls <see cref="Echo"/> on the echo grain of <paramref name="peerSilo"/> and returns its answer.</summary>
    Task<string> CallPeer(string peerSilo);

    /// <summary>Calls <see cref="Increment"/> on the echo grain of <paramref name="peerSilo"/>.</summary>
    Task<int> IncrementPeer(string peerSilo);

    Task<int> Increment();

    /// <summary>Asks Orleans' management grain for the active silos, from inside the silo.</summary>
    Task<int> CountActiveSilos();
}

[SiloPinnedPlacement]
public sealed class ChaosEchoGrain(ILocalSiloDetails silo) : Grain, IChaosEchoGrain
{
    private int _count;

    public Task<string> Echo() => Task.FromResult(silo.Name);

    public Task<string> CallPeer(string peerSilo) => GrainFactory.GetPinnedGrain<IChaosEchoGrain>(peerSilo).Echo();

    public Task<int> IncrementPeer(string peerSilo) => GrainFactory.GetPinnedGrain<IChaosEchoGrain>(peerSilo).Increment();

    public Task<int> Increment() => Task.FromResult(++_count);

    public async Task<int> CountActiveSilos() =>
        (await GrainFactory.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Count;
}
