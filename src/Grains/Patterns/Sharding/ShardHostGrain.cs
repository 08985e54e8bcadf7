using Orleans.Concurrency;
using Orleans.Patterns.Placement;

namespace Orleans.Patterns.Sharding;

/// <summary>The sharding agent of its silo, as a grain callers can reach: a thin read-only view of the agent and registry.</summary>
[SiloPinnedPlacement, Reentrant]
internal sealed class ShardHostGrain(ShardMapAgent agent, LocalShardRegistry registry, ILocalSiloDetails localSilo)
    : Grain, IShardHostGrain
{
    private const int HotShardsReported = 10;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        SiloPinnedActivation.EnsureOnOwnSilo(this, localSilo.Name);
        return Task.CompletedTask;
    }

    public Task<ShardHostReport> GetReport()
    {
        var state = agent.State;
        var rates = registry.Rates(agent.LoadWindow);
        var hot = Enumerable.Range(0, rates.Length)
            .Where(s => rates[s] > 0 || registry.ActiveIn(s) > 0)
            .OrderByDescending(s => rates[s]).ThenBy(s => s)
            .Take(HotShardsReported)
            .Select(s => new ShardLoad(s, registry.ActiveIn(s), rates[s]))
            .ToList();
        return Task.FromResult(new ShardHostReport(
            localSilo.Name,
            state?.Map.Epoch ?? 0,
            state?.Source ?? "none",
            state?.Map.ShardCountOf(localSilo.Name) ?? 0,
            registry.ActiveUsers,
            agent.MisplacedUsers,
            rates.Sum(),
            agent.HandOffsPending,
            agent.HandOffsDone,
            agent.UsersMoved,
            hot,
            state?.Map.Splits.Count ?? 0));
    }

    public Task<double[]> GetShardLoads() => Task.FromResult(registry.Rates(agent.LoadWindow));

    public Task<ShardMapView?> GetMap() =>
        Task.FromResult(agent.State is { } state ? new ShardMapView(state.Map.Epoch, state.Source, state.Encoded) : null);
}
